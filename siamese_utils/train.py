"""The chapters' training runs: one path for pairs and episodes, and what runs between epochs.

:func:`train_chapter_run` fits what the recipe's sampler says
(:mod:`siamese_utils.samplers`, :mod:`siamese_utils.trainers`) on the seeded steps of
:func:`siamese_utils.pipeline.chapter_dataset`, with the callbacks every run shares: the
validation check after each epoch, the threshold's calibration for the ranking loss, the
clock that times the training steps alone, and a one-line log. The chapters' short runs use Adam; the paper's own recipe (per-layer SGD with momentum,
learning-rate decay, early stopping on one-shot accuracy) lives with the reproduction in
:mod:`siamese_utils.reproduce` (``python -m siamese_utils train``, :mod:`siamese_utils.cli`).
"""

from __future__ import annotations

import dataclasses
import time

import keras
import numpy as np
from keras import ops

from siamese_utils.data import OmniglotSplit
from siamese_utils.embeddings import embed
from siamese_utils.model import SCORE_LAYER, logit_network, score_embeddings
from siamese_utils.recipe import Recipe, make_optimizer, recipe_for
from siamese_utils.sampling import pair_arrays
from siamese_utils.seeding import stream
from siamese_utils.trainers import (  # noqa: F401  (re-exported: train.AllPairsTrainer)
    AllPairsTrainer,
    balanced_cross_entropy,
    compile_for_verification,
)


class EpochLog(keras.callbacks.Callback):
    """Prints one short line per epoch instead of Keras' progress bars.

    ``epoch  3/24  loss 4.12 | val loss 2.9, acc 0.831, 1-shot 0.672 | 61 s``: the
    training figures, the validation figures, and the seconds since training began (the
    validation after each epoch included), within the book's 80 columns.
    """

    SHORT_NAMES = {"accuracy": "acc", "one_shot": "1-shot"}
    # The parts of the validation loss, recorded in the history for the plots; the line
    # keeps their sum.
    LEFT_OUT = {"l2_penalty", "val_cross_entropy"}

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
        logs = {k: v for k, v in (logs or {}).items() if k not in self.LEFT_OUT}
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
    return train_chapter_run(
        network, train_split, validation_split, profile, seed, recipe, verbose
    )


def train_chapter_run(
    network: keras.Model,
    train_split: OmniglotSplit,
    validation_split: OmniglotSplit,
    profile,
    seed: int,
    recipe: Recipe,
    verbose: bool = True,
) -> TrainingRun:
    """The one training path of the chapters' runs, for either sampler.

    The recipe's sampler (``recipe.sampling``) builds what ``fit`` trains and the seeded
    steps it trains on (:meth:`~siamese_utils.samplers.Sampler.compiled`,
    :func:`siamese_utils.pipeline.chapter_dataset`); its loss (``recipe.objective``) says whether the threshold is
    calibrated after every epoch. Validation is the same for both, so their histories compare.
    """
    trainable = recipe.sampling.compiled(
        network, make_optimizer(recipe), recipe
    )
    validation = pair_arrays(
        validation_split,
        profile.validation_pairs,
        stream(seed, "validation-pairs"),
        profile.same_alphabet_negatives,
    )
    callbacks = [VerificationCheck(network, *validation)]
    if recipe.objective.sets_threshold:
        calibration = pair_arrays(
            train_split,
            profile.validation_pairs,
            stream(seed, "calibration-pairs"),
            profile.same_alphabet_negatives,
        )
        callbacks.insert(0, ThresholdCalibration(network, *calibration))
    if verbose:
        callbacks.append(EpochLog(recipe.max_epochs))
    # tf.data: TensorFlow only, so imported where a chapter's run needs it.
    from siamese_utils.pipeline import chapter_dataset

    history, seconds = _timed_fit(
        trainable,
        chapter_dataset(train_split, profile, recipe, seed),
        recipe,
        callbacks,
    )
    steps = recipe.max_steps
    images = recipe.images_per_step or 2 * profile.batch_size
    return TrainingRun(
        history=history,
        seconds=seconds,
        steps=steps,
        pairs_per_second=steps
        * recipe.sampling.pairs_per_step(profile, recipe)
        / seconds,
        images_per_second=steps * images / seconds,
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


def calibrate_threshold(network: keras.Model, pairs, labels) -> float:
    """Shift the classifier's bias to where the balanced cross-entropy of ``pairs`` is least.

    A network trained by the ranking loss orders pairs well but puts its threshold anywhere;
    this moves the threshold without touching the order, so one-shot answers do not change
    and the probabilities mean "same character" again. The pairs should be training pairs:
    the threshold is part of what is learned.

    Args:
        pairs: ``(left, right)`` image arrays, as :func:`siamese_utils.sampling.pair_arrays` gives.
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
    history), the same quantities :func:`train_verification` records, and the two parts of
    ``val_loss`` apart: ``val_cross_entropy`` and ``l2_penalty`` (the sum of the layers' L2
    terms, which in the paper's recipe is most of the loss).
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
            logs["val_cross_entropy"] = float(entropy)
            logs["l2_penalty"] = penalty
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

    Each step draws an episode (:func:`siamese_utils.sampling.sample_episodes`: a few alphabets,
    a few characters each, a few images each), embeds its images once and learns from all
    their pairs (:class:`AllPairsTrainer`, with ``recipe.loss``). Validation is the same as
    in :func:`train_verification`, so the histories compare.

    Args:
        recipe: how to train, with the ``all-pairs`` sampler and no distortions; by default
            the profile's sweep arm (``recipe_for(profile, "sweep")``).
    """
    recipe = _chapter_recipe(profile, recipe, "all-pairs")
    return train_chapter_run(
        network, train_split, validation_split, profile, seed, recipe, verbose
    )
