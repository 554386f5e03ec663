"""Issue 32's all-drawers lever: turned 35x35 networks trained on all 20 background drawers.

The paper trains on 12 of the 20 drawers of the 30 training alphabets (Koch et al., 2015,
Section 4) and keeps drawers 13-16 for validation and 17-20 for the test, each of other
alphabets. Drawers 13-20 of the training alphabets are no image of either: a drawer's
number names one person within an alphabet but not across alphabets (``python -m
bench.drawers``, chapter 6), so training on them shows no validation or test handwriting.
It gives every training character 20 drawings instead of 12. Not in the paper.

``python -m bench.all_drawers [--seeds 2015 2016 2017] [--members 5] [--views 8]
[--paper-members 0] [--epochs 24]`` trains the network of ``python -m bench.test_time
--reduced --turns 3`` on all 20 drawers, for each seed and ``--members - 1`` more seeds
(seed + 100, + 200, ...), into ``results/all-drawers-fast-35px-turns3-seedSEED``, and scores the seed's trials
with ``bench.test_time``'s levers on them, named with an ``-all-drawers`` suffix and started
from one such network alone. One more row per seed, ``all-drawers-35px-turns3``, is the
training lever itself: the network trained on all 20 drawers alone, beside the one trained
on the paper's 12 (``bench.test_time``'s, trained when missing) alone on the same trials.
With ``--paper-members K``, each seed's ensemble is also scored together with the seed's
first K of those networks on the paper's drawers (:func:`mixed_row`), without views.
``--epochs N`` trains the networks on all the drawers for N epochs instead of the fast
recipe's 24 (its cosine schedule stretched over them; folders and levers tagged ``-Nep``),
and the training lever ``all-drawers-35px-turns3-Nep`` sets the seed's network beside its
24-epoch one: the schedule's length is the lever. Rows go to
``bench/results/test-time.jsonl``; a lever is kept only if it wins on validation.
"""

from __future__ import annotations

import dataclasses
import functools
import time

from bench import common
from bench import test_time as levers
from bench.mnist import size_tag, trained_network
from siamese_utils import data, mnist, test_time
from siamese_utils.paths import RUNS
from siamese_utils.profiles import get_profile
from siamese_utils.recipe import recipe_for
from siamese_utils.run_data import scoring_trials

TURNS = 3
ALL_DRAWERS = tuple(range(data.DRAWERS_PER_CHARACTER))
SUFFIX = "-all-drawers"
DEFAULT_MEMBERS = 5
# The fast recipe's schedule; --epochs trains the same networks longer.
DEFAULT_EPOCHS = recipe_for(get_profile("fast")).max_epochs
ON_ALL_DRAWERS = (
    f", every network trained on all {len(ALL_DRAWERS)} drawers of the training "
    f"alphabets instead of the paper's {len(data.TRAINING_DRAWERS)} (not in the paper)"
)


def member_recipe(profile, epochs: int | None = None):
    """The recipe of every network trained on all the drawers: ``bench.test_time``'s turned
    network's, trained (its cosine schedule stretched) over ``epochs`` epochs when given."""
    recipe = levers.member_recipe(profile, TURNS)
    if epochs is None:
        return recipe
    return dataclasses.replace(recipe, max_epochs=epochs, patience=epochs)


def epochs_tag(epochs: int) -> str:
    """``"-48ep"`` for networks trained 48 epochs, ``""`` for the fast recipe's own."""
    return "" if epochs == DEFAULT_EPOCHS else f"-{epochs}ep"


def member_folder(profile, seed: int, epochs: int = DEFAULT_EPOCHS):
    """Where the network of ``seed`` trained on all the drawers for ``epochs`` is kept."""
    tag = f"{size_tag(profile)}{levers.turns_tag(TURNS)}{epochs_tag(epochs)}"
    return RUNS / f"all-drawers-{profile.name}{tag}-seed{seed}"


def _for_epochs(epochs: int) -> str:
    """What a description adds for networks trained longer than the fast recipe."""
    if epochs == DEFAULT_EPOCHS:
        return ""
    return (
        f", for {epochs} epochs instead of the fast recipe's {DEFAULT_EPOCHS}"
    )


def on_all_drawers(row: dict, profile, epochs: int = DEFAULT_EPOCHS) -> dict:
    """A ``bench.test_time`` row made for networks trained on all the drawers for
    ``epochs``: its name, description and run folders say so."""
    return {
        **row,
        "lever": row["lever"] + SUFFIX + epochs_tag(epochs),
        "description": row["description"]
        + ON_ALL_DRAWERS
        + _for_epochs(epochs),
        "run_folders": [
            _folder_name(member_folder(profile, seed, epochs))
            for seed in row["members"]
        ],
        "training_drawers": len(ALL_DRAWERS),
        "alone_training_drawers": len(ALL_DRAWERS),
        "epochs": epochs,
        "alone_epochs": epochs,
    }


def _folder_name(folder) -> str:
    return str(folder.relative_to(RUNS.parent))


def ensemble_accuracies(networks: list, trial_sets) -> dict:
    """The accuracy, on each of ``bench.test_time``'s trial sets, of the mean score of
    ``networks`` (one network alone where it holds one), without distorted views."""
    return {
        figure: test_time.accuracy(
            test_time.ensemble_scores(networks, getattr(trial_sets, name)),
            getattr(trial_sets, name),
        )
        for figure, name in levers.TRIAL_SETS.items()
    }


def training_row(
    profile, seed: int, own: tuple, alone: tuple, epochs: int = DEFAULT_EPOCHS
) -> dict:
    """The lever itself: ``own``, the seed's network trained on all the drawers for
    ``epochs``, alone, beside ``alone`` on the same trials (each a ``(network,
    results.json)``). At the fast recipe's epochs ``alone`` is the network trained on the
    paper's 12 drawers (the drawers are the lever); at more epochs it is the one trained on
    all the drawers for the fast recipe's epochs (the schedule's length is the lever)."""
    trial_sets = scoring_trials(profile, seed)
    longer = epochs != DEFAULT_EPOCHS
    size = f"{size_tag(profile)}{levers.turns_tag(TURNS)}{epochs_tag(epochs)}"
    return {
        "lever": f"all-drawers{size}",
        "description": f"the fast recipe's {profile.image_size}x{profile.image_size} "
        "network with turned characters"
        + ON_ALL_DRAWERS.replace(", every network", ",")
        + _for_epochs(epochs),
        "profile": profile.name,
        "image_size": profile.image_size,
        "seed": seed,
        "members": [seed],
        "run_folders": [_folder_name(member_folder(profile, seed, epochs))],
        "views": 0,
        "quarter_turns": TURNS,
        "training_drawers": len(ALL_DRAWERS),
        "alone_training_drawers": len(
            ALL_DRAWERS if longer else data.TRAINING_DRAWERS
        ),
        "epochs": epochs,
        "alone_epochs": DEFAULT_EPOCHS,
        **ensemble_accuracies([own[0]], trial_sets),
        **{
            f"{key}_alone": value
            for key, value in ensemble_accuracies(
                [alone[0]], trial_sets
            ).items()
        },
        "train_seconds": own[1]["train_seconds"],
    }


def mixed_row(
    profile, seed: int, own: dict, paper: dict, epochs: int = DEFAULT_EPOCHS
) -> dict:
    """The seed's ensemble of networks trained on all the drawers for ``epochs`` together
    with the seed's first networks trained on the paper's 12 (``bench.test_time``'s):
    every network's score averaged, without distorted views, beside the first of ``own``
    alone.

    ``own`` and ``paper`` map each network's seed to its ``(network, results.json)``, the
    seed's own first.
    """
    trial_sets = scoring_trials(profile, seed)
    started = time.perf_counter()
    everything = (*own.values(), *paper.values())
    mixed = ensemble_accuracies([net for net, _ in everything], trial_sets)
    alone = ensemble_accuracies([own[seed][0]], trial_sets)
    size = f"{size_tag(profile)}{levers.turns_tag(TURNS)}"
    folders = [member_folder(profile, each, epochs) for each in own] + [
        levers.member_folder(profile, levers.Member(TURNS, each))
        for each in paper
    ]
    pixels = f"{profile.image_size}x{profile.image_size}"
    return {
        "lever": f"ensemble-{len(own)}{size}{SUFFIX}{epochs_tag(epochs)}"
        f"+{len(paper)}{size}",
        "description": f"the mean score of {len(own) + len(paper)} fast networks on "
        f"{pixels} images, all trained with turned characters, with the seed and more "
        f"seeds: {len(own)} on all {len(ALL_DRAWERS)} drawers of the training "
        f"alphabets and {len(paper)} on the paper's {len(data.TRAINING_DRAWERS)} "
        "(neither the turns nor the extra drawers are in the paper)"
        + _for_epochs(epochs).replace(", for", ", the former for"),
        "profile": profile.name,
        "image_size": profile.image_size,
        "seed": seed,
        "members": list(own),
        "paper_drawers_members": list(paper),
        "run_folders": [_folder_name(folder) for folder in folders],
        "views": 0,
        "quarter_turns": TURNS,
        "training_drawers": len(ALL_DRAWERS),
        "alone_training_drawers": len(ALL_DRAWERS),
        "epochs": epochs,
        "alone_epochs": epochs,
        **mixed,
        **{f"{key}_alone": value for key, value in alone.items()},
        "train_seconds": round(
            sum(r["train_seconds"] for _, r in everything), 1
        ),
        "scoring_seconds": round(time.perf_counter() - started, 1),
    }


def parse_arguments(argv=None):
    """The command line's settings, refused with a way out where impossible."""
    parser = common.command_parser(
        "bench.all_drawers", __doc__, profile=False, seeds="several"
    )
    common.ensemble_options(
        parser, members=DEFAULT_MEMBERS, views=levers.DEFAULT_VIEWS
    )
    parser.add_argument(
        "--paper-members",
        type=common.at_least(
            "--paper-members",
            0,
            "a mix takes no network or more of the paper's drawers",
        ),
        default=0,
        help="also score each seed's ensemble together with this many turned 35x35 "
        "networks trained on the paper's 12 drawers (bench.test_time's; default 0, none)",
    )
    parser.add_argument(
        "--epochs",
        type=common.at_least(
            "--epochs", 1, "a network trains one epoch or more"
        ),
        default=DEFAULT_EPOCHS,
        help="train every network on all the drawers for this many epochs, its cosine "
        f"schedule stretched to match (default {DEFAULT_EPOCHS}, the fast recipe's)",
    )
    return parser.parse_args(argv)


def command_line(args) -> str:
    """The command that repeats this run, naming only the settings not at their default."""
    command = "python -m bench.all_drawers --seeds " + " ".join(
        map(str, args.seeds)
    )
    for option, value, default in (
        ("--members", args.members, DEFAULT_MEMBERS),
        ("--views", args.views, levers.DEFAULT_VIEWS),
        ("--paper-members", args.paper_members, 0),
        ("--epochs", args.epochs, DEFAULT_EPOCHS),
    ):
        command += f" {option} {value}" if value != default else ""
    return command


def main(argv=None) -> int:
    args = parse_arguments(argv)
    command = command_line(args)
    profile = mnist.reduced_profile(get_profile("fast"))

    @functools.cache  # each network is read once, however many levers use it
    def network_of(member, epochs=args.epochs):
        return trained_network(
            profile,
            member.seed,
            command,
            member_recipe(profile, epochs),
            member_folder(profile, member.seed, epochs),
            training_drawers=ALL_DRAWERS,
        )

    @functools.cache
    def paper_network_of(seed):
        member = levers.Member(TURNS, seed)
        return levers.trained_member(profile, member, command)

    def compared_with(seed):
        # What the seed's network alone is set beside: the network of the paper's drawers,
        # or of all the drawers for the fast recipe's epochs when --epochs is the lever.
        if args.epochs == DEFAULT_EPOCHS:
            return paper_network_of(seed)
        return network_of(levers.Member(TURNS, seed), DEFAULT_EPOCHS)

    # Every network is trained before any is scored.
    for seed in args.seeds:
        for each in levers.member_seeds(seed, args.members):
            network_of(levers.Member(TURNS, each))
        compared_with(seed)
        for each in levers.member_seeds(seed, args.paper_members):
            paper_network_of(each)
    for seed in args.seeds:
        own = network_of(levers.Member(TURNS, seed))
        rows = [
            training_row(profile, seed, own, compared_with(seed), args.epochs)
        ]
        rows += [
            on_all_drawers(row, profile, args.epochs)
            for row in levers.seed_rows(
                profile, seed, network_of, args.views, args.members, TURNS
            )
        ]
        if args.paper_members:
            rows.append(
                mixed_row(
                    profile,
                    seed,
                    {
                        each: network_of(levers.Member(TURNS, each))
                        for each in levers.member_seeds(seed, args.members)
                    },
                    {
                        each: paper_network_of(each)
                        for each in levers.member_seeds(
                            seed, args.paper_members
                        )
                    },
                    args.epochs,
                )
            )
        for row in rows:
            common.append_lever_row(levers.ROWS, row, command)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
