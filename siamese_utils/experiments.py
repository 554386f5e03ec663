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
bench.experiments`` records them (:meth:`Experiment.rows`, :func:`from_rows`); the chapter
then trains one seed live and :func:`check_live` fails when that run falls outside what the
recorded seeds predict.
"""

from __future__ import annotations

import dataclasses
import json
import math
import pathlib

import numpy as np
from IPython.display import Markdown

from siamese_utils import data, evaluate, model, records, train
from siamese_utils.display import markdown_table
from siamese_utils.embeddings import embed
from siamese_utils.network_checks import chosen_groups, same_definition
from siamese_utils.recipe import Recipe, recipe_for
from siamese_utils.seeding import set_seed
from siamese_utils.statistics import (
    Difference,
    Estimate,
    difference,
    t_quantile,
)

# How a trained network compares two images: its own head (the weighted L1 distance and a
# logit), or two fixed similarities of the embeddings that learn nothing.
SCORINGS = ("head", "l1", "cosine")
# The paper's early stopping used 320 validation tasks.
VALIDATION_TASKS = 320


@dataclasses.dataclass(frozen=True)
class Arm:
    """One configuration of an experiment.

    Attributes:
        label: how tables and sentences name the arm.
        network: keyword changes to the profile's network
            (:func:`siamese_utils.model.siamese_network`), e.g. ``{"kernel_sizes": ...}``.
        scoring: ``"head"`` (the trained classifier), ``"l1"`` (minus the plain L1
            distance of the embeddings) or ``"cosine"`` (their cosine similarity). Arms
            that differ only here share one trained network per seed.
    """

    label: str
    network: dict = dataclasses.field(default_factory=dict)
    scoring: str = "head"

    def __post_init__(self):
        if self.scoring not in SCORINGS:
            raise ValueError(
                f"Unknown scoring {self.scoring!r} for arm {self.label!r}; "
                f"choose one of {', '.join(SCORINGS)}."
            )

    @property
    def training_key(self) -> str:
        """Equal for arms that train the same network."""
        return json.dumps(self.network, sort_keys=True, default=list)


@dataclasses.dataclass(frozen=True)
class ArmResult:
    """An arm's validation one-shot accuracy (in [0, 1]) and training seconds per seed."""

    label: str
    accuracies: dict  # seed -> accuracy
    seconds: dict  # seed -> seconds of training steps

    @property
    def mean(self) -> float:
        """Mean accuracy over the seeds."""
        return float(np.mean(list(self.accuracies.values())))

    @property
    def mean_seconds(self) -> float:
        """Mean seconds of training steps over the seeds."""
        return float(np.mean(list(self.seconds.values())))

    @property
    def sd(self) -> float | None:
        """Standard deviation over the seeds (``None`` for a single seed)."""
        values = list(self.accuracies.values())
        return float(np.std(values, ddof=1)) if len(values) > 1 else None

    @property
    def interval(self) -> tuple[float, float] | None:
        """95% interval for the mean over seeds (Student t), ``None`` for one seed."""
        if self.sd is None:
            return None
        n = len(self.accuracies)
        half = t_quantile(n - 1) * self.sd / math.sqrt(n)
        return self.mean - half, self.mean + half

    def prediction_interval(self) -> tuple[float, float] | None:
        """Where 95% of the runs of one more seed should land (Student t)."""
        if self.sd is None:
            return None
        n = len(self.accuracies)
        half = t_quantile(n - 1) * self.sd * math.sqrt(1 + 1 / n)
        return self.mean - half, self.mean + half


@dataclasses.dataclass(frozen=True)
class Experiment:
    """The result of :func:`run_experiment` (or of recorded rows, :func:`from_rows`)."""

    name: str
    arms: tuple  # ArmResult, in the order the arms were given
    chance: float
    pixels: float  # 1-nearest neighbour in pixels on the same tasks
    tasks: int
    steps: int
    profile: str
    # The trained networks of a live run with one seed, by arm label, for a chapter to look
    # inside (filters, feature maps); empty for recorded rows and for several seeds.
    networks: dict = dataclasses.field(default_factory=dict, compare=False)
    # The groups a live run built from a chapter's edited code instead of the book's
    # (:func:`edited_groups`); the records describe the book's code only.
    edited: tuple = ()

    def arm(self, label: str) -> ArmResult:
        """The result of the arm called ``label``."""
        for result in self.arms:
            if result.label == label:
                return result
        raise KeyError(
            f"No arm {label!r} in experiment {self.name!r}; it has "
            f"{', '.join(a.label for a in self.arms)}."
        )

    @property
    def seeds(self) -> list:
        """The seeds every arm was trained with."""
        return sorted(self.arms[0].accuracies)

    def table_rows(self) -> list[list[str]]:
        """Rows of :meth:`table`: one per arm, then pixel nearest neighbours and chance."""

        def percent(value):
            return f"{100 * value:.1f}"

        rows = []
        for arm in self.arms:
            interval = arm.interval
            rows.append(
                [
                    arm.label,
                    percent(arm.mean),
                    "-" if arm.sd is None else percent(arm.sd),
                    "-"
                    if interval is None
                    else f"{percent(interval[0])} to {percent(interval[1])}",
                    ", ".join(percent(arm.accuracies[s]) for s in self.seeds),
                    f"{arm.mean_seconds:.0f}",
                ]
            )
        for label, value in (
            ("1-nearest neighbour in pixels", self.pixels),
            ("chance", self.chance),
        ):
            rows.append([label, percent(value), "-", "-", "-", "-"])
        return rows

    def table(self, caption: str | None = None):
        """The experiment as a Markdown table (validation one-shot accuracy, %)."""
        headers = [
            "arm",
            "mean (%)",
            "sd (%)",
            "95% interval of the mean (%)",
            f"seeds {', '.join(str(s) for s in self.seeds)} (%)",
            "training (s)",
        ]
        caption = caption or (
            f"20-way one-shot accuracy on {self.tasks} validation tasks, "
            f"{len(self.seeds)} seed{'s' if len(self.seeds) > 1 else ''} per "
            f"arm, {self.steps} steps each ({self.profile} profile)"
        )
        return markdown_table(headers, self.table_rows(), caption)

    def difference(self, label: str, reference: str) -> Difference:
        """``label`` minus ``reference``, paired by seed (:func:`statistics.difference`)."""
        return difference(
            Estimate.over(self.arm(label).accuracies, "seed"),
            Estimate.over(self.arm(reference).accuracies, "seed"),
        )

    def verdict(self, reference: str | None = None) -> str:
        """A sentence on each arm against ``reference``: beyond its uncertainty or not.

        ``reference`` defaults to the first arm, which is where every chapter puts its own.
        """
        reference = self.arms[0].label if reference is None else reference
        clauses = [
            f"{arm.label} differs by {self.difference(arm.label, reference).describe()}"
            for arm in self.arms
            if arm.label != reference
        ]
        return (
            f"Against {reference}, over {len(self.seeds)} seeds paired by seed: "
            + "; ".join(clauses)
            + "."
        )

    def rows(self, command: str, recipe: Recipe) -> list[dict]:
        """One JSON-ready record per arm and seed (what ``bench.experiments`` stores)."""
        return [
            {
                "experiment": self.name,
                "arm": arm.label,
                "seed": int(seed),
                "validation_one_shot": arm.accuracies[seed],
                "train_seconds": round(arm.seconds[seed], 1),
                "steps": self.steps,
                "tasks": self.tasks,
                "pixels": self.pixels,
                "chance": self.chance,
                "profile": self.profile,
                "recipe": recipe.as_dict(),
                "command": command,
            }
            for arm in self.arms
            for seed in sorted(arm.accuracies)
        ]


def from_rows(rows: list[dict], name: str) -> Experiment:
    """The :class:`Experiment` that recorded rows of experiment ``name`` describe.

    A later row for the same arm and seed replaces an earlier one.
    """
    mine = [row for row in rows if row["experiment"] == name]
    if not mine:
        raise KeyError(
            f"No recorded rows of experiment {name!r}; run "
            f"`python -m bench.experiments {name}` to record them."
        )
    labels = list(dict.fromkeys(row["arm"] for row in mine))
    accuracies = {label: {} for label in labels}
    seconds = {label: {} for label in labels}
    for row in mine:
        accuracies[row["arm"]][row["seed"]] = row["validation_one_shot"]
        seconds[row["arm"]][row["seed"]] = row["train_seconds"]
    last = mine[-1]
    return Experiment(
        name=name,
        arms=tuple(
            ArmResult(label, accuracies[label], seconds[label])
            for label in labels
        ),
        chance=last["chance"],
        pixels=last["pixels"],
        tasks=last["tasks"],
        steps=last["steps"],
        profile=last["profile"],
    )


# Where ``python -m bench.experiments`` records its rows, seen from a chapter.
RECORDED_ROWS = records.RESULTS_FOLDER / "experiments.jsonl"


def recorded(
    name: str, path: pathlib.Path = RECORDED_ROWS
) -> Experiment | None:
    """Experiment ``name`` as recorded (:func:`from_rows`), or ``None`` if it never was."""
    rows = [row for row in records.read_rows(path) if row["experiment"] == name]
    return from_rows(rows, name) if rows else None


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
    arms = list(arms)
    labels = [arm.label for arm in arms]
    if not arms or len(set(labels)) != len(labels):
        raise ValueError(
            f"An experiment needs arms with different labels, got {labels}."
        )
    seeds = [int(seed) for seed in seeds]
    if not seeds:
        raise ValueError("An experiment needs at least one seed.")
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
                set_seed(seed)
                try:
                    network = recipe.build_network(
                        profile, groups=groups, **arm.network
                    )
                except TypeError as error:
                    raise ValueError(
                        f"Arm {arm.label!r} changes the network by {arm.network}, "
                        f"which siamese_network does not take: {error}"
                    ) from None
                run = train.train_all_pairs(
                    network,
                    train_split,
                    validation_split,
                    profile,
                    seed,
                    recipe=recipe,
                    verbose=False,
                )
                trained[arm.training_key] = (network, run.seconds)
                if verbose:
                    print(
                        f"{name}: {arm.label}, seed {seed}: {run.steps} steps "
                        f"in {run.seconds:.0f} s",
                        flush=True,
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


def check_live(live: Experiment, recorded: Experiment) -> None:
    """Fail when a live run of an arm falls outside what the recorded seeds predict.

    Compared only when both ran in the same profile for the same steps; each live arm's
    accuracy must lie inside its recorded 95% prediction interval for one more seed.

    Raises:
        AssertionError: naming the arm, its live accuracy and the interval.
    """
    if (live.profile, live.steps) != (recorded.profile, recorded.steps):
        return
    for arm in live.arms:
        predicted = recorded.arm(arm.label).prediction_interval()
        if predicted is None:
            continue
        low, high = predicted
        value = arm.mean
        if not low <= value <= high:
            raise AssertionError(
                f"The live run of {arm.label!r} scored {100 * value:.1f}%, outside "
                f"the {100 * low:.1f}% to {100 * high:.1f}% the recorded seeds "
                f"predict; record the experiment again (python -m bench.experiments "
                f"{recorded.name}) if the code changed."
            )


def recorded_table(
    live: Experiment, path: pathlib.Path = RECORDED_ROWS
) -> tuple[Experiment | None, Markdown]:
    """What a chapter shows beside its live run: the recorded seeds of the same experiment.

    The live run is checked first (:func:`check_live`), so a page whose run lands outside
    what the records predict fails instead of showing a table it contradicts.

    Returns:
        The recorded :class:`Experiment` and its table; without a record, ``None`` and a
        note naming the command that makes one.
    """
    record = recorded(live.name, path)
    if record is None:
        return None, Markdown(
            "No record of this experiment is here: `python -m "
            f"bench.experiments {live.name}` makes one."
        )
    if live.edited:
        # A reader's own group: the records are of the book's, so they neither check
        # this run nor describe it, and the page says so above them.
        note = Markdown(
            f"This page's {' and '.join(live.edited)} differs from the book's, so "
            "the recorded seeds below describe the book's network, not the one this "
            "page trained.\n\n" + record.table().data
        )
        return record, note
    check_live(live, record)
    return record, record.table()


# The chapters' experiments, by the name bench.experiments records them under.
CHAPTER_EXPERIMENTS = ("twin", "stem", "block", "encoder", "classifier")


def _fits(profile, kernel_sizes) -> bool:
    try:
        model.feature_map_sizes(profile.image_size, kernel_sizes)
    except ValueError:
        return False
    return True


def chapter_arms(name: str, profile) -> list[Arm]:
    """The arms of a chapter's experiment at ``profile``'s sizes, the reference first.

    ``twin`` (chapter 2): the paper's initialisation against the design document's;
    ``stem`` (chapter 3): the paper's 10x10 stem scaled to the profile's image (5x5 at 52
    pixels) against 3x3 and 7x7, leaving out a kernel the image is too small for;
    ``block`` (chapter 4): the profile's widths against half of them and against batch
    normalisation; ``encoder`` (chapter 5): embeddings of 256, 1,024 and 4,096 units, the
    profile's own first, and the profile's own without the sigmoid; ``classifier`` (chapter 6): the learned weighted L1 head against
    an unweighted L1 distance and the cosine similarity of the same embeddings.
    """
    if name == "twin":
        return [
            Arm("the paper's initialisation"),
            Arm(
                "the design document's initialisation",
                {"initialisation": "design-document"},
            ),
        ]
    if name == "stem":
        others = profile.kernel_sizes[1:]
        scaled = max(1, round(10 * profile.image_size / 105))
        kernels = [
            k
            for k in dict.fromkeys((scaled, 3, 7))
            if _fits(profile, (k, *others))
        ]
        return [
            Arm(
                f"{k}x{k} stem"
                + (" (the paper's 10x10, scaled)" if k == scaled else ""),
                {}
                if k == profile.kernel_sizes[0]
                else {"kernel_sizes": (k, *others)},
            )
            for k in kernels
        ]
    if name == "block":
        return [
            Arm("the profile's widths"),
            Arm(
                "half the widths",
                {"filters": tuple(max(1, f // 2) for f in profile.filters)},
            ),
            Arm("with batch normalisation", {"batch_norm": True}),
        ]
    if name == "encoder":
        widths = [profile.embedding_units] + [
            w for w in (256, 1024, 4096) if w != profile.embedding_units
        ]
        return [
            Arm(
                f"{w:,} units",
                {} if w == profile.embedding_units else {"embedding_units": w},
            )
            for w in widths
        ] + [
            Arm(
                f"{profile.embedding_units:,} units, no sigmoid",
                {"embedding_activation": "linear"},
            )
        ]
    if name == "classifier":
        return [
            Arm("the learned weighted L1 head"),
            Arm("unweighted L1 distance", scoring="l1"),
            Arm("cosine similarity", scoring="cosine"),
        ]
    raise ValueError(
        f"Unknown experiment {name!r}; choose one of {', '.join(CHAPTER_EXPERIMENTS)}."
    )
