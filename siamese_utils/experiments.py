"""Comparisons a reader can trust: arms trained alike over seeds, scored on validation tasks.

A chapter asks a question of one part of the network (is the paper's 10x10 stem worth its
cost? does the embedding need 4,096 units?). Its experiment is a list of :class:`Arm`: each
arm changes the network (or only how its embeddings are compared), and every arm is trained
the same way, by the profile's ``"experiment"`` recipe (:func:`siamese_utils.recipe.recipe_for`:
the fast recipe's all-pairs ranking training, shorter and undistorted), once per seed. Each
trained network is scored on the same 20-way one-shot tasks from the *validation* alphabets
and drawers, never on the test set, so a chapter can choose between arms without touching
the numbers the book reports once, for its final recipe.

:func:`run_experiment` returns an :class:`Experiment`: per arm the accuracy of every seed,
their mean, standard deviation and a 95% interval for the mean, beside the two rows that
give those numbers a scale (chance, and nearest neighbours in pixel space on the same
tasks). :meth:`Experiment.verdict` writes the sentence a chapter may claim: which
differences from the reference arm exceed their uncertainty and which do not.

Several seeds of every arm can take longer than a chapter may run, so ``python -m
bench.experiments`` records them (:mod:`siamese_utils.experiment_records`); the chapter
then trains one seed live and :func:`check_live` fails when that run falls outside what the
recorded seeds predict.

This module is the chapters' one entry: the arms of each chapter
(:mod:`siamese_utils.arms`), the result types (:mod:`siamese_utils.experiment_results`) and
the records (:mod:`siamese_utils.experiment_records`) live in modules of their own, and the
names a chapter uses are imported here.
"""

from __future__ import annotations

import numpy as np

from siamese_utils import data, evaluate, model, train
from siamese_utils.arms import CHAPTER_EXPERIMENTS, chapter_arms
from siamese_utils.embeddings import embed
from siamese_utils.experiment_records import (
    RECORDED_ROWS,
    check_live,
    from_rows,
    recorded,
    recorded_table,
)
from siamese_utils.experiment_results import (
    SCORINGS,
    Arm,
    ArmResult,
    Experiment,
)
from siamese_utils.network_checks import chosen_groups, same_definition
from siamese_utils.profiles import PAPER_VALIDATION_TRIALS
from siamese_utils.recipe import Recipe, recipe_for
from siamese_utils.seeding import set_seed

# What a chapter imports from here (see the module's docstring).
__all__ = [
    "CHAPTER_EXPERIMENTS",
    "RECORDED_ROWS",
    "SCORINGS",
    "VALIDATION_TASKS",
    "Arm",
    "ArmResult",
    "Experiment",
    "chapter_arms",
    "check_live",
    "edited_groups",
    "from_rows",
    "recorded",
    "recorded_table",
    "run_experiment",
    "validation_tasks",
]
# The experiments score the paper's 320 validation tasks, as its early stopping did.
VALIDATION_TASKS = PAPER_VALIDATION_TRIALS


def validation_tasks(
    profile, tasks: int = VALIDATION_TASKS, data_dir=None, validation=None
):
    """The experiments' one-shot tasks: validation alphabets and drawers, fixed by seed 0.

    ``validation``: the split of :func:`siamese_utils.data.validation_split`, when the
    caller has it already.
    """
    if validation is None:
        validation = data.validation_split(
            profile.image_size, data_dir=data_dir
        )
    return evaluate.paper_protocol_trials(
        validation, profile.n_way, tasks, 0, data.VALIDATION_ALPHABETS
    )


def _scores(network, trials, scoring: str) -> np.ndarray:
    if scoring == "head":
        return evaluate.siamese_scores(network, trials)
    embeddings = embed(network, trials.images)
    queries = embeddings[trials.queries][:, None, :]
    candidates = embeddings[trials.candidates]
    if scoring == "l1":
        return -np.abs(queries - candidates).sum(axis=-1)
    norms = np.linalg.norm(queries, axis=-1) * np.linalg.norm(
        candidates, axis=-1
    )
    return (queries * candidates).sum(axis=-1) / np.maximum(norms, 1e-12)


def train_arm(arm, seed, profile, recipe, groups, splits, announce=None):
    """Train one arm's network for one seed; returns it and its seconds of training.

    ``announce``: a line's beginning to print with the steps and seconds, or ``None``.
    """
    set_seed(seed)
    try:
        network = recipe.build_network(profile, groups=groups, **arm.network)
    except TypeError as error:
        raise ValueError(
            f"Arm {arm.label!r} changes the network by {arm.network}, "
            f"which siamese_network does not take: {error}"
        ) from None
    run = train.train_all_pairs(
        network, *splits, profile, seed, recipe=recipe, verbose=False
    )
    if announce:
        print(
            f"{announce}: {run.steps} steps in {run.seconds:.0f} s", flush=True
        )
    return network, run.seconds


def checked(arms, seeds) -> tuple[list, list[int]]:
    """The arms and seeds of an experiment as lists, refused when they cannot make one."""
    arms = list(arms)
    labels = [arm.label for arm in arms]
    if not arms or len(set(labels)) != len(labels):
        raise ValueError(
            f"An experiment needs arms with different labels, got {labels}."
        )
    seeds = [int(seed) for seed in seeds]
    if not seeds:
        raise ValueError("An experiment needs at least one seed.")
    return arms, seeds


def run_experiment(
    name: str,
    arms,
    profile,
    seeds=(2015,),
    *,
    recipe: Recipe | None = None,
    groups=None,
    data_dir=None,
    verbose: bool = False,
) -> Experiment:
    """Train every arm once per seed by the same recipe and score it on validation tasks.

    Args:
        name: the experiment's name in records (e.g. ``"stem"``).
        arms: the :class:`Arm` list; labels must differ.
        profile: sizes the network, the batch and the one-shot tasks.
        seeds: one run of every arm per seed; each seed fixes the initial weights and the
            episodes, so two arms of one seed see the same data.
        recipe: the training of every arm (default ``recipe_for(profile, "experiment")``).
        groups: a chapter's own group functions by name (``{"stem": stem}``), built into
            every arm instead of the book's (:meth:`Recipe.build_network`). A group that
            differs from the book's is listed in the result's ``edited``.
        verbose: print one line per trained network.

    Returns:
        The :class:`Experiment`; with a single seed its ``networks`` holds each arm's
        trained network (arms that only score differently share one).
    """
    arms, seeds = checked(arms, seeds)
    labels = [arm.label for arm in arms]
    recipe = recipe or recipe_for(profile, "experiment")
    train_split = data.load_split(
        "train", profile.image_size, data_dir=data_dir
    ).select_drawers(data.TRAINING_DRAWERS)
    validation_split = data.validation_split(
        profile.image_size, data_dir=data_dir
    )
    trials = validation_tasks(profile, validation=validation_split)
    accuracies = {label: {} for label in labels}
    seconds = {label: {} for label in labels}
    networks = {}
    for seed in seeds:
        trained = {}  # training key -> (network, seconds)
        for arm in arms:
            if arm.training_key not in trained:
                trained[arm.training_key] = train_arm(
                    arm,
                    seed,
                    profile,
                    recipe,
                    groups,
                    (train_split, validation_split),
                    verbose and f"{name}: {arm.label}, seed {seed}",
                )
            network, elapsed = trained[arm.training_key]
            if len(seeds) == 1:
                networks[arm.label] = network
            scores = _scores(network, trials, arm.scoring)
            choices = evaluate.pick_candidates(scores, seed)
            accuracies[arm.label][seed] = float(
                np.mean(choices == trials.answers)
            )
            seconds[arm.label][seed] = float(elapsed)
    return Experiment(
        name=name,
        arms=tuple(
            ArmResult(label, accuracies[label], seconds[label])
            for label in labels
        ),
        chance=1.0 / profile.n_way,
        pixels=evaluate.pixel_nearest_neighbour(trials).accuracy,
        tasks=len(trials),
        steps=recipe.max_steps,
        profile=profile.name,
        networks=networks,
        edited=edited_groups(groups),
    )


def edited_groups(groups) -> tuple[str, ...]:
    """The names of the groups in ``groups`` whose code differs from the book's own."""
    book = {
        "twin": model.twin,
        "stem": model.stem,
        "block": model.conv_block,
        "encoder": model.encoder,
        "classifier": model.classifier,
    }
    return tuple(
        name
        for name, function in chosen_groups(groups).items()
        if not same_definition(function, book[name])
    )
