"""Compiling and fitting the verification network (same / different character).

The chapters' short runs use Adam; the paper's own recipe (per-layer SGD with momentum,
learning-rate decay, early stopping on one-shot accuracy) lives with the reproduction in
:mod:`siamese_utils.reproduce`, which this module runs from the command line::

    python -m siamese_utils.train --profile paper       # the reproduction, on a GPU
    python -m siamese_utils.train --profile fast        # minutes on a CPU
"""

from __future__ import annotations

import dataclasses
import time

import keras
import numpy as np
from keras import ops

from siamese_utils.data import (
    OmniglotSplit,
    episode_dataset,
    pair_arrays,
    pair_dataset,
    sample_episodes,
)
from siamese_utils.model import twin_of


def compile_for_verification(network: keras.Model, learning_rate: float) -> keras.Model:
    """Compile ``network`` with binary cross-entropy, Adam and a verification accuracy."""
    if not learning_rate > 0:
        raise ValueError(f"learning_rate must be positive, got {learning_rate!r}.")
    network.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="binary_crossentropy",
        metrics=[keras.metrics.BinaryAccuracy(name="accuracy")],
    )
    return network


class EpochLog(keras.callbacks.Callback):
    """Prints one short line per epoch instead of Keras' progress bars."""

    def __init__(self, epochs: int):
        super().__init__()
        self.epochs = epochs
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        shown = "  ".join(f"{key} {value:.3f}" for key, value in logs.items())
        elapsed = time.perf_counter() - self.started
        print(f"epoch {epoch + 1:>3}/{self.epochs}  {shown}  ({elapsed:.0f} s)")


@dataclasses.dataclass(frozen=True)
class TrainingRun:
    """What a training run produced: per-epoch metrics and its wall time."""

    history: dict[str, list[float]]
    seconds: float
    steps: int
    pairs_per_second: float
    images_per_second: float


def train_verification(
    network: keras.Model,
    train_split: OmniglotSplit,
    validation_split: OmniglotSplit,
    profile,
    seed: int,
    verbose: bool = True,
) -> TrainingRun:
    """Train ``network`` on same/different pairs for ``profile.train_steps`` steps.

    Training pairs come from ``train_split`` (a fresh seeded draw), the validation pairs
    (``profile.validation_pairs`` of them, fixed) from ``validation_split``; metrics are
    recorded every ``profile.steps_per_epoch`` steps.
    """
    if not network.compiled:
        compile_for_verification(network, profile.learning_rate)
    steps = profile.epochs * profile.steps_per_epoch
    training = pair_dataset(
        train_split, profile.batch_size, steps, seed, profile.same_alphabet_negatives
    )
    validation = pair_arrays(
        validation_split, profile.validation_pairs, seed + 1, profile.same_alphabet_negatives
    )
    callbacks = [EpochLog(profile.epochs)] if verbose else []
    history, seconds = _timed_fit(
        network, training, profile, callbacks, validation_data=validation, validation_batch_size=256
    )
    return TrainingRun(
        history=history,
        seconds=seconds,
        steps=steps,
        pairs_per_second=steps * profile.batch_size / seconds,
        images_per_second=2 * steps * profile.batch_size / seconds,
    )


def _timed_fit(model: keras.Model, dataset, profile, callbacks, **fit_options):
    """``model.fit`` for the profile's epochs; returns the history as floats and the seconds."""
    started = time.perf_counter()
    history = model.fit(
        dataset,
        epochs=profile.epochs,
        steps_per_epoch=profile.steps_per_epoch,
        callbacks=callbacks,
        shuffle=False,  # the samplers already shuffled; Keras cannot shuffle a tf.data pipeline
        verbose=0,
        **fit_options,
    )
    seconds = time.perf_counter() - started
    return {key: [float(v) for v in values] for key, values in history.history.items()}, seconds


class AllPairsTrainer(keras.Model):
    """Trains a Siamese network on every pair of images in each batch.

    The usual step embeds two images per pair. Here the twin embeds each image of the batch
    once and the network's own head (L1 distance, then the classifier) scores all
    ``b (b - 1) / 2`` pairs of the ``b`` embeddings: the expensive part, the convolutions,
    runs once per image, and each image takes part in ``b - 1`` pairs. The loss is the
    paper's binary cross-entropy with positives and negatives weighted equally (a batch has
    far more negatives), plus the network's L2 penalties. Training the trainer trains the
    wrapped network's weights; the network itself stays a plain two-input Siamese model.
    """

    def __init__(self, network: keras.Model, batch_size: int, **kwargs):
        super().__init__(**kwargs)
        if batch_size < 2:
            raise ValueError(f"All-pairs training needs at least 2 images a batch, got {batch_size}.")
        self.network = network
        self.batch_size = int(batch_size)
        self.twin = twin_of(network)
        self.distance = network.get_layer("l1_distance")
        self.similarity = network.get_layer("similarity")
        left, right = np.triu_indices(self.batch_size, k=1)
        self.left_index, self.right_index = left.astype("int32"), right.astype("int32")

    def call(self, images, training=False):
        embeddings = self.twin(images, training=training)
        left = ops.take(embeddings, self.left_index, axis=0)
        right = ops.take(embeddings, self.right_index, axis=0)
        return self.similarity(self.distance([left, right]))[:, 0]

    def pair_labels(self, characters):
        """1 for each pair of the batch whose two images show one character, else 0."""
        characters = ops.reshape(characters, (-1,))
        left = ops.take(characters, self.left_index)
        right = ops.take(characters, self.right_index)
        return ops.cast(ops.equal(left, right), "float32")

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        same = self.pair_labels(y)
        p = ops.clip(y_pred, 1e-7, 1.0 - 1e-7)
        cross_entropy = -(same * ops.log(p) + (1.0 - same) * ops.log(1.0 - p))
        positives = ops.maximum(ops.sum(same), 1.0)
        negatives = ops.maximum(ops.sum(1.0 - same), 1.0)
        balanced = 0.5 * (
            ops.sum(cross_entropy * same) / positives
            + ops.sum(cross_entropy * (1.0 - same)) / negatives
        )
        return balanced + ops.sum(self.losses) if self.losses else balanced

    def get_config(self):
        raise NotImplementedError(
            "AllPairsTrainer is a training wrapper and is not saved; save its network instead."
        )


class VerificationCheck(keras.callbacks.Callback):
    """After every epoch, scores fixed validation pairs with the wrapped two-input network.

    Adds ``val_loss`` and ``val_accuracy`` to the epoch's logs (so they land in the
    history), the same quantities :func:`train_verification` records.
    """

    def __init__(self, network: keras.Model, pairs, labels):
        super().__init__()
        self.network, self.pairs, self.labels = network, pairs, np.asarray(labels, np.float32)

    def on_epoch_end(self, epoch, logs=None):
        p = np.clip(self.network.predict(self.pairs, batch_size=256, verbose=0), 1e-7, 1 - 1e-7)
        y = self.labels
        # Keras' own validation loss includes the L2 penalties; so does this one.
        penalty = float(sum(np.sum(ops.convert_to_numpy(loss)) for loss in self.network.losses))
        if logs is not None:
            logs["val_loss"] = float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))) + penalty
            logs["val_accuracy"] = float(np.mean((p > 0.5) == (y > 0.5)))


def train_all_pairs(
    network: keras.Model,
    train_split: OmniglotSplit,
    validation_split: OmniglotSplit,
    profile,
    seed: int,
    verbose: bool = True,
) -> TrainingRun:
    """Train ``network`` on every pair inside episodes of ``profile.episode`` images.

    Each step draws an episode (:func:`siamese_utils.data.sample_episodes`: a few alphabets,
    a few characters each, a few images each), embeds its images once and learns from all
    their pairs (:class:`AllPairsTrainer`). Validation is the same as in
    :func:`train_verification`, so the histories compare.
    """
    alphabets, characters, images_per_character = profile.episode
    steps = profile.epochs * profile.steps_per_epoch
    episodes = sample_episodes(train_split, steps, seed, alphabets, characters, images_per_character)
    trainer = AllPairsTrainer(network, episodes.batch_size)
    trainer.compile(optimizer=keras.optimizers.Adam(profile.learning_rate))
    validation = pair_arrays(
        validation_split, profile.validation_pairs, seed + 1, profile.same_alphabet_negatives
    )
    callbacks = [VerificationCheck(network, *validation)]
    if verbose:
        callbacks.append(EpochLog(profile.epochs))
    history, seconds = _timed_fit(trainer, episode_dataset(train_split, episodes), profile, callbacks)
    pairs = len(trainer.left_index)
    return TrainingRun(
        history=history,
        seconds=seconds,
        steps=steps,
        pairs_per_second=steps * pairs / seconds,
        images_per_second=steps * episodes.batch_size / seconds,
    )


if __name__ == "__main__":
    from siamese_utils.reproduce import main

    raise SystemExit(main())
