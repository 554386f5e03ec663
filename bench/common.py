"""Shared pieces of the benchmarks: timing, and the data and network they measure."""

from __future__ import annotations

import dataclasses
import datetime
import os
import platform
import time

import numpy as np

from siamese_utils import data, model
from siamese_utils.profiles import get_profile
from siamese_utils.records import processor
from siamese_utils.seeding import set_seed


@dataclasses.dataclass(frozen=True)
class Figure:
    """One benchmark result: what was measured, the two quantities, and their ratio."""

    benchmark: str
    measured: str
    baseline: str
    value: float
    baseline_value: float
    unit: str
    target: str
    # 95% interval of the ratio where the benchmark timed it in repeated pairs
    # (:func:`paired_ratio_interval`); ``None`` where it was measured once.
    interval: tuple[float, float] | None = None

    @property
    def ratio(self) -> float:
        """``value / baseline_value``."""
        return self.value / self.baseline_value

    @property
    def ratio_text(self) -> str:
        """The ratio to two decimals, with its 95% interval when it has one."""
        if self.interval is None:
            return f"{self.ratio:.2f}"
        low, high = self.interval
        return f"{self.ratio:.2f} [{low:.2f}, {high:.2f}]"


def machine(system: bool = False) -> str:
    """The machine a row was measured on: ``"x86_64, 2 CPUs (AMD EPYC)"``, and the system
    (``", Linux"``) with ``system``."""
    described = f"{platform.machine()}, {os.cpu_count()} CPUs"
    name = processor()
    if name:
        described += f" ({name})"
    return f"{described}, {platform.system()}" if system else described


def now() -> str:
    """The current UTC time to the second, as ISO 8601: when a row was measured."""
    return datetime.datetime.now(datetime.timezone.utc).isoformat(
        timespec="seconds"
    )


def choose(items, wanted, name_of, refusal):
    """The items whose ``name_of(item)`` is among ``wanted``, in their own order.

    Raises:
        ValueError: with ``refusal(unknown, names)`` when ``wanted`` names an item that
            is not there, so a typo is reported instead of silently measuring less.
    """
    names = [name_of(item) for item in items]
    unknown = sorted(set(wanted) - set(names))
    if unknown:
        raise ValueError(refusal(unknown, names))
    return [item for item in items if name_of(item) in wanted]


def paired_ratio_interval(
    seconds: list[float], baseline_seconds: list[float], resamples: int = 10_000
) -> tuple[float, float]:
    """95% interval of ``sum(baseline_seconds) / sum(seconds)`` over repeated timed pairs.

    Pair ``i`` timed the same work measured (``seconds[i]``) and as the baseline
    (``baseline_seconds[i]``), one right after the other, so a pair shares the machine's
    mood of the moment. The interval resamples whole pairs with replacement (a percentile
    bootstrap, with a fixed seed so the same times give the same interval): it says how far
    the ratio of rates would move if the benchmark were timed on other pairs like these.
    """
    seconds = np.asarray(seconds, float)
    baseline_seconds = np.asarray(baseline_seconds, float)
    if seconds.shape != baseline_seconds.shape or seconds.size < 2:
        raise ValueError(
            "An interval needs at least two pairs of times, one of each side per pair; "
            f"got {seconds.size} and {baseline_seconds.size}."
        )
    chosen = np.random.default_rng(0).integers(
        0, seconds.size, (resamples, seconds.size)
    )
    ratios = baseline_seconds[chosen].sum(axis=1) / seconds[chosen].sum(axis=1)
    low, high = np.percentile(ratios, [2.5, 97.5])
    return float(low), float(high)


def best_of(repeats: int, function) -> float:
    """The shortest wall time of ``repeats`` calls of ``function`` (least disturbed by noise)."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return min(times)


def setup(profile_name: str | None = None, seed: int = 2015):
    """The profile, the background split and a fresh seeded network of that profile."""
    profile = get_profile(profile_name)
    set_seed(seed)
    background = data.load_split("train", profile.image_size)
    return (
        profile,
        background,
        model.siamese_network(**profile.network_kwargs()),
    )
