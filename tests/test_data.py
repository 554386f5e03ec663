"""Omniglot from tfds: splits, the alphabet index, pairs and the pair pipeline."""

import numpy as np
import pytest

from siamese_utils import data, pipeline, profiles, recipe, sampling


def test_splits_have_omniglots_sizes(background, evaluation):
    assert (
        len(background),
        background.num_characters,
        len(background.alphabets_present),
    ) == (19280, 964, 30)
    assert (
        len(evaluation),
        evaluation.num_characters,
        len(evaluation.alphabets_present),
    ) == (13180, 659, 20)


def test_minimal_splits_are_five_background_alphabets_each(background):
    for name, size in (("small1", 2720), ("small2", 3120)):
        small = data.load_split(name, 32)
        assert len(small) == size
        assert len(small.alphabets_present) == 5
        assert set(small.alphabets_present) <= set(background.alphabets_present)


def test_images_are_one_channel_floats_in_unit_range_with_ink_as_one(
    background,
):
    images = background.images
    assert images.shape[1:] == (32, 32, 1) and images.dtype == np.float32
    assert images.min() >= 0.0 and images.max() <= 1.0
    # Strokes are thin: most of every image is background, which must be 0.
    assert np.median(images) == 0.0
    assert images.mean() < 0.25


def test_original_size_keeps_binary_pixels():
    small = data.load_split("small1", 105)
    assert small.images.shape[1:] == (105, 105, 1)
    assert set(np.unique(small.images)) <= {0.0, 1.0}


def test_loaded_arrays_are_read_only(background):
    with pytest.raises(ValueError):
        background.images[0, 0, 0, 0] = 1.0


def test_background_and_evaluation_alphabets_and_characters_never_overlap(
    background, evaluation
):
    assert not set(background.alphabets_present) & set(
        evaluation.alphabets_present
    )
    assert not set(np.unique(background.characters)) & set(
        np.unique(evaluation.characters)
    )


def test_validation_and_test_alphabets_split_the_evaluation_set(evaluation):
    assert not set(data.VALIDATION_ALPHABETS) & set(data.TEST_ALPHABETS)
    assert set(data.VALIDATION_ALPHABETS) | set(data.TEST_ALPHABETS) == set(
        evaluation.alphabets_present
    )


def test_selecting_alphabets_keeps_only_those(evaluation):
    test = evaluation.select_alphabets(data.TEST_ALPHABETS)
    assert test.alphabets_present == tuple(sorted(data.TEST_ALPHABETS))
    assert len(test) == 20 * test.num_characters


def test_asking_the_background_split_for_an_evaluation_alphabet_fails(
    background,
):
    with pytest.raises(ValueError, match="Tengwar"):
        background.select_alphabets(["Latin", "Tengwar"])


def test_index_groups_twenty_images_per_character(evaluation):
    index = evaluation.index()
    assert index.num_characters == 659
    assert (index.image_counts == 20).all()
    rows = index.character_images
    assert (evaluation.characters[rows] == index.character_ids[:, None]).all()
    assert index.alphabet_sizes.sum() == 659


def test_pairs_are_half_same_half_different_with_correct_labels(background):
    pairs = sampling.sample_pairs(background, 1001, seed=0)
    assert len(pairs) == 1001 and pairs.same.sum() == 500
    same_character = (
        background.characters[pairs.left] == background.characters[pairs.right]
    )
    np.testing.assert_array_equal(same_character, pairs.same.astype(bool))
    positive = pairs.same.astype(bool)
    assert (pairs.left[positive] != pairs.right[positive]).all(), (
        "a pair repeats one image"
    )


def test_same_alphabet_negatives_share_sets_the_harder_negatives(background):
    for share, low, high in (
        (0.0, 0.0, 0.1),
        (1.0, 1.0, 1.0),
        (0.5, 0.42, 0.58),
    ):
        pairs = sampling.sample_pairs(
            background, 4000, seed=1, same_alphabet_negatives=share
        )
        negative = ~pairs.same.astype(bool)
        same_alphabet = (
            background.alphabets[pairs.left[negative]]
            == background.alphabets[pairs.right[negative]]
        )
        assert low <= same_alphabet.mean() <= high, share


def test_same_seed_same_pairs_other_seed_other_pairs(background):
    a, b, c = (sampling.sample_pairs(background, 64, seed=s) for s in (5, 5, 6))
    np.testing.assert_array_equal(a.left, b.left)
    np.testing.assert_array_equal(a.right, b.right)
    assert not np.array_equal(a.left, c.left)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"num_pairs": 0}, "num_pairs"),
        (
            {"num_pairs": 10, "same_alphabet_negatives": 1.5},
            "same_alphabet_negatives",
        ),
    ],
)
def test_bad_pair_requests_are_rejected(background, kwargs, message):
    with pytest.raises(ValueError, match=message):
        sampling.sample_pairs(background, seed=0, **kwargs)


def test_pair_pipeline_yields_exact_batches_matching_the_sampled_pairs(
    background,
):
    dataset = pipeline.pair_dataset(background, batch_size=8, steps=3, seed=11)
    batches = list(dataset)
    assert len(batches) == 3
    (left, right), same = batches[0]
    assert (
        left.shape == (8, 32, 32, 1)
        and right.shape == (8, 32, 32, 1)
        and same.shape == (8, 1)
    )
    expected = sampling.sample_pairs(background, 24, seed=11)
    np.testing.assert_array_equal(
        left.numpy(), background.images[expected.left[:8]]
    )
    np.testing.assert_array_equal(same.numpy()[:, 0], expected.same[:8])


def test_pipelines_run_without_the_autotuner(background):
    # On two cores tf.data's autotuner slowed training (bench.pipeline measures it).
    smoke = profiles.get_profile("smoke")
    episodes = sampling.sample_episodes(
        background, 2, seed=0, alphabets=2, characters=3, images_per_character=2
    )
    for dataset in (
        pipeline.pair_dataset(background, batch_size=8, steps=3, seed=11),
        pipeline.episode_dataset(background, episodes),
        pipeline.training_dataset(
            background, smoke, recipe.RECIPES["smoke"], seed=0
        ),
    ):
        assert dataset.options().autotune.enabled is False


def test_pair_pipeline_rejects_zero_steps(background):
    with pytest.raises(ValueError, match="steps"):
        pipeline.pair_dataset(background, batch_size=8, steps=0, seed=0)


def test_unknown_split_and_bad_size_are_rejected():
    with pytest.raises(ValueError, match="small1"):
        data.load_split("validation")
    with pytest.raises(ValueError, match="image_size"):
        data.load_split("train", image_size=4)


def test_missing_dataset_error_names_tfds_data_dir_and_the_download(tmp_path):
    with pytest.raises(data.OmniglotNotFoundError) as error:
        data.load_split("train", 32, data_dir=tmp_path, download=False)
    message = str(error.value)
    assert "TFDS_DATA_DIR" in message and str(tmp_path) in message
    assert "tfds.load('omniglot')" in message


def test_an_empty_data_folder_offline_fails_at_once_with_the_advice(tmp_path):
    import time

    if data.can_reach_download_host():
        pytest.skip(
            "this machine is online: tfds would download Omniglot instead of failing"
        )
    started = time.perf_counter()
    with pytest.raises(
        data.OmniglotNotFoundError, match="cannot reach"
    ) as error:
        data.load_split("train", 32, data_dir=tmp_path)
    assert time.perf_counter() - started < 30  # not tfds' minutes of retries
    assert "TFDS_DATA_DIR" in str(error.value)


def test_episodes_group_images_by_alphabet_then_character(background):
    episodes = sampling.sample_episodes(
        background,
        20,
        seed=0,
        alphabets=3,
        characters=5,
        images_per_character=4,
    )
    assert episodes.images.shape == episodes.characters.shape == (20, 3 * 5 * 4)
    for images, characters in zip(episodes.images, episodes.characters):
        assert (
            background.characters[images] == characters
        ).all()  # labels match the images
        assert len(set(images)) == len(images)  # no image twice in an episode
        per_character = characters.reshape(15, 4)
        assert (per_character == per_character[:, :1]).all() and len(
            set(characters)
        ) == 15
        alphabets = background.alphabets[images].reshape(3, 20)
        assert (alphabets == alphabets[:, :1]).all() and len(
            set(alphabets[:, 0])
        ) == 3


def test_same_seed_same_episodes_other_seed_other_episodes(background):
    first = sampling.sample_episodes(background, 5, seed=1)
    again = sampling.sample_episodes(
        background, 5, seed=np.random.default_rng(1)
    )
    other = sampling.sample_episodes(background, 5, seed=2)
    np.testing.assert_array_equal(first.images, again.images)
    assert not np.array_equal(first.images, other.images)


def test_episodes_the_split_cannot_fill_are_refused(evaluation):
    validation = evaluation.select_alphabets(data.VALIDATION_ALPHABETS)
    with pytest.raises(ValueError, match="has 10 such alphabets"):
        sampling.sample_episodes(validation, 1, seed=0, alphabets=11)
    with pytest.raises(ValueError, match="images each"):
        sampling.sample_episodes(validation, 1, seed=0, images_per_character=21)
    with pytest.raises(ValueError, match="num_episodes"):
        sampling.sample_episodes(validation, 0, seed=0)


def test_episode_pipeline_yields_the_sampled_images(background):
    episodes = sampling.sample_episodes(
        background, 3, seed=4, alphabets=2, characters=3, images_per_character=2
    )
    batches = list(pipeline.episode_dataset(background, episodes))
    assert len(batches) == 3
    for (images, characters), positions, labels in zip(
        batches, episodes.images, episodes.characters
    ):
        np.testing.assert_array_equal(
            images.numpy(), background.images[positions]
        )
        np.testing.assert_array_equal(characters.numpy(), labels)
