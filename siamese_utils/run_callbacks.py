"""The reproduction's end-of-epoch work beyond the chapters' (:mod:`siamese_utils.train`):
early stopping on one-shot validation accuracy, a checkpoint after every epoch, and a limit
on wall time."""

from __future__ import annotations

import time

import keras

from siamese_utils import checkpoints, evaluate, model


class OneShotEarlyStopping(keras.callbacks.Callback):
    """Scores the validation trials after every epoch; keeps the best weights; stops late.

    Adds ``val_one_shot`` to the epoch's logs. The best network is also saved as
    ``best.keras`` in the run folder.
    """

    def __init__(
        self, network, trials, patience, folder, best=-1.0, best_epoch=0, wait=0
    ):
        super().__init__()
        self.network, self.trials, self.patience, self.folder = (
            network,
            trials,
            patience,
            folder,
        )
        self.best, self.best_epoch, self.wait = best, best_epoch, wait
        self.best_weights = (
            None  # folder None: keep the best in memory only (non-chief)
        )

    def on_epoch_end(self, epoch, logs=None):
        accuracy = evaluate.one_shot(
            self.network, self.trials, seed=epoch
        ).accuracy
        logs["val_one_shot"] = accuracy
        if accuracy > self.best:
            self.best, self.best_epoch, self.wait = accuracy, epoch + 1, 0
            self.best_weights = self.network.get_weights()
            if self.folder is not None:
                checkpoints.save_network(
                    self.network, self.folder / checkpoints.BEST
                )
        else:
            self.wait += 1
            if self.wait >= self.patience:
                self.model.stop_training = True

    def restore_best(self):
        """Put the best epoch's weights back into the network."""
        saved = (
            self.folder is not None
            and (self.folder / checkpoints.BEST).exists()
        )
        if self.best_weights is None and saved:
            self.best_weights = model.load_model(
                self.folder / checkpoints.BEST
            ).get_weights()
        if self.best_weights is not None:
            self.network.set_weights(self.best_weights)


class RunCheckpoint(keras.callbacks.Callback):
    """Saves network, optimiser and run state after every epoch (see :mod:`checkpoints`).

    With ``folder`` None (a worker that is not the chief) it keeps the state in memory.
    The seconds it records come from ``clock`` (a :class:`train.TrainingClock`, first
    among the callbacks): ``train_seconds`` the training steps alone, and
    ``evaluation_seconds`` the end-of-epoch work between the clock and this callback
    (threshold calibration, validation pairs and one-shot validation trials).
    """

    def __init__(self, folder, network, optimizer, stopping, state, clock):
        super().__init__()
        self.folder, self.network, self.optimizer = folder, network, optimizer
        self.stopping, self.state, self.clock = stopping, state, clock

    def on_epoch_end(self, epoch, logs=None):
        history = self.state.setdefault("history", {})
        for key, value in (logs or {}).items():
            history.setdefault(key, []).append(float(value))
        evaluation = (
            self.state.get("evaluation_seconds", 0.0)
            + time.perf_counter()
            - self.clock.epoch_ended
        )
        self.state.update(
            train_seconds=self.clock.seconds,
            evaluation_seconds=evaluation,
            best=self.stopping.best,
            best_epoch=self.stopping.best_epoch,
            wait=self.stopping.wait,
        )
        if self.folder is not None:
            checkpoints.save_checkpoint(
                self.folder, self.network, self.optimizer, epoch + 1, self.state
            )


class TimeBudget(keras.callbacks.Callback):
    """Stops training at the end of the last epoch that fits in ``seconds`` of wall time.

    An epoch's time includes its end-of-epoch work (validation, checkpoint), so put this
    callback last. The next epoch is assumed to take as long as the longest so far; the
    first includes compiling the training step, which keeps the estimate on the safe side.
    """

    def __init__(self, seconds: float):
        super().__init__()
        if not seconds > 0:
            raise ValueError(
                f"A time budget must be a positive number of seconds, got {seconds!r}."
            )
        self.seconds = float(seconds)
        self.started = self.last = time.perf_counter()
        self.longest = 0.0
        self.exhausted = False

    def on_train_begin(self, logs=None):
        # Counted from the first step, not from the preparation before it.
        self.started = self.last = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        now = time.perf_counter()
        self.longest = max(self.longest, now - self.last)
        self.last = now
        if now - self.started + self.longest > self.seconds:
            self.exhausted = True
            self.model.stop_training = True
