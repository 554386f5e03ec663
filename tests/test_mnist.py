"""The paper's Table 3 trials: MNIST read as tfds would, and 10-way one-shot trials from it."""

import hashlib

import numpy as np
import pytest

from siamese_utils import mnist


def test_the_mnist_files_are_the_originals_by_sha256():
    for name, expected in mnist.MNIST_FILES.items():
        with open(mnist.mnist_path(name), "rb") as handle:
            assert hashlib.sha256(handle.read()).hexdigest() == expected


def test_the_test_set_reads_as_ten_thousand_inked_digits():
    images, labels = mnist.load_mnist_test(32)
    assert images.shape == (10_000, 32, 32, 1) and images.dtype == np.float32
    assert 0.0 == images.min() and images.max() == 1.0
    # MNIST's published test-set label counts.
    assert np.bincount(labels).tolist() == [
        980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009,
    ]  # fmt: skip
    assert (
        images.mean() < 0.25
    )  # ink is the minority: white on black read as ink = 1


def test_a_trial_shows_each_digit_once_and_a_query_drawn_from_another_image():
    labels = np.repeat(np.arange(10), 5)
    images = np.arange(50, dtype=np.float32).reshape(
        50, 1, 1, 1
    )  # image i holds i
    trials = mnist.mnist_trials(images, labels, num_trials=200, seed=3)
    assert len(trials) == 200 and trials.n_way == 10
    original = trials.images[:, 0, 0, 0].astype(
        int
    )  # back to positions in `images`
    shown = labels[original[trials.candidates]]
    assert (shown == np.arange(10)).all()  # one of each digit, in digit order
    query = original[trials.queries]
    answer = original[trials.candidates[np.arange(200), trials.answers]]
    assert (labels[query] == trials.answers).all()
    assert (query != answer).all()  # the query is another drawing of its digit
    assert len(set(trials.answers.tolist())) == 10


def test_digits_with_a_single_image_are_refused():
    labels = np.array([*range(10), 0])
    with pytest.raises(ValueError, match="at least two images of each"):
        mnist.mnist_trials(np.zeros((11, 1, 1, 1)), labels)


def test_a_corrupt_cached_file_is_named_and_kept(tmp_path):
    cached = tmp_path / "datasets" / "mnist" / "t10k-labels-idx1-ubyte.gz"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"not MNIST")
    with pytest.raises(FileNotFoundError, match="Could not obtain MNIST"):
        mnist.mnist_path("t10k-labels-idx1-ubyte.gz", cache_dir=tmp_path)
    assert (cached.parent / "t10k-labels-idx1-ubyte.gz.corrupt").exists()
