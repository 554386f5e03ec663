"""The whole reproduction: train by a profile's recipe, stop early, evaluate, write results.

:func:`reproduce` is what ``python -m siamese_utils train`` (:mod:`siamese_utils.cli`) and
chapter 6 run, in three public steps:

1. :func:`prepare` refuses what cannot work, then loads the paper's split
   (:mod:`siamese_utils.run_data`) and builds the network, its optimiser and the
   end-of-epoch callbacks (:mod:`siamese_utils.run_callbacks`), resuming a saved run;
2. :func:`fit` trains by the profile's :class:`~siamese_utils.recipe.Recipe`, scoring the
   validation trials after every epoch, saving a checkpoint, and keeping the best weights
   until ``patience`` epochs pass without a better one;
3. :func:`evaluate_run` scores the best network on the test pairs, the test trials and the
   official 20 runs, and writes ``results.json`` from a
   :class:`~siamese_utils.run_results.Results`.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import pathlib
import platform
import time

import keras

from siamese_utils import checkpoints, data, evaluate, numpy_pipeline, train
from siamese_utils.epoch_data import pooled_distortions
from siamese_utils.recipe import (
    Recipe,
    check_distributable,
    make_optimizer,
    pairs_per_step,
    recipe_for,
)
from siamese_utils.run_callbacks import (
    OneShotEarlyStopping,
    RunCheckpoint,
    TimeBudget,
)
from siamese_utils.run_data import Splits, evaluate_reproduction, load_splits
from siamese_utils.run_results import Results, hardware
from siamese_utils.seeding import set_seed


@dataclasses.dataclass(frozen=True)
class Reproduction:
    """What :func:`reproduce` returns: the trained (best) network, its results and history."""

    network: object
    results: Results
    history: dict
    folder: pathlib.Path
    splits: Splits  # the data it trained, validated and was tested on


@dataclasses.dataclass
class PreparedRun:
    """A run ready for its first step (:func:`prepare`): its data, network and callbacks."""

    profile: object
    recipe: Recipe
    seed: int
    folder: (
        pathlib.Path | None
    )  # None on a data-parallel worker that is not the chief
    state: dict  # what the checkpoints keep: history, times, best epoch
    splits: Splits
    network: keras.Model  # the plain network the callbacks evaluate and save
    trainable: keras.Model  # what trains: the network, or its mirrored copy
    optimizer: object
    strategy: object
    stopping: OneShotEarlyStopping
    callbacks: list
    budget: TimeBudget | None
    max_minutes: float | None  # the budget as it was asked for
    training_drawers: list  # drawer indices, from 0

    @property
    def start_epoch(self) -> int:
        return int(self.state.get("epoch", 0))

    @property
    def finished(self) -> bool:
        """Whether a resumed run has nothing left to train."""
        return (
            self.start_epoch >= self.recipe.max_epochs
            or self.state.get("wait", 0) >= self.recipe.patience
        )


def reproduce(
    profile,
    seed: int,
    output,
    *,
    command: str | None = None,
    progress: bool = False,
    **settings,
) -> Reproduction:
    """Train, stop early, evaluate and write ``results.json`` in the folder ``output``.

    The three steps are public: :func:`prepare`, :func:`fit` and :func:`evaluate_run`.

    Args (``settings`` are the keyword arguments from ``resume`` on, :func:`prepare`'s):
        profile, seed: the :class:`~siamese_utils.profiles.Profile` and the run's seed.
        output: the run folder (created if needed).
        resume, overwrite: continue the run saved in ``output`` from its last checkpoint,
            or delete it and start over.
        recipe: how to train; the profile's own recipe when omitted.
        command: the command line to record in the results (how to repeat the run).
        progress, verbose: Keras' progress bar (the command line), or one line per epoch.
        data_dir: where tfds finds Omniglot (``TFDS_DATA_DIR`` when omitted).
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
        training_drawers: the background drawers to train on, as indices from 0 (the paper's
            first 12 by default); ``results.json`` records them counted from 1.

    Raises:
        checkpoints.RunExistsError: ``output`` holds a run and neither ``resume`` nor
            ``overwrite`` was asked.
        checkpoints.DamagedRunError: ``resume`` was asked of a run with no complete checkpoint.
        PermissionError: ``output`` cannot be written.
    """
    run = prepare(profile, seed, output, progress=progress, **settings)
    return evaluate_run(run, fit(run, progress), command)


def prepare(
    profile,
    seed: int,
    output,
    *,
    resume: bool = False,
    overwrite: bool = False,
    recipe: Recipe | None = None,
    progress: bool = False,
    verbose: bool = True,
    data_dir=None,
    strategy=None,
    options: dict = checkpoints.PYTHON_OPTIONS,
    max_minutes: float | None = None,
    training_drawers=data.TRAINING_DRAWERS,
) -> PreparedRun:
    """Everything before the first step: run folder, state, data, network and callbacks.

    Refuses what cannot work (an impossible budget or replica count, a resumed run with
    other settings, evaluation data that cannot be had) before any training. The arguments,
    and what it raises, are :func:`reproduce`'s.
    """
    recipe = recipe or recipe_for(profile)
    # Made first, so that an impossible budget is refused before any work.
    budget = TimeBudget(60.0 * max_minutes) if max_minutes is not None else None
    if strategy is not None:
        check_distributable(recipe, strategy.num_replicas_in_sync)
    chief = strategy is None or _distributed().is_chief(strategy)
    training_drawers = sorted(int(d) for d in training_drawers)
    folder, state = checkpoints.run_state(
        output,
        asked_settings(profile, seed, recipe, training_drawers),
        resume,
        overwrite,
        options,
        chief,
        verbose,
    )
    # Everything the final evaluation reads is fetched before the first step, so a run
    # that cannot be scored (offline, no all_runs.zip cached) fails now, not hours later.
    evaluate.official_runs_path()
    if recipe.weight_average and state.get("epoch", 0):
        # Its checkpoints hold the average in the network and the raw weights in the
        # optimiser (SwapEMAWeights), which a resumed fit would not swap back.
        raise ValueError(
            f"The run in {folder} averages its weights (weight_average="
            f"{recipe.weight_average}) and cannot be resumed; start it again with "
            "--overwrite."
        )
    set_seed(seed)
    splits = load_splits(profile, recipe, seed, data_dir, training_drawers)
    network, trainable, optimizer = build_trainable(
        profile, recipe, strategy, folder or output, state, options
    )
    stopping, callbacks = run_callbacks(
        network, optimizer, splits, recipe, folder, state
    )
    if verbose and (strategy is not None or not progress):
        callbacks.append(train.EpochLog(recipe.max_epochs))
    if budget is not None:
        callbacks.append(budget)
    return PreparedRun(
        profile=profile,
        recipe=recipe,
        seed=seed,
        folder=folder,
        state=state,
        splits=splits,
        network=network,
        trainable=trainable,
        optimizer=optimizer,
        strategy=strategy,
        stopping=stopping,
        callbacks=callbacks,
        budget=budget,
        max_minutes=max_minutes,
        training_drawers=training_drawers,
    )


def asked_settings(profile, seed: int, recipe, training_drawers) -> dict:
    """What a resumed run must have been started with: profile, seed, recipe, drawers."""
    asked = {
        "profile": profile.name,
        "seed": seed,
        "recipe": json.loads(json.dumps(recipe.as_dict())),
    }
    if list(training_drawers) != list(data.TRAINING_DRAWERS):
        # Only a run off the paper's split asks for it, so older runs still resume.
        asked["training_drawers"] = list(training_drawers)
    return asked


def run_callbacks(network, optimizer, splits, recipe, folder, state):
    """The early stopping, and the end-of-epoch work in order: the clock, the averaged
    weights swapped in (a recipe with ``weight_average``), threshold calibration (when
    the loss leaves the threshold free), validation pairs, early stopping, the
    checkpoint. A resumed run's stopping takes up where it was."""
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
    if recipe.objective.sets_threshold:
        callbacks.insert(
            1, train.ThresholdCalibration(network, *splits.calibration_pairs)
        )
    if recipe.weight_average:
        # Right after the clock: everything after it at an epoch's end (validation, the
        # kept best, the checkpoint) sees the average, and the next epoch trains on.
        callbacks.insert(1, keras.callbacks.SwapEMAWeights(swap_on_epoch=True))
    callbacks.append(
        RunCheckpoint(folder, network, optimizer, stopping, state, clock)
    )
    return stopping, callbacks


def build_trainable(profile, recipe: Recipe, strategy, folder, state, options):
    """The network the callbacks use, what trains and its optimiser, restored on resume.

    On one device the two networks are one; under a strategy what trains is a mirrored
    copy, and ``network`` a plain copy of its weights.
    """
    start_epoch = int(state.get("epoch", 0))
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
        return network, trainable, optimizer
    with strategy.scope():  # variables mirrored on every replica
        trainable = _distributed().mirrored_network(strategy, profile, recipe)
        optimizer = make_optimizer(recipe)
        if start_epoch:
            checkpoints.restore_checkpoint(
                folder,
                state,
                trainable,
                optimizer,
                trainable.trainable_variables,
                options,
            )
    # A plain copy of the weights for the callbacks to evaluate and save.
    network = recipe.build_network(profile)
    network.set_weights(trainable.get_weights())
    return network, trainable, optimizer


def fit(run: PreparedRun, progress: bool = False) -> float:
    """Train the prepared run to its end and restore its best epoch's weights.

    Returns the seconds spent warping the distortion pool before the first step (0 when
    the recipe has none or the run had nothing left to train).
    """
    preparation_seconds = 0.0
    if not run.finished:
        recipe = run.recipe
        if recipe.distortion_pool:
            # Built here to be timed; the pipelines below find it built.
            started = time.perf_counter()
            pooled_distortions(run.splits.train, recipe, run.seed)
            preparation_seconds = time.perf_counter() - started
        if run.strategy is not None:
            _train_distributed(run)
        else:
            run.trainable.fit(
                _training_batches(
                    run.splits.train,
                    run.profile,
                    recipe,
                    run.seed,
                    run.start_epoch,
                ),
                epochs=recipe.max_epochs,
                initial_epoch=run.start_epoch,
                steps_per_epoch=recipe.steps_per_epoch,
                callbacks=run.callbacks,
                shuffle=False,
                verbose=1 if progress else 0,
            )
    run.stopping.restore_best()
    return preparation_seconds


def stopped_by(run: PreparedRun) -> str:
    """What ended the run: early stopping, its time budget, or its last epoch."""
    if run.state.get("wait", 0) >= run.recipe.patience:
        return "early stopping"
    if run.budget is not None and run.budget.exhausted:
        return "time budget"
    return "max epochs"


def evaluate_run(
    run: PreparedRun,
    preparation_seconds: float = 0.0,
    command: str | None = None,
) -> Reproduction:
    """Score the trained run on the test data and write its ``results.json``."""
    # `run.state` is the dict the checkpoint callback kept up to date (its history, times
    # and best epoch); the file on disk may be a damaged one that this run resumed past.
    state, recipe, profile = run.state, run.recipe, run.profile
    evaluation_started = time.perf_counter()
    test = evaluate_reproduction(run.network, run.splits, profile)
    final_evaluation = time.perf_counter() - evaluation_started
    epochs = len(state["history"].get("val_one_shot", []))
    results = Results(
        **test,
        profile=profile.name,
        seed=run.seed,
        hardware=hardware(),
        train_seconds=round(float(state.get("train_seconds", 0.0)), 1),
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
        stopped_by=stopped_by(run),
        max_minutes=run.max_minutes,
        validation_one_shot=float(state.get("best", 0.0)),
        training_drawers=[d + 1 for d in run.training_drawers],
        recipe=recipe.as_dict(),
        network=recipe.network_kwargs(profile),
        omniglot=os.environ.get(data.OMNIGLOT_FILE_VARIABLE) or "tfds",
        strategy="default"
        if run.strategy is None
        else _distributed().strategy_name(run.strategy),
        replicas=run.strategy.num_replicas_in_sync
        if run.strategy is not None
        else 1,
        command=command
        or f"python -m siamese_utils train --profile {profile.name} --seed {run.seed}",
        versions={
            "keras": keras.__version__,
            "python": platform.python_version(),
        },
        created=datetime.datetime.now(datetime.UTC).isoformat(
            timespec="seconds"
        ),
    )
    if run.folder is not None:
        checkpoints.write_json(
            run.folder / checkpoints.RESULTS, results.as_dict(), overwrite=False
        )
    return Reproduction(
        network=run.network,
        results=results,
        history=state["history"],
        folder=run.folder,
        splits=run.splits,
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
        pooled_distortions(split, recipe, seed)
        if recipe.distortion_pool
        else None
    )
    return numpy_pipeline.training_batches(
        split, profile, recipe, seed, start_epoch, pool=pool
    )


def _train_distributed(run: PreparedRun) -> None:
    """The epochs of a data-parallel run: :class:`distributed.DistributedTrainer` steps, then
    the same callbacks ``fit`` would call, on the plain copy ``run.network`` of the weights."""
    recipe, network = run.recipe, run.network
    trainer = _distributed().DistributedTrainer.for_recipe(
        run.strategy,
        run.trainable,
        run.optimizer,
        run.splits.train,
        run.profile,
        recipe,
        run.seed,
        run.start_epoch,
    )
    hooks = keras.callbacks.CallbackList(run.callbacks, model=network)
    network.stop_training = False
    hooks.on_train_begin()
    for epoch in range(run.start_epoch, recipe.max_epochs):
        hooks.on_epoch_begin(epoch)
        logs = {"loss": trainer.train(recipe.steps_per_epoch)}
        network.set_weights(run.trainable.get_weights())
        hooks.on_epoch_end(epoch, logs)
        # Set by the early stopping, identically on every worker.
        if network.stop_training:
            break
    hooks.on_train_end()
