"""Centring: each candidate's score less its mean score against the trial's other
candidates, so a candidate that resembles its whole alphabet draws fewer answers."""

import numpy as np
import pytest

from bench import centring
from siamese_utils import evaluate, mnist, model, profiles, test_time
from siamese_utils.seeding import set_seed


@pytest.fixture(scope="module")
def trials(evaluation):
    return evaluate.paper_protocol_trials(evaluation, num_trials=12, seed=3)


@pytest.fixture(scope="module")
def network():
    set_seed(1)
    return model.siamese_network(
        **profiles.get_profile("smoke").network_kwargs()
    )


def test_candidate_scores_score_every_ordered_pair_of_a_trials_candidates(
    trials, network
):
    among = test_time.candidate_scores(network, trials)
    assert among.shape == (len(trials), trials.n_way, trials.n_way)
    images = trials.images
    for t, i, j in ((0, 0, 1), (3, 5, 2), (11, 19, 19)):
        first, second = trials.candidates[t, i], trials.candidates[t, j]
        # The network outputs p(same); the scores are its logits.
        same = network.predict(
            [images[first : first + 1], images[second : second + 1]], verbose=0
        )
        p = float(same.ravel()[0])
        assert among[t, i, j] == pytest.approx(np.log(p / (1 - p)), abs=1e-3)


def test_a_weight_of_zero_leaves_the_scores_as_they_are():
    query = np.array([[1.0, 2.0, 3.0]])
    among = np.full((1, 3, 3), 5.0)
    np.testing.assert_array_equal(
        test_time.centred_scores(query, among, 0.0), query
    )


def test_the_candidate_that_resembles_the_others_loses_a_tie():
    # Candidates 0 and 1 score alike against the query; 0 also scores high against the
    # other candidates (a hub), so centring hands the trial to 1.
    query = np.array([[2.0, 2.0, -1.0]])
    among = np.array([[[9.0, 3.0, 3.0], [3.0, 9.0, -3.0], [3.0, -3.0, 9.0]]])
    centred = test_time.centred_scores(query, among, 1.0)
    # Each candidate's mean against the two others, the diagonal left out: 3, 0, 0.
    np.testing.assert_allclose(centred, [[-1.0, 2.0, -1.0]])
    assert int(np.argmax(centred)) == 1


def test_centring_refuses_candidate_scores_of_other_trials():
    with pytest.raises(ValueError, match="candidate_scores"):
        test_time.centred_scores(np.zeros((4, 5)), np.zeros((4, 5, 4)), 0.5)


def test_each_weight_is_a_lever_scored_beside_the_network_alone(network):
    reduced = mnist.reduced_profile(profiles.get_profile("smoke"))
    set_seed(2)
    small = model.siamese_network(**reduced.network_kwargs())
    rows = centring.seed_rows(
        reduced, 5, small, {"train_seconds": 2.0}, weights=(0.5, 1.0)
    )
    assert [row["lever"] for row in rows] == [
        "centred-0.5-35px-turns3",
        "centred-1-35px-turns3",
    ]
    trial_sets = centring.scoring_trials(reduced, 5)
    for row, weight in zip(rows, (0.5, 1.0)):
        assert row["centring_weight"] == weight
        assert row["run_folders"] == [
            "results/test-time-smoke-35px-turns3-seed5"
        ]
        assert "less 0.5 times" in rows[0]["description"]
        for figure, name in centring.TRIAL_SETS.items():
            trials = getattr(trial_sets, name)
            query = evaluate.siamese_scores(small, trials)
            among = test_time.candidate_scores(small, trials)
            expected = test_time.centred_scores(query, among, weight)
            assert row[figure] == test_time.accuracy(expected, trials)
            assert row[f"{figure}_alone"] == test_time.accuracy(query, trials)


def test_a_weight_that_is_not_positive_is_refused_with_the_way_out(capsys):
    with pytest.raises(SystemExit):
        centring.parse_arguments(["--weights", "0.5", "0"])
    assert "network alone (weight 0)" in capsys.readouterr().err
