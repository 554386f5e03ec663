"""N-way one-shot classification: the paper's protocol and the official 20 runs.

A one-shot *trial* shows a query image and N candidate images, one of each of N
characters, exactly one of them the query's character. The model scores every
(query, candidate) pair and picks the best-scoring candidate.

Two sources of trials:

* :func:`paper_protocol_trials` follows Koch et al. (2015), Section 4.3: pick an evaluation
  alphabet and 20 of its characters, and two of the drawers; every image of the first
  drawer is a query against the 20 images of the second. Ten alphabets, two tasks each,
  give 400 trials. The drawers are the real ones (:mod:`siamese_utils.drawers`).
* :func:`official_runs` reads the 20 runs of Lake et al. (2015), ``all_runs.zip``: the exact
  400 trials every paper on Omniglot one-shot classification reports on.

Evaluation embeds every image once with the twin and scores pairs from those cached
embeddings with the network's head. Candidates are ranked by the similarity score before
the sigmoid, which does not saturate; ties between top scores are broken at random, so a
model with constant output scores 1/N, not 100%.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import zipfile

import keras
import numpy as np

from siamese_utils.data import (
    DRAWERS_PER_CHARACTER,
    ORIGINAL_IMAGE_SIZE,
    TEST_ALPHABETS,
    OmniglotSplit,
)
from siamese_utils.embeddings import embed
from siamese_utils.model import score_embeddings

OFFICIAL_RUNS_URL = "https://github.com/brendenlake/omniglot/raw/master/python/one-shot-classification/all_runs.zip"
OFFICIAL_RUNS_SHA256 = (
    "437c1eeab0af8484112e1b4cc0f3d541ec727f7c47b9b202da738af9dfd6c325"
)
OFFICIAL_RUNS_FILENAME = "all_runs.zip"
OFFICIAL_RUNS_CACHE_SUBDIR = "datasets"
NUM_OFFICIAL_RUNS = 20

# Koch et al. (2015), Table 1: verification accuracy (%) on test pairs after training on a
# set of this many pairs, without distortions and with 8 affine distortions of each pair.
PAPER_TABLE_1 = {
    30_000: (90.61, 91.90),
    90_000: (91.54, 93.15),
    150_000: (91.63, 93.42),
}

# Koch et al. (2015), Table 2: 20-way within-alphabet one-shot accuracy (%) on Omniglot.
# The two Siamese rows are the paper's own, on its 400-trial protocol (Section 4.3); the
# others are the results it quotes from Lake et al. Every table of the book labels the
# column the same way.
PAPER_TABLE_2_COLUMN = "Koch et al. (2015), Table 2"
PAPER_TABLE_2 = {
    "Humans": 95.5,
    "Hierarchical Bayesian Program Learning": 95.2,
    "Affine model": 81.8,
    "Hierarchical Deep": 65.2,
    "Deep Boltzmann Machine": 62.0,
    "Simple Stroke": 35.2,
    "1-Nearest Neighbor (pixels)": 21.7,
    "Siamese Neural Net (not convolutional)": 58.3,
    "Convolutional Siamese Net": 92.0,
}
# The rows of Table 2 that are the paper's own, on its protocol; the others are Lake et
# al.'s results on the official runs, which the paper quotes.
PAPER_PROTOCOL_ROWS = (
    "Siamese Neural Net (not convolutional)",
    "Convolutional Siamese Net",
)


@dataclasses.dataclass(frozen=True)
class OneShotTrials:
    """A set of N-way one-shot trials over one pool of images.

    Attributes:
        name: a label for tables (``paper protocol``, ``official runs``).
        images: the image pool, ``(m, size, size, 1)``, ink = 1.
        queries: pool position of each trial's query, ``(t,)``.
        candidates: pool positions of each trial's N candidates, ``(t, n)``.
        answers: position (0..n-1) of the correct candidate in each trial, ``(t,)``.
        groups: a label for each trial: the alphabet (paper protocol) or the run.
    """

    name: str
    images: np.ndarray
    queries: np.ndarray
    candidates: np.ndarray
    answers: np.ndarray
    groups: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.queries)

    @property
    def n_way(self) -> int:
        """Number of candidates per trial."""
        return int(self.candidates.shape[1])


def check_protocol_request(split, subset, index, names, n_way, num_trials):
    """Refuse trials that cannot be made (see :func:`paper_protocol_trials`); returns the
    drawers present in ``subset``."""
    if not isinstance(n_way, (int, np.integer)) or n_way < 2:
        raise ValueError(
            f"n_way must be an integer of at least 2, got {n_way!r}."
        )
    if not isinstance(num_trials, (int, np.integer)) or num_trials < 1:
        raise ValueError(
            f"num_trials must be a positive integer, got {num_trials!r}."
        )
    too_small = {
        name: int(size)
        for name, size in zip(names, index.alphabet_sizes)
        if size < n_way
    }
    if too_small:
        raise ValueError(
            f"A {n_way}-way within-alphabet task needs {n_way} characters per alphabet, but "
            f"{too_small} have fewer. Lower n_way (the smallest alphabet here has "
            f"{int(index.alphabet_sizes.min())} characters) or choose other alphabets."
        )
    present = np.unique(subset.drawers)
    if len(present) < 2:
        raise ValueError(
            f"A one-shot task needs two drawers (a query's and the candidates'); split "
            f"{split.name!r} has drawers {present.tolist()}."
        )
    return present


def paper_protocol_trials(
    split: OmniglotSplit,
    n_way: int = 20,
    num_trials: int = 400,
    seed: int = 0,
    alphabets=TEST_ALPHABETS,
    drawer_pair: tuple[int, int] | None = None,
) -> OneShotTrials:
    """Within-alphabet N-way trials following the paper's protocol.

    Tasks cycle through ``alphabets``; each task draws ``n_way`` characters of one alphabet
    and two distinct drawers among those in ``split``, and yields ``n_way`` trials: each
    character's drawing by the first drawer is a query against the second drawer's drawings
    of all ``n_way`` characters. With the defaults: 10 alphabets x 2 tasks x 20 queries =
    400 trials. ``drawer_pair`` fixes the (query, candidate) drawers of every task instead.

    Raises:
        ValueError: for ``n_way < 2``, ``num_trials < 1``, a split with fewer than two
            drawers, or an alphabet with fewer than ``n_way`` characters (the message names
            it and its size).
    """
    alphabets = tuple(alphabets)
    subset = split.select_alphabets(alphabets)
    index = subset.index()
    names = [subset.alphabet_names[a] for a in index.alphabet_ids]
    present = check_protocol_request(
        split, subset, index, names, n_way, num_trials
    )
    # by_drawer[c, d]: position in the subset of character row c's drawing by drawer d.
    rows = np.searchsorted(index.character_ids, subset.characters)
    by_drawer = np.full(
        (index.num_characters, DRAWERS_PER_CHARACTER), -1, np.int64
    )
    by_drawer[rows, subset.drawers] = np.arange(len(subset))
    rng = np.random.default_rng(seed)
    queries, candidates, answers, groups = [], [], [], []
    task = 0
    while len(queries) < num_trials:
        name = alphabets[task % len(alphabets)]
        row = names.index(name)
        members = index.alphabet_characters[row, : index.alphabet_sizes[row]]
        chosen = rng.choice(members, size=n_way, replace=False)
        drawer_one, drawer_two = drawer_pair or rng.choice(
            present, size=2, replace=False
        )
        query_images = by_drawer[chosen, drawer_one]
        candidate_images = by_drawer[chosen, drawer_two]
        if (query_images < 0).any() or (candidate_images < 0).any():
            raise ValueError(
                f"Split {split.name!r} lacks some drawings of drawers {drawer_one}, {drawer_two}."
            )
        for position in range(n_way):
            if len(queries) == num_trials:
                break
            queries.append(query_images[position])
            candidates.append(candidate_images)
            answers.append(position)
            groups.append(name)
        task += 1
    # Map split positions to a compact pool holding only the images the trials use.
    used, inverse = np.unique(
        np.concatenate([queries, np.ravel(candidates)]), return_inverse=True
    )
    t = len(queries)
    return OneShotTrials(
        name="paper protocol",
        images=subset.images[used],
        queries=inverse[:t],
        candidates=inverse[t:].reshape(t, n_way),
        answers=np.asarray(answers),
        groups=tuple(groups),
    )


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verified_download(
    filename: str,
    origin: str,
    sha256: str,
    what: str,
    cache_subdir: str = "datasets",
    cache_dir: str | os.PathLike | None = None,
) -> str:
    """Path of ``filename``, downloaded once with ``keras.utils.get_file`` and checked.

    A copy already in the cache (``$KERAS_HOME/<cache_subdir>/filename``, or under
    ``cache_dir``) is used offline when its sha256 matches; one that does not match is set
    aside as ``.corrupt`` (Keras would delete it when the new download fails).

    Raises:
        FileNotFoundError: when no valid copy is cached and the download fails; the message
            names ``what``, where to put the file, and whether a cached copy failed its
            checksum.
    """
    home = (
        os.fspath(cache_dir)
        if cache_dir is not None
        else os.environ.get(
            "KERAS_HOME", os.path.join(os.path.expanduser("~"), ".keras")
        )
    )
    cached = os.path.join(home, cache_subdir, filename)
    set_aside = None
    if os.path.exists(cached) and _sha256(cached) != sha256:
        set_aside = cached + ".corrupt"
        os.replace(cached, set_aside)
    try:
        return keras.utils.get_file(
            filename,
            origin=origin,
            file_hash=sha256,
            cache_subdir=cache_subdir,
            cache_dir=home,  # where it was looked for above, read now from KERAS_HOME
        )
    except Exception as error:
        found = (
            f" The copy at {cached} did not match that sha256 (it is corrupt or incomplete); "
            f"it was moved to {set_aside}. Put a good copy in its place, or run again with "
            "internet access."
            if set_aside
            else ""
        )
        raise FileNotFoundError(
            f"Could not obtain {what} ({filename}, sha256 {sha256[:12]}...) from "
            f"{origin}.{found} Without internet, place a copy at "
            f"$KERAS_HOME/{cache_subdir}/{filename} (KERAS_HOME defaults to ~/.keras). "
            f"The attempt failed with {type(error).__name__}: {error}"
        ) from error


def official_runs_path(cache_dir: str | os.PathLike | None = None) -> str:
    """Path of ``all_runs.zip``, downloaded once and checked (:func:`verified_download`).

    Raises:
        FileNotFoundError: when no valid copy is cached and the download fails.
    """
    return verified_download(
        OFFICIAL_RUNS_FILENAME,
        OFFICIAL_RUNS_URL,
        OFFICIAL_RUNS_SHA256,
        "the official one-shot runs",
        OFFICIAL_RUNS_CACHE_SUBDIR,
        cache_dir,
    )


def _decode_png(data: bytes, image_size: int) -> np.ndarray:
    if keras.backend.backend() != "tensorflow":
        return _decode_png_without_tensorflow(data, image_size)
    # TensorFlow on its own backend, to decode and resize as tfds' images are.
    import tensorflow as tf

    image = tf.io.decode_png(data, channels=1)
    # Ink = 1, as in siamese_utils.data.
    image = 1.0 - tf.cast(image, tf.float32) / 255.0
    if image.shape[0] != image_size:
        image = tf.image.resize(image, (image_size, image_size), "area")
    return np.clip(image.numpy(), 0.0, 1.0)


def _decode_png_without_tensorflow(data: bytes, image_size: int) -> np.ndarray:
    # Other backends (JAX on the GPU machine) may have no TensorFlow; Pillow comes with
    # matplotlib. The runs' PNGs are 105-pixel black and white, so at 105 pixels the two
    # decoders agree exactly; resizing as tfds' images are resized needs TensorFlow.
    import PIL.Image

    image = np.asarray(PIL.Image.open(io.BytesIO(data)).convert("L"))
    if image.shape[0] != image_size:
        raise ValueError(
            f"The official runs are {image.shape[0]}-pixel images; resizing them to "
            f"{image_size} pixels needs TensorFlow, which the {keras.backend.backend()} "
            "backend here runs without. Use a profile with 105-pixel images (paper)."
        )
    return (1.0 - image.astype(np.float32) / 255.0)[..., None]


def official_runs(
    image_size: int = ORIGINAL_IMAGE_SIZE, cache_dir=None
) -> OneShotTrials:
    """The 400 trials (20 runs x 20 queries, 20-way) of Lake et al.'s ``all_runs.zip``.

    Each run's ``class_labels.txt`` pairs every test image with the training image of its
    character; the 20 training images are the candidates of all 20 queries of the run.
    """
    path = official_runs_path(cache_dir)
    images, queries, candidates, answers, groups = [], [], [], [], []
    with zipfile.ZipFile(path) as archive:
        for run in range(1, NUM_OFFICIAL_RUNS + 1):
            prefix = f"run{run:02d}"
            base = len(images)
            training = [
                f"{prefix}/training/class{k:02d}.png" for k in range(1, 21)
            ]
            for member in training:
                images.append(_decode_png(archive.read(member), image_size))
            lines = (
                archive.read(f"{prefix}/class_labels.txt").decode().split("\n")
            )
            for line in filter(None, (text.strip() for text in lines)):
                test_member, train_member = line.split()
                images.append(
                    _decode_png(archive.read(test_member), image_size)
                )
                queries.append(len(images) - 1)
                candidates.append(np.arange(base, base + 20))
                answers.append(training.index(train_member))
                groups.append(prefix)
    return OneShotTrials(
        name="official runs",
        images=np.stack(images).astype(np.float32),
        queries=np.asarray(queries),
        candidates=np.stack(candidates),
        answers=np.asarray(answers),
        groups=tuple(groups),
    )


def pick_candidates(
    scores: np.ndarray, seed: int | np.random.Generator = 0
) -> np.ndarray:
    """Position of the best score in each row, ties broken uniformly at random.

    ``np.argmax`` alone would always pick the first of equal scores: a model that outputs
    a constant would then "choose" candidate 0 every time, and score 100% whenever the
    correct answer is stored first.
    """
    scores = np.asarray(scores)
    rng = (
        seed
        if isinstance(seed, np.random.Generator)
        else np.random.default_rng(seed)
    )
    is_best = scores == scores.max(axis=1, keepdims=True)
    return np.argmax(is_best * rng.random(scores.shape), axis=1)


@dataclasses.dataclass(frozen=True)
class OneShotResult:
    """Scores and choices of one model on one set of trials."""

    trials: OneShotTrials
    scores: np.ndarray  # (t, n): higher means "more likely the query's character"; logits for a network
    choices: np.ndarray  # (t,): the chosen candidate position

    @property
    def correct(self) -> np.ndarray:
        """Boolean ``(t,)``: was each trial answered correctly?"""
        return self.choices == self.trials.answers

    @property
    def accuracy(self) -> float:
        """Share of trials answered correctly, in [0, 1]."""
        return float(np.mean(self.correct))


def siamese_scores(
    network, trials: OneShotTrials, batch_size: int = 256
) -> np.ndarray:
    """The similarity score (logit) of every (query, candidate) pair of every trial, ``(t, n)``.

    Each pool image goes through the twin once; the pairs are then scored from the cached
    embeddings by the network's L1 distance and classifier layers. ``sigmoid`` of a score is
    the network's p(same); ranking by the score keeps apart what p would round to one.
    """
    embeddings = embed(network, trials.images, batch_size=batch_size)
    left = np.repeat(embeddings[trials.queries], trials.n_way, axis=0)
    right = embeddings[trials.candidates.ravel()]
    return score_embeddings(network, left, right).reshape(
        len(trials), trials.n_way
    )


def pixel_distance_scores(trials: OneShotTrials) -> np.ndarray:
    """Negative Euclidean pixel distance of every (query, candidate) pair: the 1-NN baseline."""
    flat = trials.images.reshape(len(trials.images), -1).astype(np.float64)
    query = flat[trials.queries][:, None, :]
    candidates = flat[trials.candidates]
    return -np.sqrt(((query - candidates) ** 2).sum(axis=-1))


def one_shot(network, trials: OneShotTrials, seed: int = 0) -> OneShotResult:
    """Evaluate a Siamese network on ``trials`` (cached embeddings, random tie-breaking)."""
    scores = siamese_scores(network, trials)
    return OneShotResult(trials, scores, pick_candidates(scores, seed))


def pixel_nearest_neighbour(
    trials: OneShotTrials, seed: int = 0
) -> OneShotResult:
    """The 1-nearest-neighbour baseline in pixel space on the same trials."""
    scores = pixel_distance_scores(trials)
    return OneShotResult(trials, scores, pick_candidates(scores, seed))
