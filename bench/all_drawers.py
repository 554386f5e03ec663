"""Issue 32's all-drawers lever: turned 35x35 networks trained on all 20 background drawers.

The paper trains on 12 of the 20 drawers of the 30 training alphabets (Koch et al., 2015,
Section 4) and keeps drawers 13-16 for validation and 17-20 for the test, each of other
alphabets. Drawers 13-20 of the training alphabets are no image of either: a drawer's
number names one person within an alphabet but not across alphabets (``python -m
bench.drawers``, chapter 6), so training on them shows no validation or test handwriting.
It gives every training character 20 drawings instead of 12. Not in the paper.

``python -m bench.all_drawers [--seeds 2015 2016 2017] [--members 5] [--views 8]`` trains
the network of ``python -m bench.test_time --reduced --turns 3`` on all 20 drawers, for
each seed and ``--members - 1`` more seeds (seed + 100, + 200, ...), into
``results/all-drawers-fast-35px-turns3-seedSEED``, and scores the seed's trials with
``bench.test_time``'s levers on them, named with an ``-all-drawers`` suffix and started from
one such network alone. One more row per seed, ``all-drawers-35px-turns3``, is the training
lever itself: the network trained on all 20 drawers alone, beside the one trained on the
paper's 12 (``bench.test_time``'s, trained when missing) alone on the same trials. Rows go
to ``bench/results/test-time.jsonl``; a lever is kept only if it wins on validation.
"""

from __future__ import annotations

import functools

from bench import common
from bench import test_time as levers
from bench.mnist import size_tag, trained_network
from siamese_utils import data, evaluate, mnist, test_time
from siamese_utils.paths import RUNS
from siamese_utils.profiles import get_profile
from siamese_utils.run_data import scoring_trials

TURNS = 3
ALL_DRAWERS = tuple(range(data.DRAWERS_PER_CHARACTER))
SUFFIX = "-all-drawers"
DEFAULT_MEMBERS = 5
ON_ALL_DRAWERS = (
    f", every network trained on all {len(ALL_DRAWERS)} drawers of the training "
    f"alphabets instead of the paper's {len(data.TRAINING_DRAWERS)} (not in the paper)"
)


def member_folder(profile, seed: int):
    """Where the network of ``seed`` trained on all the drawers is kept."""
    tag = f"{size_tag(profile)}{levers.turns_tag(TURNS)}"
    return RUNS / f"all-drawers-{profile.name}{tag}-seed{seed}"


def on_all_drawers(row: dict, profile) -> dict:
    """A ``bench.test_time`` row made for networks trained on all the drawers: its name,
    description and run folders say so."""
    return {
        **row,
        "lever": row["lever"] + SUFFIX,
        "description": row["description"] + ON_ALL_DRAWERS,
        "run_folders": [
            str(member_folder(profile, seed).relative_to(RUNS.parent))
            for seed in row["members"]
        ],
        "training_drawers": len(ALL_DRAWERS),
        "alone_training_drawers": len(ALL_DRAWERS),
    }


def training_row(profile, seed: int, own: tuple, paper: tuple) -> dict:
    """The lever itself: ``own``, the seed's network trained on all the drawers, alone,
    beside ``paper``, the one trained on the paper's 12, alone on the same trials (each a
    ``(network, results.json)``)."""
    trial_sets = scoring_trials(profile, seed)

    def scored(network) -> dict:
        return {
            figure: test_time.accuracy(
                evaluate.siamese_scores(network, getattr(trial_sets, name)),
                getattr(trial_sets, name),
            )
            for figure, name in levers.TRIAL_SETS.items()
        }

    return {
        "lever": f"all-drawers{size_tag(profile)}{levers.turns_tag(TURNS)}",
        "description": f"the fast recipe's {profile.image_size}x{profile.image_size} "
        "network with turned characters"
        + ON_ALL_DRAWERS.replace(", every network", ","),
        "profile": profile.name,
        "image_size": profile.image_size,
        "seed": seed,
        "members": [seed],
        "run_folders": [
            str(member_folder(profile, seed).relative_to(RUNS.parent))
        ],
        "views": 0,
        "quarter_turns": TURNS,
        "training_drawers": len(ALL_DRAWERS),
        "alone_training_drawers": len(data.TRAINING_DRAWERS),
        **scored(own[0]),
        **{f"{key}_alone": value for key, value in scored(paper[0]).items()},
        "train_seconds": own[1]["train_seconds"],
    }


def parse_arguments(argv=None):
    """The command line's settings, refused with a way out where impossible."""
    parser = common.command_parser(
        "bench.all_drawers", __doc__, profile=False, seeds="several"
    )
    parser.add_argument(
        "--members",
        type=int,
        default=DEFAULT_MEMBERS,
        help=f"networks per ensemble (default {DEFAULT_MEMBERS})",
    )
    parser.add_argument(
        "--views",
        type=int,
        default=levers.DEFAULT_VIEWS,
        help=f"distortions per image (default {levers.DEFAULT_VIEWS})",
    )
    args = parser.parse_args(argv)
    if args.members < 2 or args.views < 1:
        parser.error(
            "an ensemble needs --members 2 or more, and --views 1 or more"
        )
    return args


def command_line(args) -> str:
    """The command that repeats this run, naming only the settings not at their default."""
    command = "python -m bench.all_drawers --seeds " + " ".join(
        map(str, args.seeds)
    )
    for option, value, default in (
        ("--members", args.members, DEFAULT_MEMBERS),
        ("--views", args.views, levers.DEFAULT_VIEWS),
    ):
        command += f" {option} {value}" if value != default else ""
    return command


def main(argv=None) -> int:
    args = parse_arguments(argv)
    command = command_line(args)
    profile = mnist.reduced_profile(get_profile("fast"))
    recipe = levers.member_recipe(profile, TURNS)

    @functools.cache  # each network is read once, however many levers use it
    def network_of(member):
        return trained_network(
            profile,
            member.seed,
            command,
            recipe,
            member_folder(profile, member.seed),
            training_drawers=ALL_DRAWERS,
        )

    for seed in args.seeds:
        for each in levers.member_seeds(seed, args.members):
            network_of(levers.Member(TURNS, each))
    for seed in args.seeds:
        paper = levers.trained_member(
            profile, levers.Member(TURNS, seed), command
        )
        rows = [
            training_row(
                profile, seed, network_of(levers.Member(TURNS, seed)), paper
            )
        ]
        rows += [
            on_all_drawers(row, profile)
            for row in levers.seed_rows(
                profile, seed, network_of, args.views, args.members, TURNS
            )
        ]
        for row in rows:
            common.append_lever_row(levers.ROWS, row, command)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
