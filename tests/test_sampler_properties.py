"""Properties of the samplers that must hold for every seed and size (hypothesis).

Pairs, episodes and one-shot trials are drawn from the real Omniglot splits; hypothesis
varies the seeds and sizes and shrinks any failure to a small example.
"""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from siamese_utils import data, evaluate, sampling

SEEDS = st.integers(min_value=0, max_value=2**32 - 1)
FEW_EXAMPLES = settings(max_examples=25, deadline=None)


@FEW_EXAMPLES
@given(seed=SEEDS, num_pairs=st.integers(1, 300), share=st.floats(0.0, 1.0))
def test_pairs_are_labelled_by_character_and_never_pair_an_image_with_itself(
    background, seed, num_pairs, share
):
    pairs = sampling.sample_pairs(background, num_pairs, seed, share)
    assert len(pairs) == num_pairs
    assert pairs.same.sum() == num_pairs // 2
    same_character = (
        background.characters[pairs.left] == background.characters[pairs.right]
    )
    np.testing.assert_array_equal(same_character, pairs.same == 1)
    assert (pairs.left != pairs.right).all()


@FEW_EXAMPLES
@given(
    seed=SEEDS,
    alphabets=st.integers(1, 5),
    characters=st.integers(1, 10),
    images=st.integers(1, 6),
)
def test_episodes_hold_distinct_background_images_grouped_as_asked(
    background, seed, alphabets, characters, images
):
    if alphabets * characters * images < 2:
        return  # a single image forms no pair; refusing it is tested elsewhere
    episodes = sampling.sample_episodes(
        background, 3, seed, alphabets, characters, images
    )
    assert episodes.batch_size == alphabets * characters * images
    for positions, labels in zip(episodes.images, episodes.characters):
        assert len(np.unique(positions)) == len(positions)
        np.testing.assert_array_equal(background.characters[positions], labels)
        assert len(np.unique(labels)) == alphabets * characters
        assert len(np.unique(background.alphabets[positions])) == alphabets


@FEW_EXAMPLES
@given(seed=SEEDS, n_way=st.integers(2, 20), num_trials=st.integers(1, 120))
def test_every_trial_has_exactly_one_correct_candidate_from_one_test_alphabet(
    evaluation, seed, n_way, num_trials
):
    test = evaluation.select_alphabets(data.TEST_ALPHABETS)
    trials = evaluate.paper_protocol_trials(test, n_way, num_trials, seed)
    assert len(trials) == num_trials and trials.n_way == n_way
    # Identify images by their pixels: the pool holds only the trials' images.
    pool_characters = {}
    flat = trials.images.reshape(len(trials.images), -1)
    lookup = {
        row.tobytes(): c
        for row, c in zip(test.images.reshape(len(test), -1), test.characters)
    }
    for position, row in enumerate(flat):
        pool_characters[position] = lookup[row.tobytes()]
    for query, candidates, answer in zip(
        trials.queries, trials.candidates, trials.answers
    ):
        matches = [
            pool_characters[c] == pool_characters[query] for c in candidates
        ]
        assert sum(matches) == 1 and matches[answer]
        assert query not in candidates  # the query is never its own candidate
