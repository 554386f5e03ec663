"""Shared pieces of the benchmarks: timing, and the data and network they measure."""

from __future__ import annotations

import dataclasses
import datetime
import os
import platform
import time

from siamese_utils import data, model
from siamese_utils.profiles import get_profile
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

    @property
    def ratio(self) -> float:
        """``value / baseline_value``."""
        return self.value / self.baseline_value


def machine(system: bool = False) -> str:
    """The machine a row was measured on: ``"x86_64, 2 CPUs"`` (``", Linux"`` with ``system``)."""
    described = f"{platform.machine()}, {os.cpu_count()} CPUs"
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
    return profile, background, model.network_for(profile)
