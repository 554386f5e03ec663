"""A profile's reproduction over several seeds: the book's headline figures with their spread.

``python -m bench.seeds [--profile fast] [--seeds 2015 2016 2017]`` runs the whole
reproduction (``python -m siamese_utils train``: drawer split, early stopping on validation
tasks, then the test figures) once per seed, appends one row per run to
``bench/results/seeds.jsonl`` (earlier rows are kept) and prints the mean and standard
deviation of every figure over the rows of the profile's current recipe (also written to
``bench/results/seeds.json``, which the book and the README quote). The runs' folders
(``results/seeds-PROFILE-seedSEED``) are kept, each with its ``best.keras`` and
``results.json``. ``python -m bench.seeds --table`` prints the summary of the recorded rows.

The recipe is chosen on validation tasks (the ablation rows); these rows report its test
figures once, as a mean over seeds.
"""

from __future__ import annotations

import json
import sys

import numpy as np

from bench import common
from siamese_utils import records
from siamese_utils.paths import RECORDS, RUNS
from siamese_utils.profiles import get_profile

RESULTS = RECORDS / "seeds.jsonl"
# Profile -> summary(), what the book and README quote.
SUMMARY = RESULTS.with_name("seeds.json")
# The figures of a row, as results.json names them.
FIGURES = (
    "validation_one_shot",
    "one_shot_official_runs",
    "one_shot_paper_protocol",
    "verification_accuracy",
    "train_seconds",
    "evaluation_seconds",
    "epochs_trained",
    "best_epoch",
)
# Figures that are counts or seconds, shown as they are rather than as percentages.
PLAIN_FIGURES = (
    "train_seconds",
    "evaluation_seconds",
    "epochs_trained",
    "best_epoch",
)


def run(profile_name: str, seed: int) -> dict:
    """Run the reproduction of ``profile_name`` with ``seed``; returns its row (also appended)."""
    profile = get_profile(profile_name)
    return common.recorded_run(
        RESULTS,
        RUNS / f"seeds-{profile.name}-seed{seed}",
        f"python -m bench.seeds --profile {profile.name} --seeds {seed}",
        ("recipe", "network", *FIGURES),
        {"profile": profile.name, "seed": seed},
        profile=profile,
        seed=seed,
    )


def rows(profile_name: str) -> list[dict]:
    """The recorded rows of the profile's current recipe and network, the latest of each seed."""
    return records.seed_rows(get_profile(profile_name), RESULTS)


def summary(profile_name: str) -> dict:
    """Mean, standard deviation (ddof 1), minimum and maximum of every figure over the seeds."""
    recorded = rows(profile_name)
    figures = {}
    for key in FIGURES:
        values = np.array([row[key] for row in recorded], float)
        figures[key] = {
            "mean": float(values.mean()) if len(values) else float("nan"),
            "std": float(values.std(ddof=1))
            if len(values) > 1
            else float("nan"),
            "min": float(values.min()) if len(values) else float("nan"),
            "max": float(values.max()) if len(values) else float("nan"),
        }
    return {
        "profile": profile_name,
        "seeds": [row["seed"] for row in recorded],
        "figures": figures,
        "commands": [row["command"] for row in recorded],
    }


def table(profile_name: str) -> str:
    """The summary as a Markdown table (percentages for accuracies, seconds for times)."""
    result = summary(profile_name)
    rows = []
    for key, f in result["figures"].items():
        scale, unit = (1.0, "") if key in PLAIN_FIGURES else (100.0, "%")
        rows.append(
            [
                key,
                f"{scale * f['mean']:.1f}{unit}",
                f"{scale * f['std']:.1f}",
                f"{scale * f['min']:.1f}{unit}",
                f"{scale * f['max']:.1f}{unit}",
            ]
        )
    seeds = ", ".join(map(str, result["seeds"])) or "none recorded"
    return common.table_text(
        ["figure", "mean", "standard deviation", "min", "max"],
        rows,
        f"{profile_name} recipe, seeds {seeds}",
    )


def main(argv: list[str] | None = None) -> int:
    parser = common.command_parser("bench.seeds", __doc__, seeds="several")
    parser.add_argument(
        "--table",
        action="store_true",
        help="print the recorded summary and stop",
    )
    args = parser.parse_args(argv)
    if not args.table:
        for seed in args.seeds:
            row = run(args.profile, seed)
            print(
                f"seed {seed}: {100 * row['one_shot_official_runs']:.1f}% official, "
                f"{100 * row['validation_one_shot']:.1f}% validation, {row['train_seconds']:.0f} s",
                flush=True,
            )
    write_summary(args.profile)
    print(table(args.profile))
    return 0


def write_summary(profile_name: str) -> None:
    """Record :func:`summary` of ``profile_name`` in :data:`SUMMARY`, beside the other profiles'."""
    recorded = json.loads(SUMMARY.read_text()) if SUMMARY.exists() else {}
    recorded[profile_name] = summary(profile_name)
    SUMMARY.write_text(json.dumps(recorded, indent=1) + "\n")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
