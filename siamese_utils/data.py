"""Omniglot through tensorflow-datasets: images, the alphabet index, and image pairs.

Conventions used throughout the book:

* Images are ``float32`` arrays of shape ``(n, size, size, 1)`` with values in [0, 1] and
  **ink = 1**, background = 0. Omniglot's PNGs are black strokes on white; inverting them
  makes the empty background zero, which is what zero padding, resizing and pixel
  distances assume.
* tfds' ``train`` split is Omniglot's *background* set (30 alphabets), ``test`` its
  *evaluation* set (20 alphabets); ``small1`` and ``small2`` are the two minimal background
  subsets of Lake et al. (2015). Characters are identified by tfds' global ``label``
  (0..1622), so background and evaluation characters can never be confused.
* The evaluation alphabets are split in two fixed halves: :data:`TEST_ALPHABETS`, the ten
  alphabets from which the official 20 one-shot runs of ``all_runs.zip`` were drawn, and
  :data:`VALIDATION_ALPHABETS`, the other ten, for model selection.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import socket

import numpy as np

from siamese_utils import drawers

SPLITS = ("train", "test", "small1", "small2")
ORIGINAL_IMAGE_SIZE = drawers.ORIGINAL_IMAGE_SIZE
DATASET_NAME = "omniglot"

# The ten evaluation alphabets of the official one-shot runs (two runs each); checked
# against all_runs.zip in the tests.
TEST_ALPHABETS = (
    "Atlantean",
    "Ge_ez",
    "Glagolitic",
    "Gurmukhi",
    "Kannada",
    "Malayalam",
    "Manipuri",
    "Old_Church_Slavonic_(Cyrillic)",
    "Tengwar",
    "Tibetan",
)
VALIDATION_ALPHABETS = (
    "Angelic",
    "Atemayar_Qelisayer",
    "Aurek-Besh",
    "Avesta",
    "Keble",
    "Mongolian",
    "Oriya",
    "Sylheti",
    "Syriac_(Serto)",
    "ULOG",
)


# The paper's drawer split (Koch et al., 2015, Section 4.1): of the 20 people who drew each
# character, 12 supply the training images, 4 the validation and 4 the test images, so the
# validation and test drawers' handwriting is never seen in training. tfds drops the drawer;
# siamese_utils.drawers restores it from the original file names. These are drawer indices
# (from 0, as siamese_utils.drawers explains): indices 0-11 are drawers 1-12, the files
# *_01.png to *_12.png. The paper does not say which 12 it took; these are the first 12.
DRAWERS_PER_CHARACTER = drawers.DRAWERS_PER_CHARACTER
TRAINING_DRAWERS = tuple(range(0, 12))
VALIDATION_DRAWERS = tuple(range(12, 16))
TEST_DRAWERS = tuple(range(16, 20))


class OmniglotNotFoundError(FileNotFoundError):
    """Omniglot is neither prepared in the data directory nor downloadable."""


@dataclasses.dataclass(frozen=True)
class OmniglotSplit:
    """One split of Omniglot held in memory.

    Attributes:
        name: the tfds split (``train``, ``test``, ``small1``, ``small2``), with a suffix
            when the split was narrowed with :meth:`select_alphabets`.
        images: ``float32`` array ``(n, size, size, 1)``, ink = 1, read-only.
        characters: ``int64`` array ``(n,)``, the global character id (tfds ``label``).
        alphabets: ``int64`` array ``(n,)``, the alphabet id (index into
            ``alphabet_names``).
        alphabet_names: the names of all 50 alphabets, indexed by alphabet id.
        drawers: ``int64`` array ``(n,)``, who drew each image (0..19; the ``MM`` - 1 of
            the original file ``NNNN_MM.png``), restored by :mod:`siamese_utils.drawers`.
    """

    name: str
    images: np.ndarray
    characters: np.ndarray
    alphabets: np.ndarray
    alphabet_names: tuple[str, ...]
    drawers: np.ndarray

    def __len__(self) -> int:
        return len(self.characters)

    @property
    def image_size(self) -> int:
        """Side of the square images, in pixels."""
        return int(self.images.shape[1])

    @property
    def alphabets_present(self) -> tuple[str, ...]:
        """Names of the alphabets that have images in this split, sorted."""
        return tuple(
            sorted(self.alphabet_names[a] for a in np.unique(self.alphabets))
        )

    @property
    def num_characters(self) -> int:
        """Number of distinct characters in this split."""
        return int(len(np.unique(self.characters)))

    def select_alphabets(self, names) -> OmniglotSplit:
        """Return the part of this split that belongs to the alphabets ``names``.

        Raises:
            ValueError: if a name is not an alphabet of this split (for example an
                evaluation alphabet asked of the background split).
        """
        names = tuple(names)
        missing = sorted(set(names) - set(self.alphabets_present))
        if missing:
            raise ValueError(
                f"Alphabets {missing} are not in split {self.name!r}, which holds: "
                f"{', '.join(self.alphabets_present)}."
            )
        ids = [self.alphabet_names.index(n) for n in names]
        return self._subset(
            np.isin(self.alphabets, ids), f"{len(names)} alphabets"
        )

    def select_drawers(self, drawers) -> OmniglotSplit:
        """Return the images drawn by the given drawers (see :data:`TRAINING_DRAWERS`).

        Raises:
            ValueError: for an empty selection or a drawer outside 0..19.
        """
        drawers = sorted({int(d) for d in drawers})
        if (
            not drawers
            or drawers[0] < 0
            or drawers[-1] >= DRAWERS_PER_CHARACTER
        ):
            raise ValueError(
                f"drawers must be a non-empty selection of 0..{DRAWERS_PER_CHARACTER - 1}, "
                f"got {drawers}."
            )
        return self._subset(
            np.isin(self.drawers, drawers), f"{len(drawers)} drawers"
        )

    def _subset(self, keep: np.ndarray, description: str) -> OmniglotSplit:
        return OmniglotSplit(
            name=f"{self.name}[{description}]",
            images=_read_only(self.images[keep]),
            characters=_read_only(self.characters[keep]),
            alphabets=_read_only(self.alphabets[keep]),
            alphabet_names=self.alphabet_names,
            drawers=_read_only(self.drawers[keep]),
        )

    def index(self) -> CharacterIndex:
        """The alphabet -> character -> image index of this split."""
        return CharacterIndex.from_split(self)


def require_positive_integers(**values) -> None:
    """Raise ``ValueError`` naming the first argument that is not a positive integer."""
    for label, value in values.items():
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, np.integer))
            or value < 1
        ):
            raise ValueError(
                f"{label} must be a positive integer, got {value!r}."
            )


def _read_only(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> str | None:
    """The tfds data directory to use: ``data_dir``, else ``$TFDS_DATA_DIR``, else tfds' default."""
    if data_dir is not None:
        return os.fspath(data_dir)
    return os.environ.get("TFDS_DATA_DIR") or None


# tfds' Omniglot builder downloads its archives from the dataset's GitHub repository. Without
# a connection tfds would retry each download for minutes; a quick probe answers at once.
DOWNLOAD_HOST = "github.com"
PROBE_SECONDS = 10


def can_reach_download_host(timeout: float = PROBE_SECONDS) -> bool:
    """Whether a TCP connection to tfds' download host opens within ``timeout`` seconds.

    Behind an HTTPS proxy (``HTTPS_PROXY`` set) a direct connection proves nothing, so the
    answer is then yes and tfds tries for itself.
    """
    if os.environ.get("HTTPS_PROXY") or os.environ.get("https_proxy"):
        return True
    try:
        with socket.create_connection((DOWNLOAD_HOST, 443), timeout=timeout):
            return True
    except OSError:
        return False


def _omniglot_builder(data_dir: str | None, download: bool):
    """A tfds builder for Omniglot, prepared (downloaded) if needed and allowed."""
    # tfds and TensorFlow are imported only to read the dataset: they take seconds to
    # start, and the rest of this module (the samplers) is NumPy.
    import tensorflow_datasets as tfds

    builder = tfds.builder(DATASET_NAME, data_dir=data_dir)
    if builder.is_prepared():
        return builder
    where = builder.data_dir
    advice = (
        f"Omniglot is not prepared in {where}. Point the environment variable "
        "TFDS_DATA_DIR (or the data_dir argument) at the folder that holds "
        "'omniglot/3.0.0', or let tfds download it once with internet access: "
        "python -c \"import tensorflow_datasets as tfds; tfds.load('omniglot')\" "
        "(about 17 MB; tensorflow-datasets also needs the package importlib_resources "
        "for that step)."
    )
    if not download:
        raise OmniglotNotFoundError(
            advice + " Downloading was switched off (download=False)."
        )
    if not can_reach_download_host():
        raise OmniglotNotFoundError(
            f"{advice} This machine cannot reach {DOWNLOAD_HOST} (no connection within "
            f"{PROBE_SECONDS} s), so tfds cannot download it here."
        )
    try:
        builder.download_and_prepare()
    except Exception as error:  # network, disk and checksum failures alike
        raise OmniglotNotFoundError(
            f"{advice} The download failed with {type(error).__name__}: {error}"
        ) from error
    return builder


@functools.lru_cache(maxsize=8)
def _load_cached(
    split: str, image_size: int, data_dir: str | None, download: bool
):
    # Only to read the dataset (see _omniglot_builder).
    import tensorflow as tf
    import tensorflow_datasets as tfds

    builder = _omniglot_builder(data_dir, download)
    dataset = builder.as_dataset(split=split, batch_size=-1)
    arrays = tfds.as_numpy(dataset)
    # Who drew each image, from its pixels as stored (before any resizing).
    drawer_ids = drawers.assign_drawers(
        arrays["label"], drawers.fingerprint(arrays["image"])
    )
    # The three channels of tfds' image are identical: keep one, invert so ink = 1.
    images = 1.0 - arrays["image"][..., :1].astype(np.float32) / 255.0
    if image_size != ORIGINAL_IMAGE_SIZE:
        # Area averaging keeps thin strokes visible as grey instead of dropping them.
        resized = [
            tf.image.resize(
                images[start : start + 2048], (image_size, image_size), "area"
            )
            for start in range(0, len(images), 2048)
        ]
        images = np.clip(np.concatenate([r.numpy() for r in resized]), 0.0, 1.0)
    names = tuple(builder.info.features["alphabet"].names)
    return OmniglotSplit(
        name=split,
        images=_read_only(images.astype(np.float32)),
        characters=_read_only(arrays["label"].astype(np.int64)),
        alphabets=_read_only(arrays["alphabet"].astype(np.int64)),
        alphabet_names=names,
        drawers=_read_only(drawer_ids.astype(np.int64)),
    )


def load_split(
    split: str,
    image_size: int = ORIGINAL_IMAGE_SIZE,
    data_dir: str | os.PathLike | None = None,
    download: bool = True,
) -> OmniglotSplit:
    """Load one Omniglot split with ``tfds`` into memory (cached per process).

    Args:
        split: ``train`` (background alphabets), ``test`` (evaluation alphabets),
            ``small1`` or ``small2``.
        image_size: side of the returned square images; 105 keeps the originals.
        data_dir: tfds data directory; defaults to ``$TFDS_DATA_DIR``, then tfds' own default.
        download: let tfds download and prepare the dataset when it is missing.

    Where the environment variable ``SIAMESE_OMNIGLOT_FILE`` names a file written by
    :func:`export_omniglot`, the split is read from it instead (for machines without
    TensorFlow).

    Raises:
        ValueError: for an unknown split or an image size below 8 pixels.
        OmniglotNotFoundError: when the dataset is missing and cannot be downloaded.
    """
    if split not in SPLITS:
        raise ValueError(
            f"Unknown Omniglot split {split!r}; choose one of {', '.join(SPLITS)}."
        )
    if (
        not isinstance(image_size, (int, np.integer))
        or not 8 <= image_size <= 512
    ):
        raise ValueError(
            f"image_size must be an integer from 8 to 512, got {image_size!r}."
        )
    exported = os.environ.get(OMNIGLOT_FILE_VARIABLE)
    if exported:  # a machine without tfds (see export_omniglot)
        return _load_exported(exported, split, int(image_size))
    return _load_cached(
        split, int(image_size), resolve_data_dir(data_dir), bool(download)
    )


# Omniglot as one NumPy file, for machines without TensorFlow and tfds (the GPU machine of
# the paper-scale run has Keras on JAX only): export_omniglot writes it where tfds works, and
# load_split reads it wherever the environment variable names it.
OMNIGLOT_FILE_VARIABLE = "SIAMESE_OMNIGLOT_FILE"
EXPORTED_SPLITS = ("train", "test")
_EXPORTED_FIELDS = ("characters", "alphabets", "drawers")


def export_omniglot(
    path: str | os.PathLike,
    image_size: int = ORIGINAL_IMAGE_SIZE,
    data_dir: str | os.PathLike | None = None,
) -> str:
    """Write the background and evaluation splits at ``image_size`` into one ``.npz``.

    Images, characters, alphabets and the restored drawers, as :func:`load_split` returns
    them. The 105-pixel originals are black and white, so they are stored one bit a pixel
    (about 5 MB for both splits). Point ``$SIAMESE_OMNIGLOT_FILE`` at the file on the other
    machine.

    Returns:
        The path written.

    Raises:
        FileExistsError: ``path`` exists (nothing is overwritten).
    """
    path = os.fspath(path)
    if os.path.exists(path):
        raise FileExistsError(
            f"{path} exists; remove it or choose another path to export Omniglot to."
        )
    arrays = {"image_size": np.int64(image_size)}
    for split in EXPORTED_SPLITS:
        loaded = load_split(split, image_size, data_dir=data_dir)
        images = loaded.images[..., 0]
        binary = bool(np.all((images == 0.0) | (images == 1.0)))
        arrays[f"{split}_images"] = (
            np.packbits(images.astype(bool), axis=-1) if binary else images
        )
        arrays[f"{split}_binary"] = np.bool_(binary)
        for field in _EXPORTED_FIELDS:
            arrays[f"{split}_{field}"] = getattr(loaded, field)
    # Both splits index the same 50 alphabet names.
    arrays["alphabet_names"] = np.asarray(loaded.alphabet_names)
    with open(path, "xb") as file:
        np.savez_compressed(file, **arrays)
    return path


@functools.lru_cache(maxsize=8)
def _load_exported(path: str, split: str, image_size: int) -> OmniglotSplit:
    """One split of a file written by :func:`export_omniglot`."""
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"{OMNIGLOT_FILE_VARIABLE} names {path}, which does not exist. Write it with "
            "python -m siamese_utils export on a machine with tensorflow-datasets, or "
            f"unset {OMNIGLOT_FILE_VARIABLE} to read Omniglot through tfds."
        )
    if split not in EXPORTED_SPLITS:
        raise ValueError(
            f"{path} holds the splits {', '.join(EXPORTED_SPLITS)}, not {split!r}."
        )
    with np.load(path) as stored:
        size = int(stored["image_size"])
        if size != image_size:
            raise ValueError(
                f"{path} holds {size}-pixel images, and {image_size}-pixel ones were "
                f"asked for; export the file again with image_size={image_size}."
            )
        images = stored[f"{split}_images"]
        if bool(stored[f"{split}_binary"]):
            images = np.unpackbits(images, axis=-1, count=size)
        fields = {f: stored[f"{split}_{f}"] for f in _EXPORTED_FIELDS}
        names = tuple(str(n) for n in stored["alphabet_names"])
    return OmniglotSplit(
        name=split,
        images=_read_only(images.astype(np.float32)[..., None]),
        alphabet_names=names,
        **{f: _read_only(v.astype(np.int64)) for f, v in fields.items()},
    )


@dataclasses.dataclass(frozen=True)
class CharacterIndex:
    """Which images belong to which character, and which characters to which alphabet.

    Built with :meth:`OmniglotSplit.index`. Arrays are padded with ``-1``.

    Attributes:
        character_ids: global id of each of the split's characters, ``(c,)``.
        character_alphabet: alphabet id of each character, ``(c,)``.
        image_counts: images of each character, ``(c,)``.
        character_images: image positions in the split, ``(c, max images)``.
        alphabet_ids: the alphabets present, ``(a,)``.
        alphabet_sizes: characters in each alphabet, ``(a,)``.
        alphabet_characters: character positions (rows of ``character_ids``) of each
            alphabet, ``(a, max characters)``.
    """

    character_ids: np.ndarray
    character_alphabet: np.ndarray
    image_counts: np.ndarray
    character_images: np.ndarray
    alphabet_ids: np.ndarray
    alphabet_sizes: np.ndarray
    alphabet_characters: np.ndarray

    @classmethod
    def from_split(cls, split: OmniglotSplit) -> CharacterIndex:
        """Index the images of ``split`` (stable order: by character id, then position)."""
        character_ids, first, counts = np.unique(
            split.characters, return_index=True, return_counts=True
        )
        order = np.argsort(split.characters, kind="stable")
        character_images = np.full(
            (len(character_ids), counts.max()), -1, np.int64
        )
        offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
        for row, (offset, count) in enumerate(zip(offsets, counts)):
            character_images[row, :count] = order[offset : offset + count]
        character_alphabet = split.alphabets[first]
        alphabet_ids, alphabet_sizes = np.unique(
            character_alphabet, return_counts=True
        )
        alphabet_characters = np.full(
            (len(alphabet_ids), alphabet_sizes.max()), -1, np.int64
        )
        for row, alphabet in enumerate(alphabet_ids):
            members = np.flatnonzero(character_alphabet == alphabet)
            alphabet_characters[row, : len(members)] = members
        return cls(
            character_ids=character_ids,
            character_alphabet=character_alphabet,
            image_counts=counts,
            character_images=character_images,
            alphabet_ids=alphabet_ids,
            alphabet_sizes=alphabet_sizes,
            alphabet_characters=alphabet_characters,
        )

    @property
    def num_characters(self) -> int:
        """Number of characters indexed."""
        return len(self.character_ids)


def validation_split(
    image_size: int = ORIGINAL_IMAGE_SIZE,
    data_dir: str | os.PathLike | None = None,
) -> OmniglotSplit:
    """The paper's validation images: the validation alphabets, drawn by drawers 13-16."""
    evaluation = load_split("test", image_size, data_dir=data_dir)
    return evaluation.select_alphabets(VALIDATION_ALPHABETS).select_drawers(
        VALIDATION_DRAWERS
    )


# Alphabet names as tfds stores them, where an underscore stands for something else.
ALPHABET_NAMES = {"Ge_ez": "Ge'ez"}


def alphabet_name(stored: str) -> str:
    """An alphabet's name for a reader: ``Ge_ez`` is Ge'ez, other underscores spaces."""
    return ALPHABET_NAMES.get(stored, stored.replace("_", " "))
