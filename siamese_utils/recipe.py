"""How each profile trains the full reproduction: the paper's recipe and the fast one.

The paper (Koch et al., 2015, Sections 3.2 and 4) trains on pairs of background images from
12 of the 20 drawers, with affine distortions, by SGD with a learning rate and momentum per
layer (:class:`siamese_utils.optimizers.LayerwiseSGD`), and stops early on one-shot accuracy
over 320 validation tasks. :data:`RECIPES` holds that recipe for the ``paper`` profile, and
for ``fast`` the changes that make a laptop CPU learn in minutes: every pair inside an
episode scored at once and ranked (:class:`siamese_utils.train.AllPairsTrainer`) and Adam;
it keeps the paper's distortions. The
ablation in ``bench/ablation.py`` measured those changes; chapter 6 shows the table.

The paper did not publish its per-layer learning rates and momenta (they came out of a
Bayesian search over eta in [1e-4, 1e-1] and mu in [0, 1]); the values below are choices
inside those ranges, stated as such.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from siamese_utils.data import OmniglotSplit, _require_positive_integers, sample_episodes, sample_pairs
from siamese_utils.distortions import PAPER_RANGES, AffineRanges, sample_transforms

SAMPLERS = ("pairs", "all-pairs")
OPTIMIZERS = ("layerwise-sgd", "adam")
# Losses of all-pairs training (see siamese_utils.train.AllPairsTrainer).
ALL_PAIRS_LOSSES = ("balanced-bce", "ranking")


@dataclasses.dataclass(frozen=True)
class Recipe:
    """Everything about how the reproduction trains, beyond the network's size.

    Attributes:
        sampler: ``"pairs"`` (the paper: one label per image pair) or ``"all-pairs"``
            (every pair inside an episode, :func:`siamese_utils.train.train_all_pairs`).
        optimizer: ``"layerwise-sgd"`` (the paper) or ``"adam"``.
        loss: the loss of ``all-pairs`` training, ``"balanced-bce"`` (the paper's binary
            cross-entropy) or ``"ranking"`` (each positive pair against its anchor's
            negatives, :class:`siamese_utils.train.AllPairsTrainer`); ``pairs`` training
            always uses the paper's binary cross-entropy.
        learning_rate: Adam's rate, or the SGD rate of layers not in ``layer_rates``.
        cosine_decay: let Adam's rate fall along a half cosine to zero over ``max_steps``
            (ignored by the per-layer SGD, which has the paper's 1% per epoch).
        layer_rates: per-layer SGD learning rates (layer name -> eta_j).
        final_momentum: per-layer final momenta (layer name -> mu_j; ``"*"`` for the rest).
        momentum_epochs: epochs the momentum takes to rise from 0.5 to ``mu_j``.
        l2: one L2 weight for every layer, or layer name -> lambda_j.
        distortions: the affine distortion ranges, or ``None`` for undistorted images.
        steps_per_epoch: training steps between two one-shot validations.
        max_epochs: the most epochs a run trains (the paper: 200).
        patience: epochs without a better validation one-shot accuracy before stopping
            (the paper: 20).
        validation_trials: 20-way validation trials (the paper: 320).
        test_trials: 20-way test trials of the paper's protocol (the paper: 400).
        verification_pairs: test pairs for the verification accuracy (the paper: 10,000).
    """

    sampler: str
    optimizer: str
    learning_rate: float
    loss: str = "balanced-bce"
    cosine_decay: bool = False
    layer_rates: dict = dataclasses.field(default_factory=dict)
    final_momentum: dict = dataclasses.field(default_factory=lambda: {"*": 0.9})
    momentum_epochs: int = 10
    l2: float | dict = 2e-4
    distortions: AffineRanges | None = PAPER_RANGES
    steps_per_epoch: int = 100
    max_epochs: int = 10
    patience: int = 5
    validation_trials: int = 320
    test_trials: int = 400
    verification_pairs: int = 10_000

    def __post_init__(self):
        if self.sampler not in SAMPLERS:
            raise ValueError(f"Unknown sampler {self.sampler!r}; choose one of {SAMPLERS}.")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"Unknown optimizer {self.optimizer!r}; choose one of {OPTIMIZERS}.")
        if self.loss not in ALL_PAIRS_LOSSES:
            raise ValueError(f"Unknown loss {self.loss!r}; choose one of {ALL_PAIRS_LOSSES}.")
        if self.sampler == "pairs" and self.loss != "balanced-bce":
            raise ValueError(
                f"The {self.loss!r} loss compares pairs that share an image, which only "
                "all-pairs training has; use sampler='all-pairs' or loss='balanced-bce'."
            )
        _require_positive_integers(
            steps_per_epoch=self.steps_per_epoch,
            max_epochs=self.max_epochs,
            patience=self.patience,
            validation_trials=self.validation_trials,
            test_trials=self.test_trials,
            verification_pairs=self.verification_pairs,
            momentum_epochs=self.momentum_epochs,
        )

    @property
    def training_loss(self) -> str:
        """What the training loss is: ``"binary-cross-entropy"`` (pairs) or the all-pairs loss."""
        return "binary-cross-entropy" if self.sampler == "pairs" else self.loss

    @property
    def max_steps(self) -> int:
        """Training steps of a run that never stops early."""
        return self.steps_per_epoch * self.max_epochs

    def as_dict(self) -> dict:
        """The recipe as plain JSON-ready values."""
        values = dataclasses.asdict(self)
        if self.distortions is not None:
            values["distortions"] = dataclasses.asdict(self.distortions)
        return values


RECIPES: dict[str, Recipe] = {
    # Koch et al. (2015): pairs, distortions, per-layer SGD, early stopping on 320 tasks.
    # Epochs of 1,000 steps of 128 pairs (128,000 pairs, near the paper's 150,000-pair set).
    "paper": Recipe(
        sampler="pairs",
        optimizer="layerwise-sgd",
        learning_rate=1e-2,
        layer_rates={"encoder_dense": 5e-3, "similarity": 5e-3},
        final_momentum={"*": 0.9},
        momentum_epochs=10,
        l2=2e-4,
        steps_per_epoch=1_000,
        max_epochs=200,
        patience=20,
    ),
    # Under 10 minutes on a laptop CPU: all pairs of each 128-image episode, ranked (each
    # positive against its anchor's negatives), Adam at 3e-3, and the paper's distortions.
    # Chapter 6's ablation measures what each of these adds.
    "fast": Recipe(
        sampler="all-pairs",
        optimizer="adam",
        learning_rate=3e-3,
        loss="ranking",
        steps_per_epoch=100,
        max_epochs=12,
        patience=3,
    ),
    # Seconds: the paper's path (pairs, distortions, per-layer SGD) at a toy size.
    "smoke": Recipe(
        sampler="pairs",
        optimizer="layerwise-sgd",
        learning_rate=1e-2,
        steps_per_epoch=2,
        max_epochs=3,
        patience=2,
        validation_trials=40,
        test_trials=40,
        verification_pairs=64,
    ),
}


def recipe_for(profile) -> Recipe:
    """The recipe of a :class:`siamese_utils.profiles.Profile` (by its name)."""
    return RECIPES[profile.name]


def pairs_per_step(profile, recipe: Recipe) -> int:
    """Image pairs one training step learns from: the batch (pairs), or every pair of an episode."""
    if recipe.sampler == "pairs":
        return int(profile.batch_size)
    images = int(np.prod(profile.episode))
    return images * (images - 1) // 2


def make_optimizer(recipe: Recipe):
    """The Keras optimiser the recipe asks for."""
    import keras

    from siamese_utils.optimizers import LayerwiseSGD

    if recipe.optimizer == "adam":
        rate = recipe.learning_rate
        if recipe.cosine_decay:
            rate = keras.optimizers.schedules.CosineDecay(rate, decay_steps=recipe.max_steps)
        return keras.optimizers.Adam(rate)
    return LayerwiseSGD(
        learning_rates={"*": recipe.learning_rate, **recipe.layer_rates},
        momenta=dict(recipe.final_momentum),
        steps_per_epoch=recipe.steps_per_epoch,
        momentum_epochs=recipe.momentum_epochs,
    )


def epoch_batches(split: OmniglotSplit, profile, recipe: Recipe, seed: int, epoch: int):
    """The index arrays of one epoch's training batches, drawn from ``(seed, epoch)`` alone.

    Because each epoch has its own generator, a run resumed at epoch ``e`` sees exactly the
    batches an uninterrupted run would have seen, without replaying earlier epochs.

    Returns:
        For ``pairs``: ``(left, right, same, left_transforms, right_transforms)``, each
        with a leading ``(steps_per_epoch, batch_size)``; for ``all-pairs``:
        ``(images, characters, transforms)`` with leading ``(steps_per_epoch, episode
        size)``. Transforms are identity rows when the recipe has no distortions.
    """
    rng = np.random.default_rng([seed, epoch])
    steps = recipe.steps_per_epoch
    if recipe.sampler == "pairs":
        pairs = sample_pairs(split, steps * profile.batch_size, rng, profile.same_alphabet_negatives)
        shape = (steps, profile.batch_size)
        arrays = [pairs.left.reshape(shape), pairs.right.reshape(shape), pairs.same.reshape(shape)]
        images_per_step = 2
    else:
        episodes = sample_episodes(split, steps, rng, *profile.episode)
        arrays = [episodes.images, episodes.characters]
        images_per_step = 1
    count = steps * arrays[0].shape[1]
    for _ in range(images_per_step):
        arrays.append(_transforms(count, split.image_size, rng, recipe.distortions).reshape(
            steps, arrays[0].shape[1], 8))
    return tuple(arrays)


def _transforms(count, image_size, rng, ranges):
    from siamese_utils.distortions import identity_transforms

    if ranges is None:
        return identity_transforms(count)
    return sample_transforms(count, image_size, rng, ranges)


def check_distributable(recipe: Recipe) -> None:
    """Refuse a recipe whose batches cannot be cut into one slice per replica.

    Raises:
        ValueError: for the ``all-pairs`` sampler (a slice of an episode loses its pairs).
    """
    if recipe.sampler != "pairs":
        raise ValueError(
            f"The {recipe.sampler!r} sampler scores every pair inside one episode, which cannot be "
            "split across replicas; train under a tf.distribute strategy with the 'pairs' sampler "
            "(the paper profile's recipe), or on one device with the default strategy."
        )


def _check_replicas(recipe: Recipe, batch: int, first: int, count: int, total: int) -> None:
    if total > 1:
        check_distributable(recipe)
    if not (0 <= first and 1 <= count and first + count <= total):
        raise ValueError(f"Replicas {first}..{first + count - 1} do not exist among {total}.")
    if batch % total:
        raise ValueError(
            f"A global batch of {batch} pairs does not split evenly over {total} replicas; "
            f"choose a replica count that divides {batch}."
        )


def _unchanged(images, transforms):
    """The images as they are (the pipeline's stand-in for identity distortions)."""
    return images


def training_dataset(
    split: OmniglotSplit,
    profile,
    recipe: Recipe,
    seed: int,
    start_epoch: int = 0,
    replicas: tuple[int, int, int] | None = None,
):
    """A ``tf.data`` pipeline of the recipe's batches from ``start_epoch`` to the last epoch.

    Elements are ``((left, right), same)`` for ``pairs`` and ``(images, characters)`` for
    ``all-pairs``, distorted inside the pipeline; the next batches are prepared while the
    model trains.

    Args:
        replicas: ``(first, count, total)`` to feed replicas ``first`` .. ``first + count - 1``
            of ``total`` (data parallelism, :mod:`siamese_utils.distributed`): every global
            batch is drawn whole, exactly as without replicas, then cut into ``total`` equal
            slices, and this pipeline yields its ``count`` slices one after the other. Only
            the ``pairs`` sampler can be cut (a slice of an episode would lose its pairs).
    """
    import tensorflow as tf

    from siamese_utils.distortions import distort

    images = tf.constant(split.images)
    size = split.image_size
    # Without distortions the transforms are identity rows: skip resampling on the hot path.
    warp = distort if recipe.distortions is not None else _unchanged

    batch = profile.batch_size if recipe.sampler == "pairs" else int(np.prod(profile.episode))
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
    transform = tf.TensorSpec((batch, 8), tf.float32)
    if recipe.sampler == "pairs":
        signature = (index, index, tf.TensorSpec((batch,), tf.float32), transform, transform)

        def gather(left, right, same, left_t, right_t):
            pair = (warp(tf.gather(images, left), left_t), warp(tf.gather(images, right), right_t))
            return tuple(tf.ensure_shape(x, (batch, size, size, 1)) for x in pair), same[:, None]
    else:
        signature = (index, index, transform)

        def gather(positions, characters, transforms):
            warped = warp(tf.gather(images, positions), transforms)
            return tf.ensure_shape(warped, (batch, size, size, 1)), characters

    dataset = tf.data.Dataset.from_generator(steps, output_signature=signature)
    dataset = dataset.map(gather, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return dataset.prefetch(tf.data.AUTOTUNE)
