"""Who drew each image: Omniglot's drawers, restored for tfds.

Koch et al. (2015) split Omniglot by the *people* who drew it: 12 of the 20 drawers of every
character supply the training images, and the validation and test drawers are never seen in
training. tfds keeps an image's character (``label``) but drops its drawer. The original
archives name every PNG ``NNNN_MM.png``: character id ``NNNN`` (tfds' ``label`` + 1) and
drawer ``MM``. The package ships a small table, ``omniglot_drawers.npy``, that holds a
fingerprint of the pixels of each character's 20 drawings, one column per drawer, made once
from the archives by ``tools/drawer_table.py``. Looking a tfds image's fingerprint up in its
character's row gives the drawer back, whatever order tfds stored the images in.

The book counts drawers two ways, each in its own place. Code holds a drawer as an index
from 0 (the file ``0001_01.png`` is drawer index 0), as arrays do; every text a reader sees
(docstrings, tables, the chapters, ``results.json``) counts from 1, as Omniglot's file names
do (``0001_01.png`` is drawer 1). A docstring that means an index says "index".
"""

from __future__ import annotations

import functools
import hashlib
import os
import pathlib
import re
import zipfile

import numpy as np

# Omniglot's images are 105 x 105 pixels; the paper trained at that size.
ORIGINAL_IMAGE_SIZE = 105
DRAWERS_PER_CHARACTER = 20
NUM_CHARACTERS = 1623
TABLE_PATH = pathlib.Path(__file__).with_name("omniglot_drawers.npy")
ARCHIVES = ("images_background.zip", "images_evaluation.zip")
_MEMBER = re.compile(r"(\d{4})_(\d{2})\.png$")


def fingerprint(images) -> np.ndarray:
    """A 64-bit fingerprint of each image's ink pattern, ``(n,)`` ``uint64``.

    ``images`` are Omniglot images as decoded from the PNGs, ``uint8`` ``(n, 105, 105)`` or
    ``(n, 105, 105, channels)`` (the first channel is used): black ink (< 128) on white.
    Two images get the same fingerprint exactly when they have the same pixels (up to a
    2^-64 chance), independently of how they were stored or compressed.
    """
    images = np.asarray(images)
    if images.ndim == 4:
        images = images[..., 0]
    if images.ndim != 3:
        raise ValueError(
            f"fingerprint expects (n, height, width[, channels]) images, got shape {images.shape}."
        )
    ink = np.packbits(images.reshape(len(images), -1) < 128, axis=1)
    digests = [
        hashlib.blake2b(row.tobytes(), digest_size=8).digest() for row in ink
    ]
    return np.frombuffer(b"".join(digests), dtype="<u8").astype(np.uint64)


def _decode(png: bytes) -> np.ndarray:
    # Only when the table is rebuilt from the archives (tools/drawer_table.py, its test);
    # looking drawers up needs NumPy alone.
    import tensorflow as tf

    return tf.io.decode_png(png, channels=1).numpy()[..., 0]


def table_from_archives(folder) -> np.ndarray:
    """The fingerprint table ``(1623, 20)`` built from the original Omniglot zips in ``folder``.

    Row ``label`` (character id - 1), column ``drawer`` (``MM`` - 1).

    Raises:
        FileNotFoundError: when ``folder`` lacks one of the two archives.
        ValueError: when a character does not have exactly its 20 drawings.
    """
    folder = pathlib.Path(folder)
    table = np.zeros((NUM_CHARACTERS, DRAWERS_PER_CHARACTER), np.uint64)
    seen = np.zeros(table.shape, bool)
    for name in ARCHIVES:
        path = folder / name
        if not path.exists():
            raise FileNotFoundError(
                f"{path} is missing: the drawer table is built from Omniglot's original "
                f"{' and '.join(ARCHIVES)} (github.com/brendenlake/omniglot, python/)."
            )
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                match = _MEMBER.search(member)
                if match is None:
                    continue
                label, drawer = int(match.group(1)) - 1, int(match.group(2)) - 1
                table[label, drawer] = fingerprint(
                    _decode(archive.read(member))[None]
                )[0]
                seen[label, drawer] = True
    if not seen.all():
        missing = np.argwhere(~seen)[:5] + 1
        raise ValueError(
            f"The archives lack drawings (character id, drawer): {missing.tolist()} ..."
        )
    return table


def save_table(table: np.ndarray, path=TABLE_PATH) -> None:
    """Write ``table`` as a ``.npy`` file (little-endian ``uint64``)."""
    np.save(os.fspath(path), np.asarray(table, "<u8"))


@functools.lru_cache(maxsize=1)
def load_table() -> np.ndarray:
    """The shipped fingerprint table, ``(1623, 20)`` ``uint64``, read-only."""
    table = np.load(TABLE_PATH).astype(np.uint64)
    table.flags.writeable = False
    return table


def assign_drawers(
    labels, fingerprints, table: np.ndarray | None = None
) -> np.ndarray:
    """The drawer (0..19) of each image, from its character ``labels`` and pixel ``fingerprints``.

    Two drawings of one character that happen to have identical pixels (one pair in the whole
    data set: character 0192, drawers 3 and 19) get the two drawers in the order they come.

    Raises:
        ValueError: when an image matches none of its character's drawings, which means the
            images are not Omniglot's originals (a changed tfds version, or resized images).
    """
    table = load_table() if table is None else table
    labels = np.asarray(labels, np.int64)
    fingerprints = np.asarray(fingerprints, np.uint64)
    matches = table[labels] == fingerprints[:, None]
    counts = matches.sum(axis=1)
    if (counts == 0).any():
        first = int(np.flatnonzero(counts == 0)[0])
        raise ValueError(
            f"{int((counts == 0).sum())} images match none of their character's 20 drawings in "
            f"the drawer table (first: image {first}, character label {int(labels[first])}). The "
            "table fits the original Omniglot PNGs at 105x105; regenerate it with "
            "tools/drawer_table.py if the data set changed."
        )
    drawers = np.argmax(matches, axis=1)
    for label, value in {
        (int(labels[i]), int(fingerprints[i]))
        for i in np.flatnonzero(counts > 1)
    }:
        same = np.flatnonzero(
            (labels == label) & (fingerprints == np.uint64(value))
        )
        drawers[same] = np.flatnonzero(table[label] == np.uint64(value))[
            : len(same)
        ]
    return drawers


def locate_images(images) -> tuple[np.ndarray, np.ndarray]:
    """Character label and drawer of images in the book's form (``-1`` where not found).

    ``images`` are ``(n, 105, 105, 1)`` floats with ink = 1, as :func:`siamese_utils.data.load_split`
    and :func:`siamese_utils.evaluate.official_runs` give them at the original size; they
    are turned back into the PNGs' black-on-white pixels and looked up by :func:`locate`.

    Raises:
        ValueError: for images of another size, whose pixels no longer match the originals.
    """
    images = np.asarray(images)
    if images.shape[1:3] != (ORIGINAL_IMAGE_SIZE, ORIGINAL_IMAGE_SIZE):
        raise ValueError(
            f"Only original-size images (105x105) can be located, got {images.shape[1:3]}."
        )
    return locate(
        fingerprint(np.where(images[..., 0] > 0.5, 0, 255).astype(np.uint8))
    )


def locate(
    fingerprints, table: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Character label and drawer of images known only by their pixels (``-1`` if not found).

    Used to find where the official one-shot runs (``all_runs.zip``) took their images from.
    """
    table = load_table() if table is None else table
    flat = table.ravel()
    order = np.argsort(flat, kind="stable")
    fingerprints = np.asarray(fingerprints, np.uint64)
    position = np.clip(
        np.searchsorted(flat[order], fingerprints), 0, len(flat) - 1
    )
    found = flat[order][position] == fingerprints
    cell = np.where(found, order[position], -1)
    labels = np.where(found, cell // DRAWERS_PER_CHARACTER, -1)
    drawers = np.where(found, cell % DRAWERS_PER_CHARACTER, -1)
    return labels, drawers
