"""What an experiment is and what it found: arms, per-arm results over seeds, and the table
and verdict a chapter shows (:mod:`siamese_utils.experiments` trains them)."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np

from siamese_utils.display import markdown_table
from siamese_utils.statistics import (
    Difference,
    Estimate,
    difference,
    t_quantile,
)

# How a trained network compares two images: its own head (the weighted L1 distance and a
# logit), or two fixed similarities of the embeddings that learn nothing.
SCORINGS = ("head", "l1", "cosine")


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

    def rows(self, command: str, recipe) -> list[dict]:
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
