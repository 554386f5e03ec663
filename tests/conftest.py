"""Shared fixtures: the real Omniglot data, loaded once per test session.

The tests read Omniglot exactly as users do, through ``tfds.load`` with
``TFDS_DATA_DIR`` (or tfds' default folder) and the official runs through
``keras.utils.get_file``'s cache. Nothing here fakes the dataset.
"""

import os

import pytest

# As in the book build (tools/build_book.py): the notebooks nbval executes, and their stored
# outputs, carry no TensorFlow start-up notices. The package itself sets no log level.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

SMALL_SIZE = 32  # the smoke profile's size: small for speed; the logic does not depend on it


@pytest.fixture(scope="session")
def background():
    from siamese_utils import data

    return data.load_split("train", SMALL_SIZE)


@pytest.fixture(scope="session")
def evaluation():
    from siamese_utils import data

    return data.load_split("test", SMALL_SIZE)
