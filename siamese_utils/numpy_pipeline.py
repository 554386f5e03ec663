"""The reproduction's batches as NumPy arrays, for Keras backends without ``tf.data``.

The book feeds its network through ``tf.data`` (:mod:`siamese_utils.pipeline`), which needs
TensorFlow. Keras on another backend (JAX, on the GPU machine of the paper-scale run, which
has no TensorFlow) takes NumPy batches instead: :func:`training_batches` draws them with the
same :func:`siamese_utils.epoch_data.epoch_batches` from the same seed, so they are the batches
``tf.data`` would have made. A distortion pool makes each batch a lookup; fresh distortions
are warped with ``keras.ops``, on whatever device the backend uses. Omniglot itself comes
from a file that :func:`siamese_utils.data.export_omniglot` wrote where tfds works.
"""

from __future__ import annotations

import numpy as np
from keras import ops

from siamese_utils.distortions import POOL_LEVELS, distort
from siamese_utils.epoch_data import epoch_batches


def training_batches(
    split, profile, recipe, seed: int, start_epoch: int = 0, pool=None
):
    """The reproduction's batches from ``start_epoch`` on, as NumPy arrays for ``fit``.

    The same batches, in the same order, as :func:`siamese_utils.pipeline.training_dataset`
    (one device): ``((left, right), same)`` for pairs, ``(images, characters)`` for
    all-pairs steps. ``pool`` is the recipe's distortion pool
    (:func:`siamese_utils.recipe.distortion_pool`) when it has one.
    """
    if bool(recipe.distortion_pool) != (pool is not None):
        raise ValueError(
            "Pass the recipe's distortion pool exactly when the recipe has one "
            f"(distortion_pool={recipe.distortion_pool})."
        )
    images = split.images

    def take(positions, transform):
        if pool is not None:  # transform: which version of each image
            return pool[positions, transform].astype(np.float32) / POOL_LEVELS
        taken = images[positions]
        if recipe.distortions is None:
            return taken
        return ops.convert_to_numpy(distort(taken, transform))

    for epoch in range(start_epoch, recipe.max_epochs):
        arrays = epoch_batches(split, profile, recipe, seed, epoch)
        for step in range(recipe.steps_per_epoch):
            batch = [array[step] for array in arrays]
            yield recipe.sampling.example(batch, take)
