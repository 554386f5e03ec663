"""What Keras fits: the network up to its score for pairs, the all-pairs trainer for
episodes, and the losses they minimise.

:func:`compile_for_verification` compiles the paper's pair training (the binary
cross-entropy of each pair's score). :class:`AllPairsTrainer` scores every pair inside each
episode of a batch and minimises a :class:`TrainingLoss` of them: the paper's cross-entropy
with positives and negatives balanced, or chapter 7's ranking loss. Which of the two a run
fits is the recipe's sampler's choice (:mod:`siamese_utils.samplers`).
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import keras
from keras import ops

from siamese_utils.learning import episode_pairs, ranking_loss, score_matrix
from siamese_utils.model import (
    DISTANCE_LAYER,
    SCORE_LAYER,
    logit_network,
    similarity_logits,
    twin_of,
)


def compile_for_verification(network: keras.Model, optimizer) -> keras.Model:
    """The model that pair training fits: ``network`` up to its score, compiled.

    The paper's binary cross-entropy is computed from the score before the sigmoid
    (:func:`siamese_utils.model.logit_network`, weights shared with ``network``), which is
    exact where a saturated probability would be clipped. The accuracy counts a pair as
    "same" when its score is above 0, that is p(same) > 0.5.

    Args:
        optimizer: a Keras optimiser, or a learning rate for Adam.
    """
    if not isinstance(optimizer, keras.optimizers.Optimizer):
        if not (isinstance(optimizer, (int, float)) and optimizer > 0):
            raise ValueError(
                f"learning_rate must be positive, got {optimizer!r}."
            )
        optimizer = keras.optimizers.Adam(optimizer)
    scores = logit_network(network)
    scores.compile(
        optimizer=optimizer,
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=[keras.metrics.BinaryAccuracy(name="accuracy", threshold=0.0)],
    )
    return scores


def balanced_cross_entropy(logits, same):
    """Mean binary cross-entropy of the positive pairs plus that of the negatives, halved.

    ``logits`` are scores before the sigmoid and ``same`` is 1 for pairs of one character.
    With a leading episode axis, the loss of each episode (its last axis), averaged.
    """
    # -log sigmoid(z) = softplus(-z) and -log(1 - sigmoid(z)) = softplus(z), without the
    # overflow of taking the log of a saturated probability.
    positives = ops.sum(ops.softplus(-logits) * same, axis=-1) / ops.maximum(
        ops.sum(same, axis=-1), 1.0
    )
    negatives = ops.sum(
        ops.softplus(logits) * (1.0 - same), axis=-1
    ) / ops.maximum(ops.sum(1.0 - same, axis=-1), 1.0)
    return ops.mean(0.5 * (positives + negatives))


@dataclasses.dataclass(frozen=True)
class TrainingLoss:
    """A training objective.

    Attributes:
        name: the recipe's name for it.
        label: how plots label the training loss (the L2 penalty is always added).
        sets_threshold: ``True`` when the loss leaves the classifier's bias free (only
            differences between scores enter it), so the bias is frozen and set by
            calibration after every epoch (:class:`siamese_utils.train.ThresholdCalibration`).
    """

    name: str
    label: str
    sets_threshold: bool = False
    # Whether the loss can score a batch of episodes (all-pairs training).
    scores_episodes: ClassVar[bool] = False

    def of_episodes(self, trainer, characters, logits):
        """The loss of a batch of episodes, from its images' characters and pair scores."""
        raise ValueError(
            f"The {self.name!r} loss scores pairs, not episodes; train it with the "
            "'pairs' sampler."
        )


class BalancedCrossEntropy(TrainingLoss):
    """The paper's cross-entropy on every pair of an episode, positives and negatives
    weighted equally (an episode holds far more negatives)."""

    scores_episodes = True

    def of_episodes(self, trainer, characters, logits):
        return balanced_cross_entropy(
            trainer.by_episode(logits),
            trainer.by_episode(trainer.pair_labels(characters)),
        )


class RankingLoss(TrainingLoss):
    """Chapter 7's ranking loss: each positive pair against its anchor's negatives."""

    scores_episodes = True

    def of_episodes(self, trainer, characters, logits):
        return trainer.ranking_loss(characters, logits)


LOSSES = {
    loss.name: loss
    for loss in (
        TrainingLoss("binary-cross-entropy", "cross-entropy + L2"),
        BalancedCrossEntropy("balanced-bce", "balanced cross-entropy + L2"),
        RankingLoss("ranking", "ranking loss + L2", sets_threshold=True),
    )
}


def loss_named(name: str) -> TrainingLoss:
    """The :class:`TrainingLoss` called ``name``; a clear error for any other name."""
    if name not in LOSSES:
        raise ValueError(
            f"Unknown loss {name!r}; choose one of {tuple(LOSSES)}."
        )
    return LOSSES[name]


class AllPairsTrainer(keras.Model):
    """Trains a Siamese network on every pair of images inside each episode of a batch.

    The usual step embeds two images per pair. Here the twin embeds each image of the batch
    once and the network's own head (L1 distance, then the classifier) scores all
    ``b (b - 1) / 2`` pairs of the ``b`` images of each episode: the expensive part, the
    convolutions, runs once per image, and each image takes part in ``b - 1`` pairs. A batch
    holds ``episodes`` episodes one after the other; pairs never cross from one episode to
    another, so a batch can be cut into whole episodes for several replicas
    (:mod:`siamese_utils.distributed`). Calling the trainer gives the pairs' scores before the
    sigmoid, episode by episode (:func:`siamese_utils.model.similarity_logits`). Training the
    trainer trains the wrapped network's weights; the network itself stays a plain two-input
    Siamese model.

    Two losses, each the mean over the batch's episodes of the episode's loss, plus the
    network's L2 penalties:

    ``"balanced-bce"``
        The paper's binary cross-entropy on every pair, positives and negatives weighted
        equally (an episode has far more negatives).
    ``"ranking"``
        What a one-shot trial asks: for every pair of two drawings of one character, the
        softmax cross-entropy of that pair's score against the scores of the first image
        with every other character of the episode. Only differences between scores enter it,
        so it cannot move the classifier's bias, the threshold between "same" and
        "different": the trainer makes the bias non-trainable (it stays so on the network)
        and :class:`ThresholdCalibration` sets it after every epoch.

    Args:
        batch_size: images in one episode.
        episodes: episodes in one batch.
    """

    def __init__(
        self,
        network: keras.Model,
        batch_size: int,
        loss: str = "balanced-bce",
        episodes: int = 1,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if batch_size < 2:
            raise ValueError(
                f"All-pairs training needs at least 2 images an episode, got {batch_size}."
            )
        if episodes < 1:
            raise ValueError(
                f"A batch holds at least one episode, got {episodes}."
            )
        episode_losses = tuple(
            name for name, known in LOSSES.items() if known.scores_episodes
        )
        if loss not in episode_losses:
            raise ValueError(
                f"Unknown all-pairs loss {loss!r}; choose one of {episode_losses}."
            )
        self.network = network
        self.batch_size = int(batch_size)
        self.episodes = int(episodes)
        self.objective = loss_named(loss)
        self.twin = twin_of(network)
        self.distance = network.get_layer(DISTANCE_LAYER)
        if self.objective.sets_threshold:
            # Its gradient is zero in exact arithmetic; freezing it keeps the optimiser's
            # rounding from moving it, and leaves the threshold to calibrate_threshold.
            network.get_layer(SCORE_LAYER).bias.trainable = False
        # Chapter 7's layout: the pairs i < j, and which pair fills each entry of an
        # episode's score matrix.
        self.left_index, self.right_index, self.matrix_index = episode_pairs(
            self.batch_size
        )

    def by_episode(self, values):
        """``values`` of the whole batch, one row per episode."""
        return ops.reshape(values, (self.episodes, -1, *values.shape[1:]))

    def call(self, images, training=False):
        embeddings = self.by_episode(self.twin(images, training=training))
        left = ops.reshape(
            ops.take(embeddings, self.left_index, axis=1),
            (-1, embeddings.shape[-1]),
        )
        right = ops.reshape(
            ops.take(embeddings, self.right_index, axis=1),
            (-1, embeddings.shape[-1]),
        )
        return similarity_logits(self.network, self.distance([left, right]))

    def pair_labels(self, characters):
        """1 for each pair of an episode whose two images show one character, else 0."""
        characters = self.by_episode(ops.reshape(characters, (-1,)))
        left = ops.take(characters, self.left_index, axis=1)
        right = ops.take(characters, self.right_index, axis=1)
        return ops.reshape(ops.cast(ops.equal(left, right), "float32"), (-1,))

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        loss = self.objective.of_episodes(self, y, y_pred)
        # Stacked first: on the JAX backend the penalties are tracers of two kinds (from
        # jit and from grad), and keras.ops.sum of the bare list makes jax.numpy turn one
        # into a NumPy array, which it refuses (found training the fast recipe on JAX for bench/gpu.sh).
        return loss + ops.sum(ops.stack(self.losses)) if self.losses else loss

    def ranking_loss(self, characters, logits):
        """Chapter 7's :func:`siamese_utils.learning.ranking_loss` of the batch's episodes.

        ``logits`` are the scores of the upper triangle's pairs, episode by episode (what
        calling the trainer gives); they are spread into each episode's full score matrix,
        since every image anchors its own row.
        """
        characters = self.by_episode(ops.reshape(characters, (-1,)))
        scores = score_matrix(self.by_episode(logits), self.matrix_index)
        same = ops.equal(characters[:, :, None], characters[:, None, :])
        return ranking_loss(scores, same)

    def get_config(self):
        raise NotImplementedError(
            "AllPairsTrainer is a training wrapper and is not saved; save its network instead."
        )
