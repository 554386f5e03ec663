"""The chapters' experiments over several seeds, recorded for the book to read.

``python -m bench.experiments NAME [NAME ...] [--seeds 2015 2016 2017] [--profile fast]``
trains every arm of each named experiment (:func:`siamese_utils.experiments.chapter_arms`:
twin, stem, block, encoder, classifier) once per seed by the profile's ``"experiment"``
recipe, scores it on the validation one-shot tasks, and appends one row per arm and seed
to ``bench/results/experiments.jsonl`` (earlier rows are kept; the latest row of an arm and
seed counts). ``--table NAME`` prints the recorded table and its verdict. In the fast
profile an arm takes about two minutes a seed on a 2-core CPU.
"""

from __future__ import annotations

import pathlib

from bench import common
from bench.common import choose
from siamese_utils import experiments, records
from siamese_utils.profiles import get_profile
from siamese_utils.recipe import recipe_for

RESULTS = experiments.RECORDED_ROWS  # bench/results/experiments.jsonl


def recorded(path: pathlib.Path = RESULTS) -> list[dict]:
    """Every recorded row, oldest first."""
    return records.read_rows(path)


def run(
    name: str,
    profile_name: str,
    seeds,
    path: pathlib.Path = RESULTS,
    labels=None,
):
    """Run experiment ``name`` for ``seeds``; append its rows and return the experiment.

    ``labels``: train only these of its arms (an arm added to an experiment already
    recorded); all of them when omitted.
    """
    profile = get_profile(profile_name)
    recipe = recipe_for(profile, "experiment")
    arms = experiments.chapter_arms(name, profile)
    if labels:
        arms = choose(
            arms,
            labels,
            lambda arm: arm.label,
            lambda unknown, names: (
                f"Experiment {name!r} has no arm "
                f"{', '.join(map(repr, unknown))}; its arms: "
                f"{', '.join(map(repr, names))}."
            ),
        )
    result = experiments.run_experiment(
        name, arms, profile, seeds, recipe=recipe, verbose=True
    )
    command = (
        f"python -m bench.experiments {name} --profile {profile.name} "
        f"--seeds {' '.join(str(s) for s in seeds)}"
        + "".join(f' --arm "{label}"' for label in labels or ())
    )
    stamp = {"machine": common.machine(), "date": common.now()}
    for row in result.rows(command, recipe):
        common.append_row(path, {**row, **stamp})
    return result


def main(argv=None) -> int:
    parser = common.command_parser(
        "bench.experiments", __doc__, seeds="several"
    )
    parser.add_argument(
        "names",
        nargs="*",
        help=f"experiments: {', '.join(experiments.CHAPTER_EXPERIMENTS)}",
    )
    parser.add_argument(
        "--table", action="store_true", help="print the recorded tables"
    )
    parser.add_argument(
        "--arm",
        action="append",
        default=None,
        dest="labels",
        help="train only this arm (repeatable); its rows join the recorded ones",
    )
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(experiments.CHAPTER_EXPERIMENTS))
    if unknown or not args.names:
        parser.error(
            f"name one or more experiments of "
            f"{', '.join(experiments.CHAPTER_EXPERIMENTS)}"
            + (f" (unknown: {', '.join(unknown)})" if unknown else "")
        )
    for name in args.names:
        if args.table:
            result = experiments.from_rows(
                [r for r in recorded() if r["profile"] == args.profile], name
            )
        else:
            try:
                result = run(name, args.profile, args.seeds, labels=args.labels)
            except ValueError as error:
                parser.error(str(error))
            if args.labels:  # show the added arms beside the recorded ones
                result = experiments.from_rows(
                    [r for r in recorded() if r["profile"] == args.profile],
                    name,
                )
        print(result.table().data)
        print(result.verdict(result.arms[0].label))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
