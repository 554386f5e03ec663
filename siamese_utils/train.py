"""Compiling and fitting the verification network (same / different character).

The chapters' short runs use Adam; the paper's own recipe (per-layer SGD with momentum,
learning-rate decay, early stopping on one-shot accuracy) lives with the reproduction in
:mod:`siamese_utils.reproduce` (``python -m siamese_utils train``, :mod:`siamese_utils.cli`).
"""

from __future__ import annotations

import dataclasses
import time

import keras
import numpy as np
from keras import ops

from siamese_utils.data import (
    Episodes,
    OmniglotSplit,
    pair_arrays,
    sample_episodes,
)
from siamese_utils.embeddings import embed
from siamese_utils.learning import episode_pairs, ranking_loss, score_matrix
from siamese_utils.model import (
    DISTANCE_LAYER,
    SCORE_LAYER,
    logit_network,
    score_embeddings,
    similarity_logits,
    twin_of,
)
from siamese_utils.recipe import (
    ALL_PAIRS_LOSSES,
    Recipe,
    make_optimizer,
    recipe_for,
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


class EpochLog(keras.callbacks.Callback):
    """Prints one short line per epoch instead of Keras' progress bars.

    ``epoch  3/24  loss 4.12 | val loss 2.9, acc 0.831, 1-shot 0.672 | 61 s``: the
    training figures, the validation figures, and the seconds since training began (the
    validation after each epoch included), within the book's 80 columns.
    """

    SHORT_NAMES = {"accuracy": "acc", "one_shot": "1-shot"}

    def __init__(self, epochs: int):
        super().__init__()
        self.epochs = epochs
        self.started = time.perf_counter()

    def _shown(self, logs: dict) -> str:
        return ", ".join(
            f"{self.SHORT_NAMES.get(key, key)} {value:.3g}"
            for key, value in logs.items()
        )

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        training = {k: v for k, v in logs.items() if not k.startswith("val_")}
        validation = {
            k.removeprefix("val_"): v
            for k, v in logs.items()
            if k.startswith("val_")
        }
        elapsed = time.perf_counter() - self.started
        line = f"epoch {epoch + 1:>2}/{self.epochs}  {self._shown(training)}"
        if validation:
            line += f" | val {self._shown(validation)}"
        print(f"{line} | {elapsed:.0f} s")


@dataclasses.dataclass(frozen=True)
class TrainingRun:
    """What a training run produced: per-epoch metrics and the seconds of training steps."""

    history: dict[str, list[float]]
    seconds: float
    steps: int
    pairs_per_second: float
    images_per_second: float


def _chapter_recipe(profile, recipe: Recipe | None, sampler: str) -> Recipe:
    """``recipe``, or the profile's chapter run for ``sampler``; refuse what the runs lack."""
    if recipe is None:
        recipe = recipe_for(
            profile, "chapter" if sampler == "pairs" else "sweep"
        )
    if recipe.sampler != sampler:
        raise ValueError(
            f"This function trains with the {sampler!r} sampler, and the recipe asks for "
            f"{recipe.sampler!r}; use {'train_verification' if recipe.sampler == 'pairs' else 'train_all_pairs'}."
        )
    if recipe.distortions is not None:
        raise ValueError(
            "The chapters' runs train on undistorted images; the affine distortions belong to the "
            "reproduction (siamese_utils.reproduce). Pass a recipe with distortions=None."
        )
    return recipe


def train_verification(
    network: keras.Model,
    train_split: OmniglotSplit,
    validation_split: OmniglotSplit,
    profile,
    seed: int,
    *,
    recipe: Recipe | None = None,
    verbose: bool = True,
) -> TrainingRun:
    """Train ``network`` on same/different pairs for ``recipe.max_steps`` steps.

    Training pairs (``profile.batch_size`` a step) come from ``train_split`` (a fresh seeded
    draw), the validation pairs (``profile.validation_pairs`` of them, fixed) from
    ``validation_split``; metrics are recorded every ``recipe.steps_per_epoch`` steps.

    Args:
        recipe: how to train, with the ``pairs`` sampler and no distortions; by default the
            profile's chapter run (``recipe_for(profile, "chapter")``).
    """
    recipe = _chapter_recipe(profile, recipe, "pairs")
    trainable = compile_for_verification(network, make_optimizer(recipe))
    steps = recipe.max_steps
    # tf.data: TensorFlow only, so imported where a chapter's run needs it.
    from siamese_utils.pipeline import pair_dataset

    training = pair_dataset(
        train_split,
        profile.batch_size,
        steps,
        seed,
        profile.same_alphabet_negatives,
    )
    validation = pair_arrays(
        validation_split,
        profile.validation_pairs,
        seed + 1,
        profile.same_alphabet_negatives,
    )
    callbacks = [VerificationCheck(network, *validation)]
    if verbose:
        callbacks.append(EpochLog(recipe.max_epochs))
    history, seconds = _timed_fit(trainable, training, recipe, callbacks)
    return TrainingRun(
        history=history,
        seconds=seconds,
        steps=steps,
        pairs_per_second=steps * profile.batch_size / seconds,
        images_per_second=2 * steps * profile.batch_size / seconds,
    )


def _timed_fit(model: keras.Model, dataset, recipe: Recipe, callbacks):
    """``model.fit`` for the recipe's epochs; returns the history as floats and the seconds
    of training steps alone (a :class:`TrainingClock` first among the callbacks leaves the
    validation after every epoch out)."""
    clock = TrainingClock()
    history = model.fit(
        dataset,
        epochs=recipe.max_epochs,
        steps_per_epoch=recipe.steps_per_epoch,
        callbacks=[clock, *callbacks],
        shuffle=False,  # the samplers already shuffled; Keras cannot shuffle a tf.data pipeline
        verbose=0,
    )
    return {
        key: [float(v) for v in values]
        for key, values in history.history.items()
    }, clock.seconds


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
        if loss not in ALL_PAIRS_LOSSES:
            raise ValueError(
                f"Unknown all-pairs loss {loss!r}; choose one of {ALL_PAIRS_LOSSES}."
            )
        self.network = network
        self.batch_size = int(batch_size)
        self.episodes = int(episodes)
        self.loss_name = loss
        self.twin = twin_of(network)
        self.distance = network.get_layer(DISTANCE_LAYER)
        if loss == "ranking":
            # Its gradient is zero in exact arithmetic; freezing it keeps the optimiser's
            # rounding from moving it, and leaves the threshold to calibrate_threshold.
            network.get_layer(SCORE_LAYER).bias.trainable = False
        # Chapter 7's layout: the pairs i < j, and which pair fills each entry of an
        # episode's score matrix.
        self.left_index, self.right_index, self.matrix_index = episode_pairs(
            self.batch_size
        )

    def _by_episode(self, values):
        """``values`` of the whole batch, one row per episode."""
        return ops.reshape(values, (self.episodes, -1, *values.shape[1:]))

    def call(self, images, training=False):
        embeddings = self._by_episode(self.twin(images, training=training))
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
        characters = self._by_episode(ops.reshape(characters, (-1,)))
        left = ops.take(characters, self.left_index, axis=1)
        right = ops.take(characters, self.right_index, axis=1)
        return ops.reshape(ops.cast(ops.equal(left, right), "float32"), (-1,))

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        if self.loss_name == "ranking":
            loss = self.ranking_loss(y, y_pred)
        else:
            loss = balanced_cross_entropy(
                self._by_episode(y_pred), self._by_episode(self.pair_labels(y))
            )
        return loss + ops.sum(self.losses) if self.losses else loss

    def ranking_loss(self, characters, logits):
        """Chapter 7's :func:`siamese_utils.learning.ranking_loss` of the batch's episodes.

        ``logits`` are the scores of the upper triangle's pairs, episode by episode (what
        calling the trainer gives); they are spread into each episode's full score matrix,
        since every image anchors its own row.
        """
        characters = self._by_episode(ops.reshape(characters, (-1,)))
        scores = score_matrix(self._by_episode(logits), self.matrix_index)
        same = ops.equal(characters[:, :, None], characters[:, None, :])
        return ranking_loss(scores, same)

    def get_config(self):
        raise NotImplementedError(
            "AllPairsTrainer is a training wrapper and is not saved; save its network instead."
        )


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


def calibrate_threshold(network: keras.Model, pairs, labels) -> float:
    """Shift the classifier's bias to where the balanced cross-entropy of ``pairs`` is least.

    A network trained by the ranking loss orders pairs well but puts its threshold anywhere;
    this moves the threshold without touching the order, so one-shot answers do not change
    and the probabilities mean "same character" again. The pairs should be training pairs:
    the threshold is part of what is learned.

    Args:
        pairs: ``(left, right)`` image arrays, as :func:`siamese_utils.data.pair_arrays` gives.
        labels: 1 for a pair of one character, else 0 (any shape with one entry per pair).

    Returns:
        The shift added to the bias.
    """
    left, right = (embed(network, images) for images in pairs)
    logits = score_embeddings(network, left, right).astype(np.float64)
    same = np.asarray(labels, np.float64).reshape(-1) > 0.5
    if same.all() or not same.any():
        raise ValueError(
            "Calibrating the threshold needs pairs of both kinds, same and different."
        )

    def sigmoid(z):
        return 0.5 * (1.0 + np.tanh(0.5 * z))  # no overflow for large |z|

    # Derivative of the balanced cross-entropy in the shift; it increases.
    def slope(shift):
        z = logits + shift
        return 0.5 * (np.mean(sigmoid(z[~same])) - np.mean(sigmoid(-z[same])))

    low, high = (
        -float(np.abs(logits).max()) - 50.0,
        float(np.abs(logits).max()) + 50.0,
    )
    for _ in range(100):
        middle = 0.5 * (low + high)
        low, high = (middle, high) if slope(middle) < 0 else (low, middle)
    shift = 0.5 * (low + high)
    bias = network.get_layer(SCORE_LAYER).bias
    bias.assign(ops.convert_to_numpy(bias) + np.float32(shift))
    return shift


class TrainingClock(keras.callbacks.Callback):
    """Counts the seconds spent in training steps alone, epoch by epoch.

    Put it first among the callbacks: its ``on_epoch_end`` then runs before any other
    callback's end-of-epoch work (calibration, validation, checkpoints), so ``seconds``
    counts only the epoch's training steps. ``epoch_ended`` is when the last epoch's
    steps ended, for a later callback to time its own work from.
    """

    def __init__(self, seconds_before: float = 0.0):
        super().__init__()
        self.seconds = float(seconds_before)
        self.epoch_started = self.epoch_ended = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_ended = time.perf_counter()
        self.seconds += self.epoch_ended - self.epoch_started


class ThresholdCalibration(keras.callbacks.Callback):
    """After every epoch, :func:`calibrate_threshold` on fixed training pairs.

    Goes first among the callbacks, so validation, checkpoints and the best network all see
    the calibrated threshold.
    """

    def __init__(self, network: keras.Model, pairs, labels):
        super().__init__()
        self.network, self.pairs, self.labels = network, pairs, labels

    def on_epoch_end(self, epoch, logs=None):
        calibrate_threshold(self.network, self.pairs, self.labels)


class VerificationCheck(keras.callbacks.Callback):
    """After every epoch, scores fixed validation pairs with the wrapped two-input network.

    Adds ``val_loss`` and ``val_accuracy`` to the epoch's logs (so they land in the
    history), the same quantities :func:`train_verification` records.
    """

    def __init__(self, network: keras.Model, pairs, labels):
        super().__init__()
        self.network, self.pairs, self.labels = (
            network,
            pairs,
            np.asarray(labels, np.float32),
        )
        # Built once: a new model every epoch would trace a new predict function every epoch.
        self.scores_of = logit_network(network)

    def on_epoch_end(self, epoch, logs=None):
        scores = self.scores_of.predict(
            self.pairs, batch_size=256, verbose=0
        ).astype(np.float64)
        y = self.labels
        # Cross-entropy from the scores: -log p = softplus(-s), -log(1 - p) = softplus(s).
        entropy = np.mean(
            y * np.logaddexp(0.0, -scores) + (1 - y) * np.logaddexp(0.0, scores)
        )
        # Keras' own validation loss includes the L2 penalties; so does this one.
        penalty = float(
            sum(
                np.sum(ops.convert_to_numpy(loss))
                for loss in self.network.losses
            )
        )
        if logs is not None:
            logs["val_loss"] = float(entropy) + penalty
            logs["val_accuracy"] = float(np.mean((scores > 0.0) == (y > 0.5)))


def train_all_pairs(
    network: keras.Model,
    train_split: OmniglotSplit,
    validation_split: OmniglotSplit,
    profile,
    seed: int,
    *,
    recipe: Recipe | None = None,
    verbose: bool = True,
) -> TrainingRun:
    """Train ``network`` on every pair inside episodes of ``recipe.episode`` images.

    Each step draws an episode (:func:`siamese_utils.data.sample_episodes`: a few alphabets,
    a few characters each, a few images each), embeds its images once and learns from all
    their pairs (:class:`AllPairsTrainer`, with ``recipe.loss``). Validation is the same as
    in :func:`train_verification`, so the histories compare.

    Args:
        recipe: how to train, with the ``all-pairs`` sampler and no distortions; by default
            the profile's sweep arm (``recipe_for(profile, "sweep")``).
    """
    recipe = _chapter_recipe(profile, recipe, "all-pairs")
    steps = recipe.max_steps
    drawn = sample_episodes(
        train_split, steps * recipe.episodes_per_step, seed, *recipe.episode
    )
    # Each step's episodes side by side, one pipeline element a step.
    episodes = Episodes(
        images=drawn.images.reshape(steps, -1),
        characters=drawn.characters.reshape(steps, -1),
    )
    trainer = AllPairsTrainer(
        network,
        drawn.batch_size,
        recipe.loss,
        episodes=recipe.episodes_per_step,
    )
    trainer.compile(optimizer=make_optimizer(recipe))
    validation = pair_arrays(
        validation_split,
        profile.validation_pairs,
        seed + 1,
        profile.same_alphabet_negatives,
    )
    callbacks = [VerificationCheck(network, *validation)]
    if recipe.loss == "ranking":
        calibration = pair_arrays(
            train_split,
            profile.validation_pairs,
            seed + 2,
            profile.same_alphabet_negatives,
        )
        callbacks.insert(0, ThresholdCalibration(network, *calibration))
    if verbose:
        callbacks.append(EpochLog(recipe.max_epochs))
    # tf.data: TensorFlow only, so imported where a chapter's run needs it.
    from siamese_utils.pipeline import episode_dataset

    history, seconds = _timed_fit(
        trainer, episode_dataset(train_split, episodes), recipe, callbacks
    )
    pairs = len(trainer.left_index) * recipe.episodes_per_step
    return TrainingRun(
        history=history,
        seconds=seconds,
        steps=steps,
        pairs_per_second=steps * pairs / seconds,
        images_per_second=steps * episodes.batch_size / seconds,
    )
