"""Scoring with more than one look: distorted views of each image, and ensembles of networks."""

import dataclasses

import numpy as np
import pytest

from bench import test_time as bench_test_time
from siamese_utils import evaluate, model, profiles, test_time
from siamese_utils.recipe import recipe_for
from siamese_utils.seeding import set_seed


@pytest.fixture(scope="module")
def trials(evaluation):
    return evaluate.paper_protocol_trials(evaluation, num_trials=40, seed=3)


def untrained_network(seed: int):
    set_seed(seed)
    return model.siamese_network(
        **profiles.get_profile("smoke").network_kwargs()
    )


@pytest.fixture(scope="module")
def networks():
    return [untrained_network(seed) for seed in (1, 2)]


def test_view_zero_is_the_image_and_the_other_views_are_seeded_distortions(
    trials,
):
    views = test_time.distorted_views(trials.images[:5], views=3, seed=7)
    assert views.shape == (5, 4, *trials.images.shape[1:])
    np.testing.assert_allclose(views[:, 0], trials.images[:5], atol=1 / 255)
    assert not np.allclose(views[:, 1], views[:, 0], atol=1 / 255)
    again = test_time.distorted_views(trials.images[:5], views=3, seed=7)
    np.testing.assert_array_equal(views, again)


@pytest.mark.parametrize("views", [0, -2, 1.5])
def test_a_view_count_below_one_is_refused_with_the_way_out(trials, views):
    with pytest.raises(ValueError, match="siamese_scores"):
        test_time.distorted_views(trials.images[:2], views=views)


def test_view_scores_average_the_undistorted_and_the_distorted_pairs(
    trials, networks
):
    network = networks[0]
    averaged = test_time.view_scores(network, trials, views=2, seed=5)
    assert averaged.shape == (len(trials), trials.n_way)
    # The same mean, computed by hand: each view's images scored as their own trials.
    pool = test_time.distorted_views(trials.images, views=2, seed=5)
    by_view = [
        evaluate.siamese_scores(
            network, dataclass_with_images(trials, pool[:, look])
        )
        for look in range(3)
    ]
    np.testing.assert_allclose(
        averaged, np.mean(by_view, axis=0), rtol=1e-4, atol=1e-4
    )
    plain = evaluate.siamese_scores(network, trials)
    np.testing.assert_allclose(by_view[0], plain, rtol=1e-4, atol=1e-4)


def dataclass_with_images(trials, images):
    return dataclasses.replace(trials, images=np.ascontiguousarray(images))


def test_an_ensemble_of_one_network_scores_as_that_network(trials, networks):
    alone = evaluate.siamese_scores(networks[0], trials)
    np.testing.assert_allclose(
        test_time.ensemble_scores(networks[:1], trials), alone, rtol=1e-6
    )


def test_an_ensemble_scores_the_mean_of_its_members(trials, networks):
    members = [evaluate.siamese_scores(n, trials) for n in networks]
    np.testing.assert_allclose(
        test_time.ensemble_scores(networks, trials),
        np.mean(members, axis=0),
        rtol=1e-6,
    )
    assert not np.allclose(members[0], members[1])


def test_an_ensemble_with_views_averages_each_members_view_scores(
    trials, networks
):
    by_member = [test_time.view_scores(n, trials, views=2) for n in networks]
    both = test_time.ensemble_scores(networks, trials, views=2)
    np.testing.assert_allclose(
        both, np.mean(by_member, axis=0), rtol=1e-6, atol=1e-6
    )
    assert not np.allclose(both, test_time.ensemble_scores(networks, trials))


def test_an_empty_ensemble_is_refused(trials):
    with pytest.raises(ValueError, match="at least one trained network"):
        test_time.ensemble_scores([], trials)


def test_agreement_counts_the_members_right_on_each_trial_and_the_ensembles_answer(
    trials,
):
    right = np.zeros((len(trials), trials.n_way))
    right[np.arange(len(trials)), trials.answers] = 1.0
    wrong = np.roll(right, 1, axis=1)
    # Two members right and one wrong on every trial: the mean follows the two,
    # except on the first trial, where the wrong member is sure enough to outvote them.
    loud = wrong.copy()
    loud[0] *= 5.0
    table = test_time.agreement([right, right, loud], trials)
    assert table == [[0, 0], [0, 0], [len(trials), len(trials) - 1], [0, 0]]
    # One member right, one wrong, each as sure: the tie is broken at random, so the
    # ensemble's count lies between none and all of the trials.
    (none, one, two) = test_time.agreement([right, wrong], trials)
    assert none == [0, 0] and two == [0, 0] and one[0] == len(trials)
    assert 0 < one[1] < len(trials)


@pytest.mark.parametrize("members", [[], [np.zeros((3, 20))]])
def test_agreement_refuses_scores_that_do_not_fit_the_trials(trials, members):
    with pytest.raises(ValueError, match="one row per trial"):
        test_time.agreement(members, trials)


def test_accuracy_counts_the_trials_whose_answer_scores_highest(trials):
    scores = np.zeros((len(trials), trials.n_way))
    scores[np.arange(len(trials)), trials.answers] = 1.0
    assert test_time.accuracy(scores, trials) == 1.0
    scores[0] = 0.0
    scores[0, (trials.answers[0] + 1) % trials.n_way] = 1.0
    assert test_time.accuracy(scores, trials) == pytest.approx(
        1 - 1 / len(trials)
    )


def reduced_rows(turns: int = 0, plain: int = 0):
    """Seed 5's rows for an ensemble of two reduced networks (one untrained network twice,
    each trained in 2 s; ``plain`` more for the mixed levers), scored with one view, and
    the reduced profile."""
    from siamese_utils import mnist

    reduced = mnist.reduced_profile(profiles.get_profile("smoke"))
    network = model.siamese_network(**reduced.network_kwargs())
    rows = bench_test_time.seed_rows(
        reduced,
        5,
        lambda seed: (network, {"train_seconds": 2.0}),
        views=1,
        members=2,
        turns=turns,
        plain=plain,
    )
    return rows, reduced


def test_the_reduced_networks_levers_carry_their_image_size_in_name_and_row():
    rows, reduced = reduced_rows()
    assert [row["lever"] for row in rows] == [
        "distortion-averaging-35px",
        "ensemble-2-35px",
        "ensemble-2-with-views-35px",
    ]
    assert [row["views"] for row in rows] == [1, 0, 1]
    assert all(
        row["image_size"] == 35 and "on 35x35 images" in row["description"]
        for row in rows
    )
    assert rows[1]["members"] == rows[2]["members"] == [5, 105]
    assert rows[1]["train_seconds"] == rows[2]["train_seconds"] == 4.0
    assert rows[1]["run_folders"][0].endswith("mnist-smoke-35px-seed5")
    # Only the plain ensemble reads its members' agreement, on the validation tasks. Its
    # two members are one network, so they are right together or wrong together, and the
    # ensemble with them.
    none, one, both = rows[1]["validation_agreement"]
    assert one == [0, 0] and none[1] == 0 and both[0] == both[1]
    assert none[0] + both[0] == reduced.validation_trials
    assert "validation_agreement" not in rows[0] | rows[2]


def test_members_trained_with_turned_characters_are_levers_of_their_own():
    rows, reduced = reduced_rows(turns=3)
    assert [row["lever"] for row in rows] == [
        "distortion-averaging-35px-turns3",
        "ensemble-2-35px-turns3",
        "ensemble-2-with-views-35px-turns3",
    ]
    assert all(row["quarter_turns"] == 3 for row in rows)
    assert all(
        "turned by 3 quarter turns" in row["description"] for row in rows
    )
    assert rows[1]["run_folders"][0].endswith(
        "test-time-smoke-35px-turns3-seed5"
    )
    assert "validation_agreement" in rows[1]
    # The members train by the profile's recipe with the turns, and nothing else changed.
    assert bench_test_time.member_recipe(reduced, 3) == dataclasses.replace(
        recipe_for(reduced), quarter_turns=3
    )
    assert bench_test_time.member_recipe(reduced, 0) == recipe_for(reduced)


def test_plain_members_join_the_turned_ensemble_in_levers_of_their_own():
    rows, _ = reduced_rows(turns=3, plain=3)
    levers = {row["lever"]: row for row in rows}
    assert list(levers)[3:] == [
        "ensemble-2-35px-turns3+3-35px",
        "ensemble-2-with-views-35px-turns3+3-35px",
    ]
    mixed = levers["ensemble-2-35px-turns3+3-35px"]
    assert mixed["members"] == [5, 105]
    assert mixed["plain_members"] == [5, 105, 205]
    assert mixed["train_seconds"] == 10.0
    assert [folder.rsplit("/", 1)[1] for folder in mixed["run_folders"]] == [
        "test-time-smoke-35px-turns3-seed5",
        "test-time-smoke-35px-turns3-seed105",
        "mnist-smoke-35px-seed5",
        "mnist-smoke-35px-seed105",
        "mnist-smoke-35px-seed205",
    ]
    assert "together with 3 fast networks" in mixed["description"]
    # Only the turned ensemble reads its members' agreement, over its own two members.
    agreement = levers["ensemble-2-35px-turns3"]["validation_agreement"]
    assert len(agreement) == 3
    assert "validation_agreement" not in mixed
    assert all("plain_members" not in row for row in rows[:3])


def test_a_seed_draws_the_same_trials_at_every_image_size():
    from siamese_utils.run_data import same_tasks, scoring_trials

    smoke = profiles.get_profile("smoke")
    trial_sets = bench_test_time.trials_by_size(smoke, 5, reduced=True)
    for name in bench_test_time.TRIAL_SETS.values():
        own, small = (getattr(trial_sets[size], name) for size in (False, True))
        assert own.images.shape[1] == smoke.image_size
        assert small.images.shape[1] == 35
        np.testing.assert_array_equal(own.candidates, small.candidates)
        np.testing.assert_array_equal(own.answers, small.answers)
    assert same_tasks(*trial_sets.values())
    # Another seed draws other tasks, and the check tells them apart.
    assert not same_tasks(trial_sets[False], scoring_trials(smoke, 6))


def test_reduced_members_join_the_ensemble_each_scoring_at_its_own_size():
    from siamese_utils import mnist

    smoke = profiles.get_profile("smoke")
    reduced = mnist.reduced_profile(smoke)
    set_seed(1)
    own = model.siamese_network(**smoke.network_kwargs())
    small = model.siamese_network(**reduced.network_kwargs())
    rows = bench_test_time.seed_rows(
        smoke,
        5,
        lambda m: (small if m.reduced else own, {"train_seconds": 2.0}),
        views=1,
        members=2,
        turns=3,
        reduced=3,
    )
    levers = {row["lever"]: row for row in rows}
    assert list(levers)[3:] == [
        "ensemble-2-turns3+3-35px-turns3",
        "ensemble-2-with-views-turns3+3-35px-turns3",
    ]
    mixed = levers["ensemble-2-turns3+3-35px-turns3"]
    assert mixed["members"] == [5, 105]
    assert mixed["reduced_members"] == [5, 105, 205]
    assert "plain_members" not in mixed
    assert mixed["train_seconds"] == 10.0
    assert mixed["run_folders"][-1].endswith(
        "test-time-smoke-35px-turns3-seed205"
    )
    assert (
        "together with 3 fast networks on 35x35 images (the seed's own, seed + 100, "
        "...) trained with the same turned characters, all 5 networks'"
    ) in mixed["description"]
    # Two networks of the profile's size and three of the reduced one, each on its trials.
    trials_at = bench_test_time.trials_by_size(smoke, 5, reduced=True)
    for figure, name in bench_test_time.TRIAL_SETS.items():
        by_size = [
            evaluate.siamese_scores(network, getattr(trials_at[size], name))
            for network, size in ((own, False), (small, True))
        ]
        mean = np.mean([by_size[0]] * 2 + [by_size[1]] * 3, axis=0)
        chosen = getattr(trials_at[False], name)
        assert mixed[figure] == test_time.accuracy(mean, chosen)


def test_reduced_members_are_refused_for_an_ensemble_already_reduced():
    from siamese_utils import mnist

    reduced = mnist.reduced_profile(profiles.get_profile("smoke"))
    with pytest.raises(ValueError, match="already reduced"):
        bench_test_time.seed_levers(reduced, 5, 1, 2, turns=3, reduced=2)


def test_each_lever_scores_its_members_mean_from_members_scored_once(
    networks, monkeypatch
):
    from siamese_utils.run_data import load_splits

    smoke = profiles.get_profile("smoke")
    by_seed = dict(zip(bench_test_time.member_seeds(5, 2), networks))
    calls = {"plain": 0, "views": 0}

    def counted(name, function):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return function(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(
        evaluate, "siamese_scores", counted("plain", evaluate.siamese_scores)
    )
    monkeypatch.setattr(
        test_time, "_pool_scores", counted("views", test_time._pool_scores)
    )
    rows = bench_test_time.seed_rows(
        smoke,
        5,
        lambda member: (by_seed[member[1]], {"train_seconds": 1.0}),
        views=2,
        members=2,
    )
    # Two networks, two trial sets, each scored once without views and once with them.
    assert calls == {"plain": 4, "views": 4}
    monkeypatch.undo()
    splits = load_splits(smoke, recipe_for(smoke), 5)
    for figure, name in bench_test_time.TRIAL_SETS.items():
        chosen = getattr(splits, name)
        expected = [
            test_time.view_scores(networks[0], chosen, views=2),
            test_time.ensemble_scores(networks, chosen),
            test_time.ensemble_scores(networks, chosen, views=2),
        ]
        assert [row[figure] for row in rows] == [
            test_time.accuracy(scores, chosen) for scores in expected
        ]
        alone = test_time.accuracy(
            evaluate.siamese_scores(networks[0], chosen), chosen
        )
        assert all(row[f"{figure}_alone"] == alone for row in rows)
