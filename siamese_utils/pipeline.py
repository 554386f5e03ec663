"""Every ``tf.data`` pipeline of the book: index batches in, image batches out.

The samplers (:mod:`siamese_utils.data` for pairs and episodes, :mod:`siamese_utils.recipe`
for a reproduction's epochs) decide *which* images make up each batch, as NumPy index arrays
drawn from a seed. This module turns those indices into image batches inside a ``tf.data``
pipeline, distorting them when the recipe asks, and prepares the next batches while the
model trains. One pipeline serves the chapters' short runs (:func:`pair_dataset`,
:func:`episode_dataset`), the reproduction (:func:`training_dataset`), data-parallel
training (its ``replicas`` slices) and the benchmarks.

Elements are ``((left, right), same)`` for pairs and ``(images, character_ids)`` for
episodes, the inputs and targets Keras' ``fit`` expects.
"""

from __future__ import annotations

import tensorflow as tf

from siamese_utils.data import OmniglotSplit, require_positive_integers
from siamese_utils.distortions import POOL_LEVELS, distort
from siamese_utils.epoch_data import epoch_batches, pooled_distortions
from siamese_utils.recipe import Recipe, check_distributable
from siamese_utils.sampling import Episodes, sample_pairs


def _gathering(split: OmniglotSplit, batch: int, warp: bool, pool=None):
    """The map functions that gather (and with ``warp`` distort) one batch of each kind.

    With a distortion ``pool`` (``(n, versions, size, size, 1)`` uint8,
    :func:`siamese_utils.recipe.distortion_pool`) the batches' second argument names
    each image's version, and taking one is a lookup: nothing is warped during training.
    """
    shape = (batch, split.image_size, split.image_size, 1)
    if pool is not None:
        versions = pool.shape[1]
        images = tf.constant(pool.reshape(-1, *pool.shape[2:]))

        def take(positions, version):
            taken = tf.gather(images, positions * versions + version)
            return tf.ensure_shape(
                tf.cast(taken, tf.float32) / POOL_LEVELS, shape
            )

    else:
        images = tf.constant(split.images)

        def take(positions, transforms=None):
            taken = tf.gather(images, positions)
            # Without distortions the transforms would be identity rows: skip the resampling.
            return tf.ensure_shape(
                distort(taken, transforms) if warp else taken, shape
            )

    def pairs(left, right, same, left_transforms=None, right_transforms=None):
        return (
            take(left, left_transforms),
            take(right, right_transforms),
        ), same[:, None]

    def episodes(positions, characters, transforms=None):
        return take(positions, transforms), characters

    return pairs, episodes


# Batches prepared ahead of the one training: making one takes a few milliseconds on two
# CPU cores, a training step a hundred or more, so two in hand keep the model fed.
PREFETCHED_BATCHES = 2


def _finish(dataset, gather):
    """Gather in parallel, in order (the same seed gives the same batches), and prefetch.

    tf.data's autotuner is switched off. On the 2-core machine the book was measured on,
    it sent training into stretches of much slower steps, whether the batches came from
    the pipeline or from memory (``python -m bench --only pipeline`` times the fast
    recipe's training with it and without it). Without it the map runs on as many threads
    as there are cores (at most 16), and one batch takes a few milliseconds to make.
    """
    dataset = dataset.map(
        gather, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
    )
    return with_autotuner(dataset.prefetch(PREFETCHED_BATCHES), enabled=False)


def with_autotuner(dataset, enabled: bool):
    """``dataset`` with tf.data's autotuner switched on or off (the pipelines switch it off)."""
    options = tf.data.Options()
    options.autotune.enabled = enabled
    return dataset.with_options(options)


def pair_dataset(
    split: OmniglotSplit,
    batch_size: int,
    steps: int,
    seed: int,
    same_alphabet_negatives: float = 0.5,
):
    """A seeded pipeline of exactly ``steps`` batches of undistorted image pairs.

    Each element is ``((left, right), same)`` with ``left`` and ``right`` of shape
    ``(batch_size, size, size, 1)`` and ``same`` of shape ``(batch_size, 1)``. Pair indices
    are drawn up front with :func:`siamese_utils.sampling.sample_pairs`, so the same seed gives
    the same batches in the same order.
    """
    require_positive_integers(batch_size=batch_size, steps=steps)
    pairs = sample_pairs(
        split, int(batch_size) * int(steps), seed, same_alphabet_negatives
    )
    gather_pairs, _ = _gathering(split, int(batch_size), warp=False)
    dataset = tf.data.Dataset.from_tensor_slices(
        (pairs.left, pairs.right, pairs.same)
    )
    return _finish(
        dataset.batch(int(batch_size), drop_remainder=True), gather_pairs
    )


def episode_dataset(split: OmniglotSplit, episodes: Episodes):
    """A pipeline of ``(images, character_ids)``, one element per episode, undistorted.

    ``images`` has shape ``(batch, size, size, 1)`` and ``character_ids`` ``(batch,)``.
    """
    _, gather_episodes = _gathering(split, episodes.batch_size, warp=False)
    dataset = tf.data.Dataset.from_tensor_slices(
        (episodes.images, episodes.characters)
    )
    return _finish(dataset, gather_episodes)


def chapter_dataset(split: OmniglotSplit, profile, recipe: Recipe, seed: int):
    """A chapter run's ``recipe.max_steps`` steps, undistorted, drawn from ``seed`` up front.

    One element a step: a batch of pairs (as :func:`pair_dataset` gives) or the step's
    episodes side by side (as :func:`episode_dataset` gives), whichever the recipe's sampler
    draws (:meth:`siamese_utils.samplers.Sampler.draw`).
    """
    arrays = recipe.sampling.draw(
        split, profile, recipe, recipe.max_steps, seed, seed
    )
    gather_pairs, gather_episodes = _gathering(
        split, arrays[0].shape[1], warp=False
    )
    return _finish(
        tf.data.Dataset.from_tensor_slices(tuple(arrays)),
        recipe.sampling.pick(gather_pairs, gather_episodes),
    )


def _check_replicas(
    recipe: Recipe, batch: int, first: int, count: int, total: int
) -> None:
    if total > 1:
        check_distributable(recipe, total)
    if not (0 <= first and 1 <= count and first + count <= total):
        raise ValueError(
            f"Replicas {first}..{first + count - 1} do not exist among {total}."
        )
    if batch % total:
        raise ValueError(
            f"A global batch of {batch} pairs does not split evenly over {total} replicas; "
            f"choose a replica count that divides {batch}."
        )


def training_dataset(
    split: OmniglotSplit,
    profile,
    recipe: Recipe,
    seed: int,
    start_epoch: int = 0,
    replicas: tuple[int, int, int] | None = None,
):
    """The reproduction's batches from ``start_epoch`` to the recipe's last epoch, distorted.

    The batches of each epoch come from :func:`siamese_utils.epoch_data.epoch_batches` (seeded by
    ``(seed, epoch)``, so a resumed run sees what an uninterrupted one would), drawn one
    epoch at a time rather than all up front.

    Args:
        replicas: ``(first, count, total)`` to feed replicas ``first`` .. ``first + count - 1``
            of ``total`` (data parallelism, :mod:`siamese_utils.distributed`): every global
            batch is drawn whole, exactly as without replicas, then cut into ``total`` equal
            slices, and this pipeline yields its ``count`` slices one after the other. An
            ``all-pairs`` step is cut between episodes, never inside one.
    """
    batch = recipe.images_per_step or profile.batch_size
    first, count, total = replicas or (0, 1, 1)
    _check_replicas(recipe, batch, first, count, total)
    batch //= total  # the slice one replica trains on

    def steps():
        for epoch in range(start_epoch, recipe.max_epochs):
            arrays = epoch_batches(split, profile, recipe, seed, epoch)
            for step in range(recipe.steps_per_epoch):
                # The pairs and distortions are drawn for the whole global batch first, so
                # the replicas together train on exactly the pairs one device would.
                for replica in range(first, first + count):
                    part = slice(replica * batch, (replica + 1) * batch)
                    yield tuple(array[step][part] for array in arrays)

    index = tf.TensorSpec((batch,), tf.int64)
    if recipe.distortion_pool:
        pool = pooled_distortions(split, recipe, seed)
        transform = index  # which pooled version of each image
    else:
        pool = None
        transform = tf.TensorSpec((batch, 8), tf.float32)
    gather_pairs, gather_episodes = _gathering(
        split, batch, warp=recipe.distortions is not None, pool=pool
    )
    label = tf.TensorSpec((batch,), tf.float32)
    signature = recipe.sampling.pick(
        (index, index, label, transform, transform), (index, index, transform)
    )
    gather = recipe.sampling.pick(gather_pairs, gather_episodes)
    return _finish(
        tf.data.Dataset.from_generator(steps, output_signature=signature),
        gather,
    )
