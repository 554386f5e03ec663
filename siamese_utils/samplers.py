"""What a training step is made of, as objects: its sampler (and, through it, its loss).

A :class:`~siamese_utils.recipe.Recipe` names its sampler (``"pairs"``, the paper's, or
``"all-pairs"``, the fast recipe's episodes) and its loss by strings, because recipes are
recorded as JSON beside their results. Everything that acts on the choice asks the recipe
for objects instead of comparing the strings: ``recipe.sampling`` is a :class:`Sampler`,
``recipe.objective`` a :class:`~siamese_utils.trainers.TrainingLoss`. So the chapters' runs,
the reproduction, the data-parallel trainer and both pipelines take one path, and a new
sampler is one class here.

- :class:`PairSampler` draws a batch of image pairs per step, each with its label, and trains
  the network up to its score (:func:`siamese_utils.model.logit_network`) with the paper's
  binary cross-entropy.
- :class:`EpisodeSampler` draws whole episodes (a few alphabets, a few characters each, a
  few drawings each) and trains every pair inside each
  (:class:`siamese_utils.trainers.AllPairsTrainer`) with the recipe's loss.
"""

from __future__ import annotations

import abc
import hashlib

import keras
import numpy as np

from siamese_utils.data import OmniglotSplit
from siamese_utils.model import logit_network
from siamese_utils.sampling import sample_episodes, sample_pairs
from siamese_utils.seeding import stream
from siamese_utils.trainers import (
    LOSSES,
    AllPairsTrainer,
    TrainingLoss,
    compile_for_verification,
    loss_named,
)


class Sampler(abc.ABC):
    """How a step draws its training examples, and what the network is trained as."""

    name: str
    unit: str  # what one step's examples are called: "batches" (of pairs) or "episodes"
    example_name: str  # what the sampler draws: "pairs" or "episodes"
    # How many transform columns follow a step's index arrays: one per image shown.
    images_per_example: int

    @abc.abstractmethod
    def losses(self) -> tuple[str, ...]:
        """The names of the recipe losses this sampler trains with."""

    @abc.abstractmethod
    def training_loss(self, recipe) -> TrainingLoss:
        """The loss a step of ``recipe`` minimises."""

    @abc.abstractmethod
    def images_per_step(self, recipe) -> int | None:
        """Images of one step, or ``None`` when the profile's batch size sets it."""

    @abc.abstractmethod
    def pairs_per_step(self, profile, recipe) -> int:
        """Image pairs one step learns from."""

    @abc.abstractmethod
    def draw(
        self, split: OmniglotSplit, profile, recipe, steps: int, rng, seed=None
    ) -> list[np.ndarray]:
        """The index arrays of ``steps`` steps, each with a leading ``(steps, width)``.

        ``rng`` draws the steps; ``seed``, the run's, draws what stays fixed over a whole
        run (a recipe's fixed set of pairs).
        """

    @abc.abstractmethod
    def pick(self, for_pairs, for_episodes):
        """Of two things made for each kind of step (a pipeline's gathering functions),
        the one this sampler's steps need."""

    @abc.abstractmethod
    def model_to_fit(self, network, recipe, replicas: int = 1) -> keras.Model:
        """The Keras model a step trains (on one of ``replicas`` slices of the step): it
        shares ``network``'s weights."""

    @abc.abstractmethod
    def batch_loss(self, fitted):
        """``loss_of(batch)``: the loss of one batch (or one replica's slice of it) for the
        :meth:`model_to_fit` ``fitted``, a mean over its pairs or episodes, plus L2."""

    @abc.abstractmethod
    def example(self, batch, take):
        """One step's ``(inputs, targets)`` from its index arrays; ``take(positions,
        transforms)`` returns the images, distorted as the recipe asks."""

    def check_replicas(self, recipe, replicas: int) -> None:  # noqa: B027 (optional)
        """Refuse a recipe whose steps cannot be cut into ``replicas`` equal slices; any
        batch of pairs can be (the pipeline checks that the count divides it)."""

    def compiled(self, network, optimizer, recipe) -> keras.Model:
        """:meth:`model_to_fit`, compiled with ``optimizer`` for Keras' ``fit``."""
        fitted = self.model_to_fit(network, recipe)
        fitted.compile(optimizer=optimizer)
        return fitted


# The fixed pair set of the run in progress, by its key (one at a time; the largest,
# 150,000 pairs, is three arrays of 150,000 indices).
_PAIR_SETS: dict = {}


def fixed_pairs(split: OmniglotSplit, count: int, seed: int, profile):
    """A run's fixed training set of ``count`` pairs, drawn once from its seed (the named
    stream ``"training-pairs"``), the same in every epoch, process and worker."""
    # What the pairs depend on: the split's characters and alphabets, not its pixels.
    key = (
        hashlib.blake2b(
            np.ascontiguousarray(split.characters).tobytes()
            + np.ascontiguousarray(split.alphabets).tobytes()
        ).hexdigest(),
        count,
        seed,
        profile.same_alphabet_negatives,
    )
    if key not in _PAIR_SETS:
        _PAIR_SETS.clear()
        _PAIR_SETS[key] = sample_pairs(
            split,
            count,
            stream(seed, "training-pairs"),
            profile.same_alphabet_negatives,
        )
    return _PAIR_SETS[key]


class PairSampler(Sampler):
    name = "pairs"
    unit = "batches"
    example_name = "pairs"
    images_per_example = 2

    def losses(self):
        return (
            "balanced-bce",
        )  # the recipe's default; pairs train the plain cross-entropy

    def training_loss(self, recipe):
        return LOSSES["binary-cross-entropy"]

    def images_per_step(self, recipe):
        return None

    def pairs_per_step(self, profile, recipe):
        return int(profile.batch_size)

    def draw(self, split, profile, recipe, steps, rng, seed=None):
        shape = (steps, profile.batch_size)
        if recipe.pair_set:
            if seed is None:
                raise ValueError(
                    "A recipe with a fixed set of pairs needs the run's seed to draw it."
                )
            fixed = fixed_pairs(split, recipe.pair_set, seed, profile)
            chosen = np.random.default_rng(rng).integers(
                0, recipe.pair_set, steps * profile.batch_size
            )
            return [
                fixed.left[chosen].reshape(shape),
                fixed.right[chosen].reshape(shape),
                fixed.same[chosen].reshape(shape),
            ]
        pairs = sample_pairs(
            split,
            steps * profile.batch_size,
            rng,
            profile.same_alphabet_negatives,
        )
        return [
            pairs.left.reshape(shape),
            pairs.right.reshape(shape),
            pairs.same.reshape(shape),
        ]

    def pick(self, for_pairs, for_episodes):
        return for_pairs

    def model_to_fit(self, network, recipe, replicas=1):
        return logit_network(network)  # the same weights, ending at the score

    def compiled(self, network, optimizer, recipe):
        return compile_for_verification(network, optimizer)

    def batch_loss(self, scores_of):
        def loss_of(batch):
            (left, right), same = batch
            scores = scores_of([left, right], training=True)
            loss = keras.ops.mean(
                keras.losses.binary_crossentropy(same, scores, from_logits=True)
            )
            return (
                loss + keras.ops.sum(scores_of.losses)
                if scores_of.losses
                else loss
            )

        return loss_of

    def example(self, batch, take):
        left, right, same, left_transform, right_transform = batch
        return (
            (take(left, left_transform), take(right, right_transform)),
            same[:, None].astype(np.float32),
        )


class EpisodeSampler(Sampler):
    name = "all-pairs"
    unit = "episodes"
    example_name = "episodes"
    images_per_example = 1

    def losses(self):
        return tuple(
            name for name, loss in LOSSES.items() if loss.scores_episodes
        )

    def training_loss(self, recipe):
        return loss_named(recipe.loss)

    def images_per_step(self, recipe):
        return recipe.episode_size * recipe.episodes_per_step

    def pairs_per_step(self, profile, recipe):
        size = recipe.episode_size
        return recipe.episodes_per_step * size * (size - 1) // 2

    def draw(self, split, profile, recipe, steps, rng, seed=None):
        episodes = sample_episodes(
            split, steps * recipe.episodes_per_step, rng, *recipe.episode
        )
        # A step's episodes side by side: (steps, episodes_per_step x episode size).
        return [
            episodes.images.reshape(steps, -1),
            episodes.characters.reshape(steps, -1),
        ]

    def pick(self, for_pairs, for_episodes):
        return for_episodes

    def model_to_fit(self, network, recipe, replicas=1):
        return AllPairsTrainer(
            network,
            recipe.episode_size,
            recipe.loss,
            episodes=recipe.episodes_per_step // replicas,
        )

    def batch_loss(self, trainer):
        def loss_of(batch):
            images, characters = batch
            return trainer.compute_loss(
                y=characters, y_pred=trainer(images, training=True)
            )

        return loss_of

    def example(self, batch, take):
        positions, characters, transform = batch
        return take(positions, transform), characters

    def check_replicas(self, recipe, replicas):
        # A slice must hold whole episodes: a cut episode would lose the pairs between
        # its halves.
        if recipe.episodes_per_step % replicas:
            raise ValueError(
                f"A step of {recipe.episodes_per_step} episode(s) cannot be split by whole "
                f"episodes across {replicas} replicas; train with episodes_per_step a "
                f"multiple of {replicas} (the command line's --episodes-per-step), or on "
                "one device with the default strategy."
            )


SAMPLERS = {
    sampler.name: sampler for sampler in (PairSampler(), EpisodeSampler())
}


def sampler_named(name: str) -> Sampler:
    """The :class:`Sampler` called ``name``; a clear error for any other name."""
    if name not in SAMPLERS:
        raise ValueError(
            f"Unknown sampler {name!r}; choose one of {tuple(SAMPLERS)}."
        )
    return SAMPLERS[name]
