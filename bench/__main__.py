"""``python -m bench``: run the benchmarks, print a table, write ``bench/results/latest.*``.

Options: ``--only pipeline,evaluation,compute,book`` (default: all), ``--profile NAME``
(default: ``SIAMESE_PROFILE`` or fast). The whole-book benchmark executes every chapter and
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
    lines = [
        "| benchmark | measured | baseline (same run) | value | baseline value | ratio [95% interval] | target |",
        "| --- | --- | --- | ---: | ---: | ---: | --- |",
    ]
    for f in figures:
        scale = 1e9 if f.unit == "GFLOP/s" else 1.0
        lines.append(
            f"| {f.benchmark} | {f.measured} | {f.baseline} | {f.value / scale:,.2f} {f.unit} | "
            f"{f.baseline_value / scale:,.2f} {f.unit} | {f.ratio_text} | {f.target} |"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--only",
        default=",".join(BENCHMARKS),
        help="comma-separated benchmarks",
    )
    parser.add_argument(
        "--profile", default=None, help="fast (default), paper or smoke"
    )
    parser.add_argument(
        "--chapters",
        default=None,
        help="with book: comma-separated chapters to measure again (default: all)",
    )
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(BENCHMARKS))
    if unknown:
        parser.error(
            f"unknown benchmarks {unknown}; choose from {', '.join(BENCHMARKS)}"
        )
    if args.profile:
        # Also read by the book's kernels.
        os.environ["SIAMESE_PROFILE"] = args.profile

    profile = get_profile()
    figures = []
    for name in chosen:
        print(f"running {name} ...", flush=True)
        module = __import__(f"bench.{name}", fromlist=["run"])
        figures += (
            module.run(args.chapters.split(",") if args.chapters else None)
            if name == "book"
            else module.run(profile_name=profile.name)
        )
    print(table(figures))
    RESULTS.mkdir(exist_ok=True)
    # Each benchmark keeps its latest run: running a subset replaces only those benchmarks'
    # figures, and every figure keeps the date and command that measured it.
    previous = (
        json.loads((RESULTS / "latest.json").read_text())
        if (RESULTS / "latest.json").exists()
        else {}
    )
    runs = previous.get("runs", {})
    measured = {
        "date": common.now(),
        "profile": profile.name,
        "machine": common.machine(system=True),
        "command": "python -m bench --only "
        + ",".join(chosen)
        + (f" --chapters {args.chapters}" if args.chapters else ""),
    }
    for name in chosen:
        module_figures = [
            f for f in figures if f.benchmark == BENCHMARK_TITLES[name]
        ]
        runs[name] = {
            **measured,
            "figures": [
                dataclasses.asdict(f) | {"ratio": f.ratio}
                for f in module_figures
            ],
        }
    (RESULTS / "latest.json").write_text(
        json.dumps({"runs": runs}, indent=2) + "\n"
    )
    lines = []
    for name in BENCHMARKS:
        if name in runs:
            run = runs[name]
            lines.append(
                f"* {BENCHMARK_TITLES[name]}: measured {run['date']} on {run['machine']}, "
                f"profile {run['profile']!r}, with `{run['command']}`"
            )
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
    print(f"written {RESULTS / 'latest.md'} and latest.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
