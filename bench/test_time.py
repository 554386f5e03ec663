"""Issue 32's scoring levers on the fast reproduction: distorted views and ensembles.

``python -m bench.test_time [--seeds 2015 2016 2017] [--views 8] [--members 3]`` takes each
seed's fast reproduction (the network ``python -m bench.mnist`` trains into
``results/mnist-fast-seedSEED``; trained here when missing) and scores the seed's 320
validation tasks and its 400 trials of the paper's protocol four ways, none of them in the
paper:

* the network alone, as its run scored it;
* ``distortion-averaging``: each pair's score averaged over the undistorted pair and
  ``--views`` pairs of distorted views (:func:`siamese_utils.test_time.view_scores`);
* ``ensemble-K``: the mean score of ``--members`` fast reproductions, the seed's own and
  ones trained with the seed plus 100, plus 200, ... (trained here when missing, into the
  same kind of folder), so no two seeds' ensembles share a network
  (:func:`siamese_utils.test_time.ensemble_scores`). Its training time is its members'.
* ``ensemble-K-with-views``: both at once, each member's score averaged over its views
  before the members' scores are averaged.

The ensemble's row also carries ``validation_agreement``
(:func:`siamese_utils.test_time.agreement`): for each count of members right on their own,
how many validation tasks had it and how many of those the ensemble answered correctly.

``--reduced`` does the same with the 35x35 network of the paper's Table 3
(``python -m bench.mnist --reduced``; :func:`siamese_utils.mnist.reduced_profile`), which
trains in about half the time: its levers are named with a ``-35px`` suffix, and the network
alone beside them is the 35x35 one.

``--turns 3`` trains every member with the fast recipe plus each training character turned
by 90, 180 and 270 degrees as three new characters (``Recipe.quarter_turns``, not in the
paper), into ``results/test-time-fast[-35px]-turns3-seedSEED``: its levers are named with a
``-turns3`` suffix, its rows carry ``quarter_turns``, and the network alone beside them is
the turned one. ``--plain-members 10`` with it adds two mixed levers,
``ensemble-5-35px-turns3+10-35px`` and its ``-with-views`` twin: the turned ensemble's
members together with the seed's first 10 plain networks (the ``--reduced`` ensemble's),
their rows listing the plain ones in ``plain_members``. Their training time is all of
theirs.

One row per lever and seed goes to ``bench/results/test-time.jsonl``, with the network
alone beside it on the same trials. Each member is scored once per trial set, with and
without views, and every lever reads those scores: ``scoring_seconds`` is that work, the
seed's, the same on its rows. A lever is worth keeping only if it wins on the
validation tasks; the protocol columns are the test, read once.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from bench import common
from bench.mnist import run_folder, size_tag, trained_network
from siamese_utils import evaluate, mnist, test_time
from siamese_utils.paths import RECORDS, RUNS
from siamese_utils.profiles import get_profile
from siamese_utils.recipe import QUARTER_TURNS, recipe_for
from siamese_utils.run_data import load_splits, turns_in_words

ROWS = RECORDS / "test-time.jsonl"
DEFAULT_VIEWS = 8
DEFAULT_MEMBERS = 3
MEMBER_SEED_STEP = 100
TRIAL_SETS = {
    "validation_one_shot": "validation_trials",
    "one_shot_paper_protocol": "test_trials",
}


def member_seeds(seed: int, members: int) -> list[int]:
    """The seeds of an ensemble's members: the seed itself, then a step of
    :data:`MEMBER_SEED_STEP` for each further member (no two seeds' ensembles share one)."""
    return [seed + MEMBER_SEED_STEP * member for member in range(members)]


def turns_tag(turns: int) -> str:
    """``"-turns3"`` for members trained with three quarter turns, ``""`` for none."""
    return f"-turns{turns}" if turns else ""


def ensemble_lever(
    profile, members: int, turns: int = 0, with_views: bool = False
) -> str:
    """The ensemble's lever name, ``ensemble-10-35px`` for ten reduced networks, and
    ``ensemble-10-with-views-35px`` for the same scored over distorted views."""
    views = "-with-views" if with_views else ""
    return f"ensemble-{members}{views}{size_tag(profile)}{turns_tag(turns)}"


def member_recipe(profile, turns: int):
    """The recipe every member trains by: the profile's, with ``turns`` quarter turns."""
    return dataclasses.replace(recipe_for(profile), quarter_turns=turns)


def member_folder(profile, member: int, turns: int):
    """Where a member is trained and kept: ``bench.mnist``'s folder for the profile's own
    recipe, one of this command's own for members trained with turned characters."""
    if not turns:
        return run_folder(profile, member)
    return RUNS / (
        f"test-time-{profile.name}{size_tag(profile)}{turns_tag(turns)}-seed{member}"
    )


def seed_levers(
    profile, seed: int, views: int, members: int, turns: int = 0, plain: int = 0
) -> dict:
    """lever name -> (description, members, distorted views).

    A lever scores a pair by the mean score of its members, each first averaged over its
    views when it has any. A member is ``(quarter turns, seed)``: every lever's members are
    among the seed's ensemble (:func:`member_seeds`), trained with ``turns``, and, when
    ``plain`` is above 0, the mixed levers add the seed's first ``plain`` networks trained
    without turns; all of them read the same scored members.
    """
    # The reduced network's levers are other levers: named, and described, by their size,
    # and so are those of members trained with turned characters.
    size = size_tag(profile) + turns_tag(turns)
    on_images = (
        f" on {profile.image_size}x{profile.image_size} images"
        if size_tag(profile)
        else ""
    )
    turned = (
        f"also trained on the training characters turned by {turns_in_words(turns)}, "
        "as new characters (not in the paper)"
        if turns
        else ""
    )
    ensemble = [(turns, member) for member in member_seeds(seed, members)]
    distorted = f"the undistorted pair and {views} pairs of distorted views (the paper's ranges)"
    networks = (
        f"the mean score of {members} fast networks{on_images}, trained with the seed and "
        f"{members - 1} more (seed + {MEMBER_SEED_STEP}, + {2 * MEMBER_SEED_STEP}, ...)"
        + (f", each {turned}" if turns else "")
    )
    levers = {
        f"distortion-averaging{size}": (
            f"each pair's score averaged over {distorted}{on_images}"
            + (f", by a network {turned}" if turns else ""),
            [(turns, seed)],
            views,
        ),
        ensemble_lever(profile, members, turns): (networks, ensemble, 0),
        ensemble_lever(profile, members, turns, with_views=True): (
            f"{networks}, each network's score averaged over {distorted}",
            ensemble,
            views,
        ),
    }
    if plain:
        mixed = ensemble + [(0, member) for member in member_seeds(seed, plain)]
        # Named as the turned ensemble's levers, with the plain networks added.
        plus = f"+{plain}{size_tag(profile)}"
        with_plain = (
            f"{networks}, together with {plain} fast networks{on_images} trained "
            "without turned characters (the seed's own, seed + "
            f"{MEMBER_SEED_STEP}, ...), all {members + plain} networks' scores averaged"
        )
        levers[ensemble_lever(profile, members, turns) + plus] = (
            with_plain,
            mixed,
            0,
        )
        levers[
            ensemble_lever(profile, members, turns, with_views=True) + plus
        ] = (
            f"{with_plain}, each first averaged over {distorted}",
            mixed,
            views,
        )
    return levers


def member_scores(networks: dict, splits, views: int) -> dict:
    """Every network's scores on each trial set, without and with distorted views, computed
    once for all the levers: ``{figure: {0: {member: scores}, views: {member: scores}}}``,
    one ``(t, n)`` array per network of ``networks`` (member -> network)."""
    scored = {}
    for figure, name in TRIAL_SETS.items():
        trials = getattr(splits, name)
        viewed = test_time.member_view_scores(networks.values(), trials, views)
        scored[figure] = {
            0: {
                member: evaluate.siamese_scores(network, trials)
                for member, network in networks.items()
            },
            views: dict(zip(networks, viewed)),
        }
    return scored


def seed_rows(
    profile,
    seed: int,
    network_of,
    views: int,
    members: int,
    turns: int = 0,
    plain: int = 0,
) -> list[dict]:
    """The seed's rows, one per lever of :func:`seed_levers`, each with the network alone.

    ``network_of((turns, seed))`` returns ``(network, results.json)`` of the fast
    reproduction trained with that many quarter turns (:func:`member_recipe`) and that
    seed: a member of :func:`seed_levers`.
    """
    splits = load_splits(profile, recipe_for(profile), seed)
    levers = seed_levers(profile, seed, views, members, turns, plain)
    started = time.perf_counter()
    scored = member_scores(
        {
            member: network_of(member)[0]
            for _, used, _ in levers.values()
            for member in used
        },
        splits,
        views,
    )
    scoring_seconds = round(time.perf_counter() - started, 1)

    def accuracies(used: list, lever_views: int) -> dict:
        # The mean score of the `used` networks, on each trial set.
        return {
            figure: test_time.accuracy(
                np.mean([scored[figure][lever_views][m] for m in used], axis=0),
                getattr(splits, name),
            )
            for figure, name in TRIAL_SETS.items()
        }

    alone = accuracies([(turns, seed)], 0)
    rows = []
    for lever, (description, used, lever_views) in levers.items():
        row = {
            "lever": lever,
            "description": description,
            "profile": profile.name,
            "image_size": profile.image_size,
            "seed": seed,
            # The members trained with the lever's turns; any others in `plain_members`.
            "members": [m for t, m in used if t == turns],
            "views": lever_views,
            "quarter_turns": turns,
            **accuracies(used, lever_views),
            **{f"{key}_alone": value for key, value in alone.items()},
            "train_seconds": round(
                sum(network_of(member)[1]["train_seconds"] for member in used),
                1,
            ),
            "scoring_seconds": scoring_seconds,
            "run_folders": [
                str(member_folder(profile, m, t).relative_to(RUNS.parent))
                for t, m in used
            ],
        }
        if any(t != turns for t, _ in used):
            row["plain_members"] = [m for t, m in used if t != turns]
        if lever == ensemble_lever(profile, members, turns):
            # What the ensemble adds to its members: read on validation, never on the test.
            row["validation_agreement"] = test_time.agreement(
                [scored["validation_one_shot"][0][m] for m in used],
                splits.validation_trials,
            )
        rows.append(row)
    return rows


def parse_arguments(argv=None):
    """The command line's settings, refused with a way out where impossible."""
    parser = common.command_parser(
        "bench.test_time", __doc__, profile=False, seeds="several"
    )
    parser.add_argument(
        "--views",
        type=int,
        default=DEFAULT_VIEWS,
        help=f"distortions per image (default {DEFAULT_VIEWS})",
    )
    parser.add_argument(
        "--members",
        type=int,
        default=DEFAULT_MEMBERS,
        help=f"networks per ensemble (default {DEFAULT_MEMBERS})",
    )
    parser.add_argument(
        "--reduced",
        action="store_true",
        help="the fast network on "
        f"{mnist.REDUCED_IMAGE_SIZE}x{mnist.REDUCED_IMAGE_SIZE} images (bench.mnist --reduced)",
    )
    parser.add_argument(
        "--turns",
        type=int,
        default=0,
        help="train the members with each training character also turned by 1, 2 or 3 "
        "quarter turns as new characters (not in the paper; default 0, none)",
    )
    parser.add_argument(
        "--plain-members",
        type=int,
        default=0,
        help="with --turns: also score each turned ensemble together with this many "
        "networks trained without turns (default 0, none)",
    )
    args = parser.parse_args(argv)
    if args.plain_members and not args.turns:
        parser.error(
            "--plain-members mixes turned networks with plain ones: give --turns too"
        )
    if args.plain_members < 0:
        parser.error("--plain-members takes 0 (none) or more networks")
    if args.members < 2 or args.views < 1:
        parser.error(
            "an ensemble needs --members 2 or more, and --views 1 or more"
        )
    if args.turns not in QUARTER_TURNS:
        parser.error("--turns takes 0 (none), 1, 2 or 3 quarter turns")
    return args


def command_line(args) -> str:
    """The command that repeats this run, naming only the settings not at their default."""
    command = "python -m bench.test_time --seeds " + " ".join(
        str(seed) for seed in args.seeds
    )
    command += " --reduced" if args.reduced else ""
    for option, value, default in (
        ("--views", args.views, DEFAULT_VIEWS),
        ("--members", args.members, DEFAULT_MEMBERS),
        ("--turns", args.turns, 0),
        ("--plain-members", args.plain_members, 0),
    ):
        command += f" {option} {value}" if value != default else ""
    return command


def main(argv=None) -> int:
    args = parse_arguments(argv)
    command = command_line(args)
    profile = get_profile("fast")
    if args.reduced:
        profile = mnist.reduced_profile(profile)
    # Every member is trained (or its finished run read) before any scoring is timed.
    trained = {
        (turns, member): trained_network(
            profile,
            member,
            command,
            member_recipe(profile, turns),
            member_folder(profile, member, turns),
        )
        for seed in args.seeds
        for turns, count in (
            (args.turns, args.members),
            (0, args.plain_members),
        )
        for member in member_seeds(seed, count)
    }
    for seed in args.seeds:
        for row in seed_rows(
            profile,
            seed,
            trained.__getitem__,
            args.views,
            args.members,
            args.turns,
            args.plain_members,
        ):
            row.update(
                command=command, machine=common.machine(), date=common.now()
            )
            common.append_row(ROWS, row)
            print(
                f"seed {seed} {row['lever']}: validation "
                f"{100 * row['validation_one_shot_alone']:.1f} -> "
                f"{100 * row['validation_one_shot']:.1f}%, protocol "
                f"{100 * row['one_shot_paper_protocol_alone']:.1f} -> "
                f"{100 * row['one_shot_paper_protocol']:.1f}%",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
