"""Compiling and fitting the verification network (same / different character).

The chapters' short runs use Adam; the paper's own recipe (per-layer SGD with momentum,
learning-rate decay, early stopping on one-shot accuracy) lives with the reproduction.
"""

from __future__ import annotations

import dataclasses
import time

import keras

from siamese_utils.data import OmniglotSplit, pair_arrays, pair_dataset


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
    started = time.perf_counter()
    history = network.fit(
        training,
        epochs=profile.epochs,
        steps_per_epoch=profile.steps_per_epoch,
        validation_data=validation,
        validation_batch_size=256,
        callbacks=callbacks,
        shuffle=False,  # the pair sampler already shuffled; Keras cannot shuffle a tf.data pipeline
        verbose=0,
    )
    seconds = time.perf_counter() - started
    return TrainingRun(
        history={key: [float(v) for v in values] for key, values in history.history.items()},
        seconds=seconds,
        steps=steps,
        pairs_per_second=steps * profile.batch_size / seconds,
    )
