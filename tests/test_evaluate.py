"""One-shot evaluation: the paper's protocol, the official runs, scoring and ties."""

import numpy as np
import pytest

from siamese_utils import data, evaluate, model, profiles
from siamese_utils.seeding import set_seed


@pytest.fixture(scope="module")
def runs():
    return evaluate.official_runs(image_size=32)


@pytest.fixture(scope="module")
def paper_trials(evaluation):
    return evaluate.paper_protocol_trials(evaluation, seed=0)


def test_official_runs_are_400_twenty_way_trials(runs):
    assert len(runs) == 400 and runs.n_way == 20
    assert runs.images.shape == (800, 32, 32, 1)
    assert sorted(set(runs.groups)) == [f"run{r:02d}" for r in range(1, 21)]


def test_each_official_query_has_exactly_one_correct_candidate(runs):
    # Every query's answer is a distinct training image of its run.
    for run in range(20):
        answers = runs.answers[run * 20 : (run + 1) * 20]
        assert sorted(answers) == list(range(20))


def test_official_runs_come_from_the_test_alphabets(evaluation, runs):
    """Every run image is an evaluation image of one of data.TEST_ALPHABETS."""
    test = evaluation.select_alphabets(data.TEST_ALPHABETS)
    other = evaluation.select_alphabets(data.VALIDATION_ALPHABETS)
    full = data.load_split("test", 105)
    keys = {
        image.tobytes(): full.alphabet_names[alphabet]
        for image, alphabet in zip(full.images > 0.5, full.alphabets)
    }
    originals = evaluate.official_runs(image_size=105).images > 0.5
    found = {keys.get(image.tobytes()) for image in originals}
    assert found == set(data.TEST_ALPHABETS)
    assert len(test) + len(other) == len(evaluation)


def test_paper_protocol_gives_400_within_alphabet_trials(
    evaluation, paper_trials
):
    assert len(paper_trials) == 400 and paper_trials.n_way == 20
    # 10 test alphabets, two tasks of 20 queries each.
    names, counts = np.unique(paper_trials.groups, return_counts=True)
    assert set(names) == set(data.TEST_ALPHABETS) and (counts == 40).all()


def test_paper_protocol_candidates_are_twenty_characters_of_one_alphabet_with_one_match(
    evaluation, paper_trials
):
    test = evaluation.select_alphabets(data.TEST_ALPHABETS)
    # Recover each pool image's character and alphabet by exact pixel match.
    lookup = {
        img.tobytes(): (c, a)
        for img, c, a in zip(test.images, test.characters, test.alphabets)
    }
    labels = np.array([lookup[img.tobytes()] for img in paper_trials.images])
    for q, cands, answer in zip(
        paper_trials.queries, paper_trials.candidates, paper_trials.answers
    ):
        characters, alphabets = labels[cands, 0], labels[cands, 1]
        assert len(set(characters)) == 20 and len(set(alphabets)) == 1
        matches = np.flatnonzero(characters == labels[q, 0])
        assert list(matches) == [answer]
        assert q != cands[answer], "the query must not be its own candidate"


def test_paper_protocol_is_seeded(evaluation, paper_trials):
    again = evaluate.paper_protocol_trials(evaluation, seed=0)
    other = evaluate.paper_protocol_trials(evaluation, seed=1)
    np.testing.assert_array_equal(again.images, paper_trials.images)
    assert not np.array_equal(other.images[:50], paper_trials.images[:50])


def test_n_way_larger_than_an_alphabet_is_refused(evaluation):
    with pytest.raises(ValueError, match="Tengwar"):
        evaluate.paper_protocol_trials(evaluation, n_way=30)
    with pytest.raises(ValueError, match="n_way"):
        evaluate.paper_protocol_trials(evaluation, n_way=1)
    with pytest.raises(ValueError, match="num_trials"):
        evaluate.paper_protocol_trials(evaluation, num_trials=0)


def test_ties_are_broken_at_random_so_a_constant_scores_chance():
    scores = np.zeros((4000, 20))
    choices = evaluate.pick_candidates(scores, seed=0)
    assert choices.min() == 0 and choices.max() == 19
    assert np.mean(choices == 0) == pytest.approx(1 / 20, abs=0.015)
    clear = np.eye(20)[[3, 7]]
    np.testing.assert_array_equal(evaluate.pick_candidates(clear), [3, 7])


def test_a_model_with_constant_output_gets_chance_accuracy(runs):
    set_seed(0)
    network = model.siamese_network(
        **profiles.get_profile("smoke").network_kwargs()
    )
    network.get_layer(model.SCORE_LAYER).kernel.assign(
        np.zeros((128, 1), np.float32)
    )
    result = evaluate.one_shot(network, runs)
    assert np.ptp(result.scores) == 0.0
    assert result.accuracy < 0.12


def test_cached_embedding_scores_equal_the_full_model_on_every_pair(runs):
    set_seed(0)
    network = model.siamese_network(
        **profiles.get_profile("smoke").network_kwargs()
    )
    fast = evaluate.siamese_scores(network, runs)
    trial = np.arange(40)
    left = runs.images[np.repeat(runs.queries[trial], 20)]
    right = runs.images[runs.candidates[trial].ravel()]
    direct = (
        model.logit_network(network)
        .predict([left, right], verbose=0)
        .reshape(40, 20)
    )
    np.testing.assert_allclose(fast[:40], direct, rtol=1e-5, atol=1e-5)
    # The network's own output is the sigmoid of that score.
    probability = network.predict([left, right], verbose=0).reshape(40, 20)
    np.testing.assert_allclose(
        probability, 1 / (1 + np.exp(-direct)), rtol=1e-5, atol=1e-6
    )


def test_candidates_are_ranked_by_score_where_probabilities_saturate(runs):
    # Scores of 40 and 30 are both p = 1.0 in float32; the ranking must still see 40 > 30.
    scores = np.array([[30.0, 40.0] + [-5.0] * 18])
    p = (1 / (1 + np.exp(-scores))).astype(np.float32)
    assert p[0, 0] == p[0, 1] == 1.0
    assert evaluate.pick_candidates(scores)[0] == 1
    set_seed(0)
    network = model.siamese_network(
        **profiles.get_profile("smoke").network_kwargs()
    )
    head = network.get_layer(model.SCORE_LAYER)
    head.kernel.assign(head.kernel * 100.0)  # spread the untrained scores apart
    head.bias.assign(
        head.bias + 30.0
    )  # and put every pair where the sigmoid saturates
    trial = runs.candidates[:1]
    pairs = [
        runs.images[np.repeat(runs.queries[:1], 20)],
        runs.images[trial.ravel()],
    ]
    assert np.all(
        network.predict(pairs, verbose=0) == 1.0
    )  # p ties every candidate
    scores = evaluate.siamese_scores(network, runs)
    assert len(np.unique(scores[0])) == 20  # the scores still tell all 20 apart


def test_pixel_nearest_neighbour_beats_chance_and_picks_identical_images(runs):
    result = evaluate.pixel_nearest_neighbour(runs)
    assert 0.1 < result.accuracy < 0.5
    copy = evaluate.OneShotTrials(
        "identical",
        runs.images,
        runs.candidates[:, 5],
        runs.candidates,
        np.full(400, 5),
        runs.groups,
    )
    assert evaluate.pixel_nearest_neighbour(copy).accuracy == 1.0


def test_images_of_the_wrong_size_are_refused(runs):
    network = model.siamese_network(
        input_shape=(40, 40, 1),
        filters=(4, 8, 8, 8),
        kernel_sizes=(5, 3, 3, 2),
        embedding_units=16,
    )
    with pytest.raises(ValueError, match="image_size"):
        evaluate.one_shot(network, runs)


def test_a_corrupt_official_runs_file_is_reported_and_kept(tmp_path):
    # Offline (as in CI), a cached all_runs.zip that fails its checksum cannot be replaced:
    # the error must say so, and the user's file must be set aside, not deleted.
    corrupt = tmp_path / "datasets" / "all_runs.zip"
    corrupt.parent.mkdir()
    corrupt.write_bytes(b"not a zip file")
    with pytest.raises(
        FileNotFoundError, match="did not match that sha256"
    ) as error:
        evaluate.official_runs_path(cache_dir=tmp_path)
    kept = tmp_path / "datasets" / "all_runs.zip.corrupt"
    assert str(kept) in str(error.value)
    assert kept.read_bytes() == b"not a zip file"
