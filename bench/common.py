"""Shared pieces of the benchmarks: timing, and the data and network they measure."""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import time

import numpy as np

from siamese_utils import data, model
from siamese_utils.display import markdown_table
from siamese_utils.paths import ROOT
from siamese_utils.profiles import PROFILES, get_profile
from siamese_utils.records import processor
from siamese_utils.seeding import set_seed

# The seeds of every recorded comparison over seeds; the first is a one-seed run's.
DEFAULT_SEEDS = (2015, 2016, 2017)
DEFAULT_SEED = DEFAULT_SEEDS[0]
# The profile every benchmark measures unless told otherwise (the book's default).
DEFAULT_PROFILE = "fast"


def command_parser(
    module: str, doc: str, *, profile: bool = True, seeds: str | None = None
) -> argparse.ArgumentParser:
    """The parent of every ``python -m bench...`` command line: the same options, spelled
    and defaulted the same way.

    Args:
        module: the module run, ``"bench.seeds"``: the usage line names it.
        doc: the module's docstring; its first line describes the command.
        profile: offer ``--profile`` (default :data:`DEFAULT_PROFILE`).
        seeds: ``"one"`` offers ``--seed`` (default :data:`DEFAULT_SEED`), ``"several"``
            ``--seeds`` (default :data:`DEFAULT_SEEDS`), ``None`` neither.
    """
    parser = argparse.ArgumentParser(
        prog=f"python -m {module}", description=doc.strip().splitlines()[0]
    )
    if profile:
        parser.add_argument(
            "--profile",
            choices=sorted(PROFILES),
            default=DEFAULT_PROFILE,
            help=f"the profile to measure (default {DEFAULT_PROFILE})",
        )
    if seeds == "one":
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    elif seeds == "several":
        parser.add_argument(
            "--seeds", type=int, nargs="+", default=list(DEFAULT_SEEDS)
        )
    return parser


def at_least(option: str, least: int, why: str):
    """An argparse ``type`` that reads an integer and refuses one below ``least``, saying
    ``why`` and what to give ``option`` instead (argparse names the option in the error)."""

    def count(text: str) -> int:
        value = int(text)
        if value < least:
            raise argparse.ArgumentTypeError(
                f"{why}: give {option} {least} or more, not {value}"
            )
        return value

    return count


def ensemble_options(
    parser: argparse.ArgumentParser, *, members: int, views: int
) -> None:
    """Add ``--members`` and ``--views``, the size of a scoring lever's ensemble and the
    distortions each image is scored under, with their defaults. Fewer than two networks,
    or no view, is refused: there would be nothing to average."""
    for option, default, least, why, meaning in (
        (
            "--members",
            members,
            2,
            "an ensemble averages two networks or more",
            "networks per ensemble",
        ),
        (
            "--views",
            views,
            1,
            "each image is scored under one view or more",
            "distortions per image",
        ),
    ):
        parser.add_argument(
            option,
            type=at_least(option, least, why),
            default=default,
            help=f"{meaning} (default {default})",
        )


def recorded_run(
    path, folder, command: str, figures, fields=None, **settings
) -> dict:
    """Run a reproduction into ``folder`` and append its row to the JSONL file ``path``.

    An earlier run in ``folder`` is replaced, and the replacement is said. The row holds
    ``fields``, the ``figures`` of the run's results (as ``results.json`` names them), the
    run folder, the machine, the date and ``command``, the line that repeats the run.
    ``settings`` are :func:`siamese_utils.reproduce.reproduce`'s (``profile``, ``seed``,
    ``recipe``, ...).
    """
    # Imported here: the reproduction pulls in the whole training stack, which the
    # timing benchmarks that import this module do not need.
    from siamese_utils import reproduce

    if folder.exists():
        print(f"replacing the earlier run in {folder}", flush=True)
    results = reproduce.reproduce(
        output=folder, overwrite=True, command=command, **settings
    ).results.as_dict()
    row = {
        **(fields or {}),
        **{key: results[key] for key in figures},
        "run_folder": str(
            folder.relative_to(ROOT) if folder.is_relative_to(ROOT) else folder
        ),
        "machine": machine(),
        "date": now(),
        "command": command,
    }
    append_row(path, row)
    return row


def append_row(path, row: dict) -> None:
    """Append ``row`` to the JSON-lines file ``path``: earlier rows are never rewritten."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        handle.write(json.dumps(row) + "\n")


def append_lever_row(path, row: dict, command: str) -> None:
    """Stamp a protocol lever's row (``bench.test_time``'s form) with ``command``, the
    machine and the date, append it to ``path``, and print it beside its network alone."""
    row.update(command=command, machine=machine(), date=now())
    append_row(path, row)
    print(
        f"seed {row['seed']} {row['lever']}: validation "
        f"{100 * row['validation_one_shot_alone']:.1f} -> "
        f"{100 * row['validation_one_shot']:.1f}%, protocol "
        f"{100 * row['one_shot_paper_protocol_alone']:.1f} -> "
        f"{100 * row['one_shot_paper_protocol']:.1f}%",
        flush=True,
    )


def table_text(headers, rows, caption: str | None = None) -> str:
    """A Markdown table as text, by the book's one table writer
    (:func:`siamese_utils.display.markdown_table`)."""
    return markdown_table(headers, rows, caption).data


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
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


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


def timed_in_turns(
    first, second, repeats: int
) -> tuple[list[float], list[float]]:
    """Seconds of ``first()`` and of ``second()``, timed in ``repeats`` adjacent pairs.

    The machine's speed drifts by several percent within minutes (other tenants, clock
    changes), more than the differences the benchmarks measure. So the two are timed one
    right after the other, the order alternating from pair to pair: a slow moment costs
    both sides alike. One untimed pair comes first (Keras prepares a step for each new
    model and dataset). :func:`paired_ratio_interval` turns the pairs into an interval.
    """
    seconds = ([], [])
    for repeat in range(repeats + 1):
        order = ((0, first), (1, second))
        for side, function in order if repeat % 2 else order[::-1]:
            elapsed = best_of(1, function)
            if repeat:
                seconds[side].append(elapsed)
    return seconds


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
