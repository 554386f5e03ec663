"""``python -m bench``: run the benchmarks, print a table, write ``bench/results/latest.*``.

Options: ``--only pipeline,evaluation,compute,book`` (default: all), ``--profile NAME``
(default: fast, as for every ``bench`` command). The whole-book benchmark executes every chapter and
takes as long as the book build; leave it out with ``--only pipeline,evaluation,compute``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os

from bench import common
from bench.common import Figure
from siamese_utils.paths import RECORDS
from siamese_utils.profiles import get_profile

BENCHMARKS = ("pipeline", "evaluation", "compute", "book")
# The benchmark column of each module's figures.
BENCHMARK_TITLES = {
    "pipeline": "input pipeline",
    "evaluation": "one-shot evaluation",
    "compute": "compute efficiency",
    "book": "whole book",
}
RESULTS = RECORDS


def table(figures) -> str:
    """The figures as a Markdown table."""

    def scaled(value, unit):
        return f"{value / (1e9 if unit == 'GFLOP/s' else 1.0):,.2f} {unit}"

    return common.table_text(
        [
            "benchmark",
            "measured",
            "baseline (same run)",
            "value",
            "baseline value",
            "ratio [95% interval]",
            "target",
        ],
        [
            [
                f.benchmark,
                f.measured,
                f.baseline,
                scaled(f.value, f.unit),
                scaled(f.baseline_value, f.unit),
                f.ratio_text,
                f.target,
            ]
            for f in figures
        ],
    )


def parse(argv) -> argparse.Namespace:
    """The command line: which benchmarks, which profile, which chapters of the book."""
    parser = common.command_parser("bench", __doc__)
    parser.add_argument(
        "--only",
        default=",".join(BENCHMARKS),
        help="comma-separated benchmarks",
    )
    parser.add_argument(
        "--chapters",
        default=None,
        help="with book: comma-separated chapters to measure again (default: all)",
    )
    args = parser.parse_args(argv)
    args.chosen = [
        name.strip() for name in args.only.split(",") if name.strip()
    ]
    unknown = sorted(set(args.chosen) - set(BENCHMARKS))
    if unknown:
        parser.error(
            f"unknown benchmarks {unknown}; choose from {', '.join(BENCHMARKS)}"
        )
    return args


def record(figures, args, profile) -> dict:
    """Write the figures into ``latest.json``, keeping other benchmarks' latest runs.

    Each benchmark keeps its latest run: running a subset replaces only those benchmarks'
    figures, and every figure keeps the date and command that measured it.
    """
    latest = RESULTS / "latest.json"
    runs = (
        json.loads(latest.read_text()).get("runs", {})
        if latest.exists()
        else {}
    )
    measured = {
        "date": common.now(),
        "profile": profile.name,
        "machine": common.machine(system=True),
        "command": "python -m bench --only "
        + ",".join(args.chosen)
        + (f" --chapters {args.chapters}" if args.chapters else ""),
    }
    for name in args.chosen:
        runs[name] = {
            **measured,
            "figures": [
                dataclasses.asdict(f) | {"ratio": f.ratio}
                for f in figures
                if f.benchmark == BENCHMARK_TITLES[name]
            ],
        }
    RESULTS.mkdir(exist_ok=True)
    latest.write_text(json.dumps({"runs": runs}, indent=2) + "\n")
    return runs


def write_summary(runs: dict) -> None:
    """``latest.md``: when and how each benchmark was measured, and all their figures."""
    lines = [
        f"* {BENCHMARK_TITLES[name]}: measured {run['date']} on {run['machine']}, "
        f"profile {run['profile']!r}, with `{run['command']}`"
        for name, run in ((n, runs[n]) for n in BENCHMARKS if n in runs)
    ]
    every = [
        Figure(
            **{k: v for k, v in f.items() if k != "ratio"}
            | {"interval": tuple(f["interval"]) if f.get("interval") else None}
        )
        for name in BENCHMARKS
        if name in runs
        for f in runs[name]["figures"]
    ]
    (RESULTS / "latest.md").write_text(
        "\n".join(lines) + "\n\n" + table(every) + "\n"
    )


def main(argv=None) -> int:
    args = parse(argv)
    # Also read by the book's kernels.
    os.environ["SIAMESE_PROFILE"] = args.profile
    profile = get_profile()
    figures = []
    for name in args.chosen:
        print(f"running {name} ...", flush=True)
        module = __import__(f"bench.{name}", fromlist=["run"])
        figures += (
            module.run(args.chapters.split(",") if args.chapters else None)
            if name == "book"
            else module.run(profile_name=profile.name)
        )
    print(table(figures))
    write_summary(record(figures, args, profile))
    print(f"written {RESULTS / 'latest.md'} and latest.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
