"""The whole reproduction: train by a profile's recipe, stop early, evaluate, write results.

:func:`reproduce` is what ``python -m siamese_utils train`` (:mod:`siamese_utils.cli`) and
chapter 6 run. It

1. takes training images from the 30 background alphabets, drawers 0-11; validation
   trials (320, 20-way) and pairs from the 10 validation alphabets, drawers 12-15; test
   trials (400) and pairs (10,000) from the 10 test alphabets, drawers 16-19 (the split of
   Koch et al., 2015, Section 4.1, by the real drawers: :mod:`siamese_utils.drawers`);
2. trains by the profile's :class:`siamese_utils.recipe.Recipe`, checking one-shot accuracy
   on the validation trials after every epoch, keeping the best weights and stopping after
   ``patience`` epochs without improvement;
3. saves a checkpoint after every epoch, so an interrupted run resumes where it stopped;
4. scores the best network on the test pairs, the test trials and the official 20 runs of
   ``all_runs.zip``, and writes ``results.json``.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import pathlib
import platform
import sys
import time

import keras
import numpy as np

from siamese_utils import (
    checkpoints,
    data,
    evaluate,
    model,
    numpy_pipeline,
    train,
)
from siamese_utils.recipe import (
    Recipe,
    check_distributable,
    distortion_pool,
    make_optimizer,
    pairs_per_step,
    recipe_for,
)
from siamese_utils.records import processor
from siamese_utils.seeding import set_seed

RESULT_KEYS = (
    "one_shot_official_runs",
    "one_shot_paper_protocol",
    "verification_accuracy",
    "train_seconds",
    "evaluation_seconds",
    "profile",
    "seed",
    "hardware",
)


def hardware() -> dict:
    """What the run ran on: platform, CPUs, Keras backend and the accelerators it sees."""
    # Each backend's own device list, imported only when it is the backend in use (the GPU
    # machine runs Keras on JAX and has no TensorFlow).
    devices = []
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        devices = [d.device_type for d in tf.config.list_physical_devices()]
    elif keras.backend.backend() == "jax":
        import jax  # the backend in use (see above)

        # The platform for a CPU, the model for an accelerator ("NVIDIA H200").
        devices = [
            str(d.platform if d.platform == "cpu" else d.device_kind)
            for d in jax.devices()
        ]
    accelerators = sorted({d for d in devices if d.upper() not in ("CPU",)})
    # A seeded run repeats exactly on one processor model and thread count; on another,
    # the float32 kernels round differently. 0 threads: TensorFlow's choice, one a core.
    threads = 0
    if keras.backend.backend() == "tensorflow":
        threads = tf.config.threading.get_intra_op_parallelism_threads()
    name = processor() or platform.machine()
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": name,
        "cpus": os.cpu_count(),
        "intra_op_threads": threads,
        "backend": keras.backend.backend(),
        "accelerators": accelerators,
        "description": (
            f"{', '.join(accelerators)} ({keras.backend.backend()})"
            if accelerators
            else f"{os.cpu_count()} CPU cores, {name} ({keras.backend.backend()})"
        ),
    }


@dataclasses.dataclass
class Splits:
    """The reproduction's data: training images and the validation and test sets."""

    train: object
    validation_trials: object
    validation_pairs: tuple
    test_trials: object
    test_pairs: tuple
    calibration_pairs: (
        tuple  # training pairs that set the threshold of a ranking-loss run
    )


def load_splits(profile, recipe: Recipe, seed: int, data_dir=None) -> Splits:
    """The drawer and alphabet split of the paper, at the profile's image size."""
    background = data.load_split("train", profile.image_size, data_dir=data_dir)
    evaluation = data.load_split("test", profile.image_size, data_dir=data_dir)
    validation = data.validation_split(profile.image_size, data_dir=data_dir)
    test = evaluation.select_alphabets(data.TEST_ALPHABETS).select_drawers(
        data.TEST_DRAWERS
    )
    train = background.select_drawers(data.TRAINING_DRAWERS)
    return Splits(
        train=train,
        validation_trials=evaluate.paper_protocol_trials(
            validation,
            profile.n_way,
            recipe.validation_trials,
            seed + 2,
            data.VALIDATION_ALPHABETS,
        ),
        validation_pairs=data.pair_arrays(
            validation,
            profile.validation_pairs,
            seed + 1,
            profile.same_alphabet_negatives,
        ),
        test_trials=evaluate.paper_protocol_trials(
            test,
            profile.n_way,
            recipe.test_trials,
            seed + 3,
            data.TEST_ALPHABETS,
        ),
        # The paper's test pairs (Table 1) draw a different character from anywhere in the
        # test set, not preferably from the same alphabet as the training pairs do.
        test_pairs=data.pair_arrays(
            test,
            recipe.verification_pairs,
            seed + 4,
            same_alphabet_negatives=0.0,
        ),
        calibration_pairs=data.pair_arrays(
            train,
            profile.validation_pairs,
            seed + 5,
            profile.same_alphabet_negatives,
        ),
    )


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


@dataclasses.dataclass(frozen=True)
class Reproduction:
    """What :func:`reproduce` returns: the trained (best) network, its results and history."""

    network: object
    results: dict
    history: dict
    folder: pathlib.Path
    splits: Splits  # the data it trained, validated and was tested on


def reproduce(
    profile,
    seed: int,
    output,
    resume: bool = False,
    overwrite: bool = False,
    recipe: Recipe | None = None,
    progress: bool = False,
    verbose: bool = True,
    data_dir=None,
    command: str | None = None,
    strategy=None,
    options: dict = checkpoints.PYTHON_OPTIONS,
    max_minutes: float | None = None,
) -> Reproduction:
    """Train, stop early, evaluate and write ``results.json`` in the folder ``output``.

    Args:
        profile: a :class:`siamese_utils.profiles.Profile` (network size, batch, episode).
        seed: the run's seed (network initialisation, batches, distortions, trials).
        output: the run folder (created if needed).
        resume: continue the run saved in ``output`` from its last checkpoint.
        overwrite: delete a run saved in ``output`` and start over.
        recipe: how to train; the profile's own recipe when omitted.
        progress: show Keras' progress bar (the command line); otherwise one line per
            epoch when ``verbose``.
        data_dir: where tfds finds Omniglot (``TFDS_DATA_DIR`` when omitted).
        command: the command line to record in the results (how to repeat the run).
        strategy: ``None`` to train on one device with Keras' ``fit``, or a
            ``tf.distribute`` strategy (:func:`siamese_utils.distributed.make_strategy`) to
            train data-parallel with the custom loop of :mod:`siamese_utils.distributed`
            (``pairs`` recipes only). Every worker trains and evaluates; only the chief
            writes the run folder.
        options: how messages name resuming and overwriting: the arguments of this function
            (the default) or, for the command line, ``checkpoints.COMMAND_LINE_OPTIONS``.
        max_minutes: train only the whole epochs that fit in this many minutes of wall
            time (training and validation; :class:`TimeBudget`); ``None``: no limit.
            ``results.json`` says what stopped the run (``stopped_by``).

    Raises:
        checkpoints.RunExistsError: ``output`` holds a run and neither ``resume`` nor
            ``overwrite`` was asked.
        checkpoints.DamagedRunError: ``resume`` was asked of a run with no complete checkpoint.
        PermissionError: ``output`` cannot be written.
    """
    recipe = recipe or recipe_for(profile)
    # Made first, so that an impossible budget is refused before any work.
    budget = TimeBudget(60.0 * max_minutes) if max_minutes is not None else None
    if strategy is not None:
        check_distributable(recipe, strategy.num_replicas_in_sync)
    chief = strategy is None or _distributed().is_chief(strategy)
    # Other workers read a resumed run's state from the chief's folder but write nothing.
    folder = (
        checkpoints.prepare_run_folder(output, resume, overwrite, options)
        if chief
        else None
    )
    # A damaged state.json or checkpoint is reported, and the run falls back to the newest
    # complete checkpoint (at most one epoch lost).
    state = (
        checkpoints.resume_state(
            output, options, report=lambda m: print(m, file=sys.stderr)
        )
        if resume
        else None
    )
    if resume and state is None:
        if verbose:
            print(f"No checkpoint in {output}; starting a new run.")
    asked = {
        "profile": profile.name,
        "seed": seed,
        "recipe": json.loads(json.dumps(recipe.as_dict())),
    }
    state = state or dict(asked)
    changed = [key for key in asked if state.get(key) != asked[key]]
    if changed:
        raise ValueError(
            f"The run in {output} was started with another {' and '.join(changed)} "
            f"({', '.join(f'{k}={state.get(k)!r}' for k in changed)}); resume it with the same "
            f"settings, or start over with {options['overwrite']}."
        )
    start_epoch = int(state.get("epoch", 0))

    # Everything the final evaluation reads is fetched before the first step, so a run
    # that cannot be scored (offline, no all_runs.zip cached) fails now, not hours later.
    evaluate.official_runs_path()
    set_seed(seed)
    splits = load_splits(profile, recipe, seed, data_dir)
    if strategy is None:
        network = recipe.build_network(profile)
        optimizer = make_optimizer(recipe)
        trainable = recipe.sampling.compiled(network, optimizer, recipe)
        if start_epoch:
            checkpoints.restore_checkpoint(
                folder,
                state,
                network,
                optimizer,
                trainable.trainable_variables,
                options,
            )
    else:
        with strategy.scope():  # variables mirrored on every replica
            trainable = _distributed().mirrored_network(
                strategy, profile, recipe
            )
            optimizer = make_optimizer(recipe)
            if start_epoch:
                checkpoints.restore_checkpoint(
                    output,
                    state,
                    trainable,
                    optimizer,
                    trainable.trainable_variables,
                    options,
                )
        # A plain copy of the weights for the callbacks to evaluate and save.
        network = recipe.build_network(profile)
        network.set_weights(trainable.get_weights())

    stopping = OneShotEarlyStopping(
        network,
        splits.validation_trials,
        recipe.patience,
        folder,
        best=state.get("best", -1.0),
        best_epoch=state.get("best_epoch", 0),
        wait=state.get("wait", 0),
    )
    clock = train.TrainingClock(state.get("train_seconds", 0.0))
    callbacks = [
        clock,
        train.VerificationCheck(network, *splits.validation_pairs),
        stopping,
    ]
    # The loss leaves the threshold free; set it first.
    if recipe.objective.sets_threshold:
        callbacks.insert(
            1, train.ThresholdCalibration(network, *splits.calibration_pairs)
        )
    callbacks.append(
        RunCheckpoint(folder, network, optimizer, stopping, state, clock)
    )
    if verbose and (strategy is not None or not progress):
        callbacks.append(train.EpochLog(recipe.max_epochs))
    if budget is not None:
        callbacks.append(budget)
    finished_early = state.get("wait", 0) >= recipe.patience
    preparation_seconds = 0.0
    if start_epoch < recipe.max_epochs and not finished_early:
        if recipe.distortion_pool:
            # Built here to be timed; the pipelines below find it built.
            started = time.perf_counter()
            distortion_pool(splits.train, recipe, seed)
            preparation_seconds = time.perf_counter() - started
        if strategy is not None:
            _train_distributed(
                strategy,
                trainable,
                optimizer,
                network,
                callbacks,
                splits,
                profile,
                recipe,
                seed,
                start_epoch,
            )
        else:
            trainable.fit(
                _training_batches(
                    splits.train, profile, recipe, seed, start_epoch
                ),
                epochs=recipe.max_epochs,
                initial_epoch=start_epoch,
                steps_per_epoch=recipe.steps_per_epoch,
                callbacks=callbacks,
                shuffle=False,
                verbose=1 if progress else 0,
            )
    stopping.restore_best()
    # `state` is the dict the checkpoint callback kept up to date (its history, times and best
    # epoch); the file on disk may be a damaged one that this run resumed past.

    evaluation_started = time.perf_counter()
    results = evaluate_reproduction(network, splits, profile)
    final_evaluation = time.perf_counter() - evaluation_started
    epochs = len(state["history"].get("val_one_shot", []))
    if state.get("wait", 0) >= recipe.patience:
        stopped_by = "early stopping"
    elif budget is not None and budget.exhausted:
        stopped_by = "time budget"
    else:
        stopped_by = "max epochs"
    results.update(
        profile=profile.name,
        seed=seed,
        hardware=hardware(),
        # Training steps alone; validation during training and the final test scoring apart.
        train_seconds=round(float(state.get("train_seconds", 0.0)), 1),
        # Warping the distortion pool before training (this process; 0 without a pool).
        preparation_seconds=round(preparation_seconds, 1),
        evaluation_seconds=round(
            float(state.get("evaluation_seconds", 0.0)) + final_evaluation, 1
        ),
        epochs_trained=epochs,
        steps_trained=epochs * recipe.steps_per_epoch,
        pairs_trained=epochs
        * recipe.steps_per_epoch
        * pairs_per_step(profile, recipe),
        best_epoch=int(state.get("best_epoch", 0)),
        stopped_by=stopped_by,
        max_minutes=max_minutes,
        validation_one_shot=float(state.get("best", 0.0)),
        recipe=recipe.as_dict(),
        network=recipe.network_kwargs(profile),
        # Where Omniglot was read from: tfds, or a file of data.export_omniglot.
        omniglot=os.environ.get(data.OMNIGLOT_FILE_VARIABLE) or "tfds",
        strategy="default"
        if strategy is None
        else _distributed().strategy_name(strategy),
        replicas=strategy.num_replicas_in_sync if strategy is not None else 1,
        command=command
        or f"python -m siamese_utils train --profile {profile.name} --seed {seed}",
        versions={
            "keras": keras.__version__,
            "python": platform.python_version(),
        },
        created=datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds"
        ),
    )
    # Exactly what the file holds (tuples -> lists)
    results = json.loads(json.dumps(results))
    if folder is not None:
        checkpoints.write_json(
            folder / checkpoints.RESULTS, results, overwrite=False
        )
    return Reproduction(
        network=network,
        results=results,
        history=state["history"],
        folder=folder,
        splits=splits,
    )


def _distributed():
    """:mod:`siamese_utils.distributed`, imported when a run asks for ``tf.distribute``.

    Imported late so that a machine without TensorFlow (JAX) can train on one device.
    """
    # tf.distribute: TensorFlow only (see above).
    from siamese_utils import distributed

    return distributed


def _training_batches(
    split, profile, recipe: Recipe, seed: int, start_epoch: int
):
    """What ``fit`` trains on: ``tf.data`` on TensorFlow, NumPy arrays on other backends.

    Both give the same batches from the same seed (:mod:`siamese_utils.numpy_pipeline`).
    """
    if keras.backend.backend() == "tensorflow":
        # tf.data: imported only on the backend that has it.
        from siamese_utils.pipeline import training_dataset

        return training_dataset(split, profile, recipe, seed, start_epoch)
    pool = (
        distortion_pool(split, recipe, seed) if recipe.distortion_pool else None
    )
    return numpy_pipeline.training_batches(
        split, profile, recipe, seed, start_epoch, pool=pool
    )


def _train_distributed(
    strategy,
    trained,
    optimizer,
    network,
    callbacks,
    splits,
    profile,
    recipe,
    seed: int,
    start_epoch: int,
) -> None:
    """The epochs of a data-parallel run: :class:`distributed.DistributedTrainer` steps, then
    the same callbacks ``fit`` would call, on the plain copy ``network`` of the weights."""
    trainer = _distributed().DistributedTrainer.for_recipe(
        strategy,
        trained,
        optimizer,
        splits.train,
        profile,
        recipe,
        seed,
        start_epoch,
    )
    hooks = keras.callbacks.CallbackList(callbacks, model=network)
    network.stop_training = False
    hooks.on_train_begin()
    for epoch in range(start_epoch, recipe.max_epochs):
        hooks.on_epoch_begin(epoch)
        logs = {"loss": trainer.train(recipe.steps_per_epoch)}
        network.set_weights(trained.get_weights())
        hooks.on_epoch_end(epoch, logs)
        # Set by the early stopping, identically on every worker.
        if network.stop_training:
            break
    hooks.on_train_end()


def evaluate_reproduction(network, splits: Splits, profile) -> dict:
    """Verification accuracy on the test pairs and 20-way accuracies, as a results dict."""
    (left, right), labels = splits.test_pairs
    scores = model.logit_network(network).predict(
        [left, right], batch_size=256, verbose=0
    )[:, 0]
    official = evaluate.one_shot(
        network, evaluate.official_runs(image_size=profile.image_size)
    )
    return {
        # score > 0 is p(same) > 0.5
        "verification_accuracy": float(
            np.mean((scores > 0.0) == (labels[:, 0] > 0.5))
        ),
        "one_shot_paper_protocol": evaluate.one_shot(
            network, splits.test_trials
        ).accuracy,
        "one_shot_official_runs": official.accuracy,
        "verification_pairs": int(len(labels)),
        "paper_protocol_trials": int(len(splits.test_trials)),
        "official_trials": int(len(official.trials)),
    }
