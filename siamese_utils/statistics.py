"""The book's one rule for "is this difference real?".

Every comparison the book makes is between two accuracies, and every accuracy is a mean over
*clusters*: units whose outcomes vary independently of each other, while the outcomes inside
one are tied together.

- Between recipes the cluster is the **seed**. A seed fixes the initial weights, the episodes
  and the distortions, so two seeds of one recipe differ by several points on the same tasks;
  a seed's figure is its mean over all its tasks.
- Within one trained network (the same weights scored on two sets of trials) the cluster is
  the **task**: the 20 trials of a 20-way task share their candidates, so they are not 20
  independent draws.

:func:`difference` takes two :class:`Estimate` objects and returns a :class:`Difference`: its
mean and a 95% interval from Student's t. Estimates that share their clusters (the same seeds,
or the same tasks) are paired cluster by cluster, which removes what the two arms have in
common; others are combined as independent (Welch, with the smaller arm's degrees of freedom,
which errs on the wide side). A difference counts as real only when its interval, as printed
to 0.1 points, leaves out zero.

A single run has no spread of its own. :meth:`Estimate.single_run` gives it the seed-to-seed
standard deviation recorded for its recipe (and that estimate's degrees of freedom), so a
comparison of two one-seed runs carries the spread that another seed would have shown.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping

import numpy as np

# Two-sided 95% quantiles of Student's t distribution by degrees of freedom (statistical
# tables). Between tabulated values the next smaller one is used, which is the larger
# quantile: an interval never narrower than the exact one.
T_QUANTILES_95 = {
    1: 12.706,
    2: 4.303,
    3: 3.182,
    4: 2.776,
    5: 2.571,
    6: 2.447,
    7: 2.365,
    8: 2.306,
    9: 2.262,
    10: 2.228,
    15: 2.131,
    20: 2.086,
    30: 2.042,
    60: 2.000,
    120: 1.980,
}
NORMAL_QUANTILE_95 = 1.96


def t_quantile(degrees_of_freedom: int) -> float:
    """The two-sided 95% Student t quantile for ``degrees_of_freedom`` (>= 1)."""
    if degrees_of_freedom < 1:
        raise ValueError(
            "A 95% interval needs at least one degree of freedom (two clusters, "
            f"e.g. two seeds); got {degrees_of_freedom}."
        )
    if degrees_of_freedom > max(T_QUANTILES_95):
        return NORMAL_QUANTILE_95
    return T_QUANTILES_95[
        max(d for d in T_QUANTILES_95 if d <= degrees_of_freedom)
    ]


@dataclasses.dataclass(frozen=True)
class Estimate:
    """An accuracy as a mean over clusters, with what its uncertainty needs.

    Attributes:
        mean: the accuracy (a fraction).
        standard_error: the standard error of ``mean``; ``None`` when it is unknown (one
            cluster and no recorded spread).
        degrees_of_freedom: of ``standard_error``'s estimate.
        unit: ``"seed"`` or ``"task"``.
        clusters: cluster label -> that cluster's mean (seeds or task indices); it lets two
            estimates on the same clusters be paired. Empty for an estimate known only in
            summary (a recorded mean and interval).
    """

    mean: float
    standard_error: float | None
    degrees_of_freedom: int
    unit: str
    clusters: Mapping = dataclasses.field(default_factory=dict)

    @property
    def half_width(self) -> float | None:
        """Half the 95% interval of ``mean`` (Student's t); ``None`` without a standard
        error."""
        if self.standard_error is None:
            return None
        return t_quantile(self.degrees_of_freedom) * self.standard_error

    @property
    def interval(self) -> tuple[float, float] | None:
        """The 95% interval of ``mean``, ``(low, high)``; ``None`` without a standard
        error."""
        half = self.half_width
        return None if half is None else (self.mean - half, self.mean + half)

    @classmethod
    def over(cls, clusters: Mapping, unit: str) -> Estimate:
        """The mean of ``clusters`` (label -> figure), e.g. seed -> validation accuracy."""
        if not clusters:
            raise ValueError(f"An estimate needs at least one {unit}.")
        values = np.array(list(clusters.values()), float)
        n = len(values)
        error = float(values.std(ddof=1) / math.sqrt(n)) if n > 1 else None
        return cls(float(values.mean()), error, n - 1, unit, dict(clusters))

    @classmethod
    def over_seeds(cls, by_seed: Mapping, spread=None) -> Estimate:
        """A recipe's figure over its seeds (seed -> figure). With one seed and ``spread``,
        the recipe's seed-to-seed ``(sd, degrees of freedom)`` measured elsewhere, it is
        one run carrying that spread (:meth:`single_run`), which still has an interval."""
        if len(by_seed) > 1 or spread is None:
            return cls.over(by_seed, "seed")
        (value,) = by_seed.values()
        return cls.single_run(value, *spread)

    @classmethod
    def over_tasks(cls, correct, trials_per_task: int = 20) -> Estimate:
        """One network's accuracy over tasks, from its trials' outcomes in task order."""
        correct = np.asarray(correct, float)
        if correct.size % trials_per_task:
            raise ValueError(
                f"{correct.size} trials do not make whole tasks of {trials_per_task}."
            )
        tasks = correct.reshape(-1, trials_per_task).mean(axis=1)
        return cls.over(dict(enumerate(tasks)), "task")

    @classmethod
    def single_run(
        cls, value: float, seed_sd: float, seed_degrees_of_freedom: int
    ) -> Estimate:
        """One seed's figure, given the seed-to-seed standard deviation of its recipe."""
        return cls(
            float(value), float(seed_sd), seed_degrees_of_freedom, "seed"
        )

    @classmethod
    def from_interval(
        cls, accuracy: float, low: float, high: float, tasks: int
    ) -> Estimate:
        """A recorded accuracy over tasks with its 95% normal interval (``bench.gap``)."""
        error = (high - low) / (2 * NORMAL_QUANTILE_95)
        return cls(float(accuracy), float(error), int(tasks) - 1, "task")


@dataclasses.dataclass(frozen=True)
class Difference:
    """``after - before`` with its 95% interval (``None`` when it cannot be had)."""

    mean: float
    interval: tuple[float, float] | None
    unit: str
    paired: bool
    clusters: int

    @property
    def beyond_uncertainty(self) -> bool:
        """Whether the interval, printed to 0.1 points, leaves out zero."""
        if self.interval is None:
            return False
        low, high = (round(100 * v, 1) for v in self.interval)
        return low > 0 or high < 0

    def describe(self) -> str:
        """``+2.3 points (95% interval -1.0 to +5.6, within its uncertainty)``."""
        if self.interval is None:
            return (
                f"{100 * self.mean:+.1f} points (one {self.unit} and no recorded "
                "spread: no interval, so no verdict)"
            )
        low, high = (100 * v for v in self.interval)
        verdict = "beyond" if self.beyond_uncertainty else "within"
        return (
            f"{100 * self.mean:+.1f} points (95% interval {low:+.1f} to {high:+.1f}, "
            f"{verdict} its uncertainty)"
        )


def difference(after: Estimate, before: Estimate) -> Difference:
    """``after - before`` and its 95% interval, by the book's one rule (module docstring).

    Raises:
        ValueError: when the two estimates count different units (seeds against tasks).
    """
    if after.unit != before.unit:
        raise ValueError(
            f"Cannot compare an estimate over {after.unit}s with one over "
            f"{before.unit}s: compare seeds with seeds, tasks with tasks."
        )
    shared = sorted(after.clusters.keys() & before.clusters.keys())
    if len(shared) >= 2:
        paired = Estimate.over(
            {c: after.clusters[c] - before.clusters[c] for c in shared},
            after.unit,
        )
        half = t_quantile(paired.degrees_of_freedom) * paired.standard_error
        return Difference(
            paired.mean,
            (paired.mean - half, paired.mean + half),
            after.unit,
            True,
            len(shared),
        )
    mean = after.mean - before.mean
    clusters = min(len(after.clusters), len(before.clusters)) or None
    if after.standard_error is None or before.standard_error is None:
        return Difference(mean, None, after.unit, False, clusters or 1)
    error = math.hypot(after.standard_error, before.standard_error)
    degrees = min(after.degrees_of_freedom, before.degrees_of_freedom)
    half = t_quantile(degrees) * error
    return Difference(
        mean,
        (mean - half, mean + half),
        after.unit,
        False,
        clusters or degrees + 1,
    )
