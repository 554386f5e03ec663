"""Issue 32's candidate-centring lever on the turned 35x35 network (not in the paper).

``python -m bench.centring [--seeds 2015 2016 2017] [--weights 0.25 0.5 1]`` takes each
seed's network on 35x35 images trained with turned characters (the one ``python -m
bench.test_time --reduced --turns 3`` trains into ``results/test-time-fast-35px-turns3-
seedSEED``; trained here when missing) and scores the seed's validation tasks and its trials
of the paper's protocol with centred scores (:func:`siamese_utils.test_time.centred_scores`):
each candidate's score less ``weight`` times its mean score against the trial's other
candidates, so that a candidate resembling its whole alphabet draws fewer answers.

One row per weight and seed goes to ``bench/results/test-time.jsonl`` beside the other
scoring levers, lever ``centred-0.5-35px-turns3`` for a weight of 0.5, with the network
alone on the same trials. A weight is worth keeping only if it wins on the validation
tasks; the protocol columns are the test, read once.
"""

from __future__ import annotations

import time

from bench import common
from bench.mnist import size_tag
from bench.test_time import (
    ROWS,
    TRIAL_SETS,
    Member,
    member_folder,
    trained_member,
    turns_tag,
)
from siamese_utils import evaluate, mnist, test_time
from siamese_utils.paths import RUNS
from siamese_utils.profiles import get_profile
from siamese_utils.run_data import scoring_trials, turns_in_words

TURNS = 3
DEFAULT_WEIGHTS = (0.25, 0.5, 1.0)


def centring_lever(profile, weight: float) -> str:
    """The lever's name: ``centred-0.5-35px-turns3`` for a weight of 0.5."""
    return f"centred-{weight:g}{size_tag(profile)}{turns_tag(TURNS)}"


def describe(profile, weight: float) -> str:
    """What the lever does, in the words of a row's ``description``."""
    return (
        f"each candidate's score less {weight:g} times its mean score against the trial's "
        f"other candidates, on {profile.image_size}x{profile.image_size} images, by a "
        f"network also trained on the training characters turned by "
        f"{turns_in_words(TURNS)}, as new characters (not in the paper)"
    )


def seed_rows(
    profile, seed: int, network, results: dict, weights
) -> list[dict]:
    """The seed's rows, one per weight, each with ``network`` alone on the same trials.

    ``profile`` is the reduced one the network was trained at, and ``results`` its run's
    ``results.json``.
    """
    trial_sets = scoring_trials(profile, seed)
    started = time.perf_counter()
    scored = {}
    for figure, name in TRIAL_SETS.items():
        trials = getattr(trial_sets, name)
        scored[figure] = (
            trials,
            evaluate.siamese_scores(network, trials),
            test_time.candidate_scores(network, trials),
        )
    scoring_seconds = round(time.perf_counter() - started, 1)

    def accuracies(weight: float) -> dict:
        return {
            figure: test_time.accuracy(
                test_time.centred_scores(query, among, weight), trials
            )
            for figure, (trials, query, among) in scored.items()
        }

    alone = accuracies(0.0)
    folder = member_folder(profile, Member(TURNS, seed))
    return [
        {
            "lever": centring_lever(profile, weight),
            "description": describe(profile, weight),
            "profile": profile.name,
            "image_size": profile.image_size,
            "seed": seed,
            "members": [seed],
            "run_folders": [str(folder.relative_to(RUNS.parent))],
            "views": 0,
            "quarter_turns": TURNS,
            "centring_weight": weight,
            **accuracies(weight),
            **{f"{key}_alone": value for key, value in alone.items()},
            "train_seconds": results["train_seconds"],
            "scoring_seconds": scoring_seconds,
        }
        for weight in weights
    ]


def parse_arguments(argv=None):
    """The command line's settings, refused with a way out where impossible."""
    parser = common.command_parser(
        "bench.centring", __doc__, profile=False, seeds="several"
    )
    parser.add_argument(
        "--weights",
        type=float,
        nargs="+",
        default=list(DEFAULT_WEIGHTS),
        help="how much of each candidate's mean score against the others to take off "
        f"(default {' '.join(f'{w:g}' for w in DEFAULT_WEIGHTS)})",
    )
    args = parser.parse_args(argv)
    if min(args.weights) <= 0:
        parser.error(
            "--weights takes positive weights; the network alone (weight 0) is in "
            "every row already"
        )
    return args


def main(argv=None) -> int:
    args = parse_arguments(argv)
    command = "python -m bench.centring --seeds " + " ".join(
        map(str, args.seeds)
    )
    if tuple(args.weights) != DEFAULT_WEIGHTS:
        command += " --weights " + " ".join(f"{w:g}" for w in args.weights)
    fast = get_profile("fast")
    profile = mnist.reduced_profile(fast)
    for seed in args.seeds:
        network, results = trained_member(profile, Member(TURNS, seed), command)
        for row in seed_rows(profile, seed, network, results, args.weights):
            common.append_lever_row(ROWS, row, command)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
