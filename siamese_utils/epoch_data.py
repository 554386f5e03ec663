"""What each epoch of a reproduction trains on: its batches of indices, drawn from the run's
seed and the epoch's number alone, and the run's pool of fixed distortions.

Both pipelines (:mod:`siamese_utils.pipeline`, :mod:`siamese_utils.numpy_pipeline`) turn
these indices into images, so the same seed gives the same batches on every backend.
"""

from __future__ import annotations

import hashlib

import numpy as np

from siamese_utils.data import OmniglotSplit
from siamese_utils.distortions import (
    identity_transforms,
    sample_transforms,
    warp_copies,
)
from siamese_utils.recipe import Recipe

# The random stream of a run's distortion pool (numpy's spawn key), apart from its epochs'.
POOL_STREAM = 1


def epoch_batches(
    split: OmniglotSplit, profile, recipe: Recipe, seed: int, epoch: int
):
    """The index arrays of one epoch's training batches, drawn from ``(seed, epoch)`` alone.

    Because each epoch has its own generator, a run resumed at epoch ``e`` sees exactly the
    batches an uninterrupted run would have seen, without replaying earlier epochs.

    Returns:
        For ``pairs``: ``(left, right, same, left_transforms, right_transforms)``, each
        with a leading ``(steps_per_epoch, batch_size)``; for ``all-pairs``:
        ``(images, characters, transforms)`` with leading ``(steps_per_epoch,
        episodes_per_step x episode size)``. Transforms are identity rows when the recipe
        has no distortions. With a distortion pool the transforms are versions instead:
        integers in ``[0, distortion_pool]``, which of an image's pooled versions to show.
    """
    rng = np.random.default_rng([seed, epoch])
    steps = recipe.steps_per_epoch
    arrays = recipe.sampling.draw(split, profile, recipe, steps, rng, seed)
    width = arrays[0].shape[1]
    for _ in range(recipe.sampling.images_per_example):
        if recipe.distortion_pool:
            versions = rng.integers(
                0, recipe.distortion_pool + 1, steps * width
            )
            arrays.append(versions.reshape(steps, width))
        else:
            transforms = transforms_for(
                steps * width, split.image_size, rng, recipe.distortions
            )
            arrays.append(transforms.reshape(steps, width, 8))
    return tuple(arrays)


# The pools a process has built, by content: the reproduction builds its pool (timed) before
# the pipeline asks for the same one, and tests build the smoke recipe's many times.
_POOLS: dict = {}


def pooled_distortions(split: OmniglotSplit, recipe: Recipe, seed: int):
    """The run's fixed distortions of every image of ``split``: uint8 ``(n, pool + 1, ...)``.

    Drawn from ``seed`` alone (a stream of its own, apart from every epoch's), so a resumed
    run and every data-parallel worker warp exactly what the first run did. See
    :func:`siamese_utils.distortions.warp_copies`.
    """
    if not recipe.distortion_pool:
        raise ValueError("This recipe draws fresh distortions; it has no pool.")
    key = (
        hashlib.blake2b(np.ascontiguousarray(split.images)).hexdigest(),
        split.images.shape,
        recipe.distortion_pool,
        recipe.distortions,
        seed,
    )
    if key not in _POOLS:
        _POOLS.clear()  # one pool at a time: the paper's is 1.2 GB
        rng = np.random.default_rng(
            np.random.SeedSequence(seed, spawn_key=(POOL_STREAM,))
        )
        _POOLS[key] = warp_copies(
            split.images, recipe.distortion_pool, rng, recipe.distortions
        )
    return _POOLS[key]


def transforms_for(count, image_size, rng, ranges):
    """``count`` random affine transforms in ``ranges``, or identities without ranges."""
    if ranges is None:
        return identity_transforms(count)
    return sample_transforms(count, image_size, rng, ranges)
