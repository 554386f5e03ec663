"""The paper's Table 3: 10-way one-shot trials on MNIST, for a network trained on Omniglot.

Koch et al. (2015, Section 5) scored their Omniglot network, without fine-tuning, on 400
10-way one-shot trials built from MNIST: each trial shows one drawing of each of the ten
digits and asks which of them a new drawing of one digit matches. This module fetches the
MNIST test set as tensorflow-datasets would (the same address and sha256 values,
:func:`siamese_utils.evaluate.verified_download`, so an offline copy in the Keras cache is
used), turns it into the book's image format and builds such trials as
:class:`siamese_utils.evaluate.OneShotTrials`, which every scorer of the book accepts.
"""

from __future__ import annotations

import dataclasses
import gzip

import numpy as np

from siamese_utils.evaluate import OneShotTrials, verified_download

# Where tensorflow-datasets downloads MNIST from, and the sha256 values it records for the
# original files (tensorflow_datasets/url_checksums/mnist.txt).
MNIST_URL = "https://storage.googleapis.com/cvdf-datasets/mnist/"
MNIST_FILES = {
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
MNIST_CACHE_SUBDIR = "datasets/mnist"
DIGITS = 10
PAPER_TRIALS = 400  # the paper's count (Section 5)
# Koch et al. (2015), Table 3: 10-way one-shot accuracy (%) on MNIST, no fine-tuning.
PAPER_TABLE_3 = {"1-Nearest Neighbor": 26.5, "Convolutional Siamese Net": 70.3}
# The paper scored Table 3 with a reduced network on 35x35 images. It gives no more detail,
# so the book's reduced network keeps a profile's widths and picks the kernels that leave
# the fast network's 2x2 last feature map at that size (35 -> 32, 14, 6, 2 pixels).
REDUCED_IMAGE_SIZE = 35
REDUCED_KERNEL_SIZES = (4, 3, 2, 2)


def reduced_profile(profile):
    """``profile`` on the paper's Table 3 images: 35x35 pixels, kernels (4, 3, 2, 2).

    Everything else (widths, embedding, evaluation sizes, and the recipe that trains it)
    stays the profile's, so the reduced network differs from the profile's own in image
    size alone, with the kernels that size needs.
    """
    return dataclasses.replace(
        profile,
        image_size=REDUCED_IMAGE_SIZE,
        kernel_sizes=REDUCED_KERNEL_SIZES,
    )


def mnist_path(filename: str, cache_dir=None) -> str:
    """Path of one of the MNIST test files, downloaded once and checked by sha256."""
    if filename not in MNIST_FILES:
        raise ValueError(
            f"Unknown MNIST file {filename!r}; the book reads {list(MNIST_FILES)}."
        )
    return verified_download(
        filename,
        MNIST_URL + filename,
        MNIST_FILES[filename],
        "MNIST",
        MNIST_CACHE_SUBDIR,
        cache_dir,
    )


def read_idx(path: str) -> np.ndarray:
    """An IDX file (MNIST's format: a magic number, the sizes, then the bytes), gzipped."""
    with gzip.open(path, "rb") as handle:
        data = handle.read()
    dimensions = data[3]
    shape = tuple(
        int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big")
        for i in range(dimensions)
    )
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dimensions).reshape(
        shape
    )


def load_mnist_test(
    image_size: int, cache_dir=None
) -> tuple[np.ndarray, np.ndarray]:
    """MNIST's 10,000 test digits as the book's images, and their labels.

    MNIST draws white on black, so a pixel's value over 255 is already its ink (ink = 1, as
    in the book's Omniglot images). The 28 x 28 digits are resized to ``image_size`` with
    the bilinear filter tfds' Omniglot images go through.

    Returns:
        ``images`` ``(10000, image_size, image_size, 1)`` float32 in [0, 1] and ``labels``
        ``(10000,)`` int64.
    """
    from PIL import Image  # only for resizing; Pillow comes with matplotlib

    images = read_idx(mnist_path("t10k-images-idx3-ubyte.gz", cache_dir))
    labels = read_idx(mnist_path("t10k-labels-idx1-ubyte.gz", cache_dir))
    resized = np.stack(
        [
            np.asarray(
                Image.fromarray(image).resize(
                    (image_size, image_size), Image.Resampling.BILINEAR
                ),
                np.float32,
            )
            for image in images
        ]
    )
    return (resized / 255.0)[..., None], labels.astype(np.int64)


def mnist_trials(
    images: np.ndarray,
    labels: np.ndarray,
    num_trials: int = PAPER_TRIALS,
    seed: int = 0,
) -> OneShotTrials:
    """``num_trials`` 10-way one-shot trials: one drawing of each digit as the candidates
    (in digit order), and a query of one digit drawn from another of its images.

    Raises:
        ValueError: when some digit has fewer than two images (no query could be drawn
            apart from its candidate).
    """
    counts = np.bincount(labels, minlength=DIGITS)
    if len(counts) != DIGITS or counts.min() < 2:
        raise ValueError(
            f"MNIST trials need at least two images of each of the {DIGITS} digits; "
            f"the labels give {counts.tolist()}."
        )
    rng = np.random.default_rng(seed)
    by_digit = [np.flatnonzero(labels == digit) for digit in range(DIGITS)]
    candidates = np.empty((num_trials, DIGITS), np.int64)
    queries = np.empty(num_trials, np.int64)
    answers = rng.integers(0, DIGITS, num_trials)
    for trial in range(num_trials):
        for digit, positions in enumerate(by_digit):
            if digit == answers[trial]:
                candidate, query = rng.choice(positions, 2, replace=False)
                queries[trial] = query
            else:
                candidate = rng.choice(positions)
            candidates[trial, digit] = candidate
    # The pool holds only the images the trials use.
    used, inverse = np.unique(
        np.concatenate([queries, candidates.ravel()]), return_inverse=True
    )
    return OneShotTrials(
        name="MNIST",
        images=images[used],
        queries=inverse[:num_trials],
        candidates=inverse[num_trials:].reshape(num_trials, DIGITS),
        answers=answers,
        groups=("MNIST",) * num_trials,
    )
