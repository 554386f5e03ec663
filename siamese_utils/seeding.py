"""The book's one seeding helper."""

from __future__ import annotations

import logging

import keras
import numpy as np

DEFAULT_SEED = 2015  # the year of the paper; any fixed integer would do

# The fixed draws of a run, each seeded by the run's seed and its name (:func:`stream`):
# two runs with one seed score the same trials, and what one draw takes leaves the others
# alone. (The training batches of epoch ``e`` use ``[seed, e]``, and the distortion pool a
# spawned stream of ``seed``: ``siamese_utils.recipe``.)
STREAMS = {
    "validation-pairs": 1,
    "validation-trials": 2,
    "test-trials": 3,
    "test-pairs": 4,
    "calibration-pairs": 5,
    # bench.gap's tasks that copy each official run's alphabet and drawers
    "fresh-characters": 6,
    # a recipe's fixed set of training pairs (Recipe.pair_set)
    "training-pairs": 7,
}


def set_seed(seed: int = DEFAULT_SEED) -> np.random.Generator:
    """Seed Python, NumPy, TensorFlow and Keras, and return a NumPy generator.

    Every chapter calls this once at the top. The returned generator is what samplers
    should draw from when they are not given a seed of their own.

    On a CPU, a seeded run of the fast profile gives the same numbers twice. On a GPU,
    some cuDNN kernels (convolution backward passes) accumulate in a nondeterministic
    order, so losses agree only to a few decimals from run to run.
    """
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf  # the backend's own logger; absent on a JAX-only machine

        # In a notebook, TensorFlow's logger switches itself to INFO on first use and
        # prints notices (tf.function retracing) into the page; keep errors only.
        tf.get_logger().setLevel(logging.ERROR)
    # Seeds Python's `random`, NumPy's global state and the backend (TensorFlow).
    keras.utils.set_random_seed(int(seed))
    return np.random.default_rng(int(seed))


def stream(seed: int, name: str) -> int:
    """The seed of the draw ``name`` (a key of :data:`STREAMS`) in the run seeded ``seed``.

    Raises:
        ValueError: for a name that is not in :data:`STREAMS`.
    """
    if name not in STREAMS:
        raise ValueError(
            f"Unknown random stream {name!r}; the streams are {sorted(STREAMS)}."
        )
    return int(seed) + STREAMS[name]
