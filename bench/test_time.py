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

``--turns 3`` trains every member with each training character also turned by 90, 180 and
270 degrees as three new characters (``Recipe.quarter_turns``, not in the paper), into
``results/test-time-fast[-35px]-turns3-seedSEED``: levers named with a ``-turns3`` suffix,
rows carrying ``quarter_turns``, the turned network alone beside them. Mixed levers add
other networks to each ensemble, their training time counted too: ``--plain-members 10``
(with ``--turns``) the seed's first 10 plain networks of the same size, as
``ensemble-5-35px-turns3+10-35px``, listed in ``plain_members``; ``--reduced-members 10``
(without ``--reduced``) its first 10 networks on 35x35 images with the same turns, as
``ensemble-3-turns3+10-35px-turns3``, listed in ``reduced_members``, each network scoring
the trials at its own size (a seed draws the same trials at every size).

One row per lever and seed goes to ``bench/results/test-time.jsonl``, with the network
alone beside it on the same trials. Each member is scored once per trial set, with and
without views, and every lever reads those scores: ``scoring_seconds`` is that work, the
seed's, the same on its rows. A lever is worth keeping only if it wins on the
validation tasks; the protocol columns are the test, read once.
"""

from __future__ import annotations

import dataclasses
import time
from typing import NamedTuple

import numpy as np

from bench import common
from bench.mnist import run_folder, size_tag, trained_network
from siamese_utils import evaluate, mnist, test_time
from siamese_utils.paths import RECORDS, RUNS
from siamese_utils.profiles import get_profile
from siamese_utils.recipe import QUARTER_TURNS, recipe_for
from siamese_utils.run_data import same_tasks, scoring_trials, turns_in_words

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


class Member(NamedTuple):
    """One network of a lever: the fast recipe with ``turns`` quarter turns, trained with
    ``seed``, on 35x35 images when ``reduced`` (on the profile's own otherwise)."""

    turns: int
    seed: int
    reduced: bool = False


def member_profile(profile, member: Member):
    """The profile ``member`` was trained (and scores trials) at."""
    return mnist.reduced_profile(profile) if member.reduced else profile


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


def member_folder(profile, member: Member):
    """Where a member is trained and kept: ``bench.mnist``'s folder for the profile's own
    recipe, one of this command's own for members trained with turned characters."""
    own = member_profile(profile, member)
    if not member.turns:
        return run_folder(own, member.seed)
    turned = f"{size_tag(own)}{turns_tag(member.turns)}-seed{member.seed}"
    return RUNS / f"test-time-{own.name}{turned}"


def trained_member(profile, member: Member, command: str):
    """``member``'s network and ``results.json`` (:func:`bench.mnist.trained_network`):
    trained by :func:`member_recipe` into :func:`member_folder` when missing."""
    own = member_profile(profile, member)
    return trained_network(
        own,
        member.seed,
        command,
        member_recipe(own, member.turns),
        member_folder(profile, member),
    )


def seed_levers(
    profile,
    seed: int,
    views: int,
    members: int,
    turns: int = 0,
    plain: int = 0,
    reduced: int = 0,
) -> dict:
    """lever name -> (description, members, distorted views).

    A lever scores a pair by the mean score of its :class:`Member` networks, each first
    averaged over its views when it has any: the seed's ensemble (:func:`member_seeds`)
    trained with ``turns``, and in the mixed levers also the seed's first ``plain``
    networks without turns, or its first ``reduced`` 35x35 networks with them.
    """
    # The reduced network's levers are other levers: named, and described, by their size,
    # and so are those of members trained with turned characters.
    size = size_tag(profile) + turns_tag(turns)
    on_images = _on_images(profile)
    turned = _turned(turns)
    ensemble = [Member(turns, member) for member in member_seeds(seed, members)]
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
            [Member(turns, seed)],
            views,
        )
    }
    groups = [("", networks, ensemble, "each network's score averaged")]
    for plus, kind, extra in _other_networks(
        profile, seed, turns, plain, reduced
    ):
        count = members + len(extra)
        with_others = (
            f"{networks}, together with {len(extra)} {kind}, all {count}"
        )
        described = f"{with_others} networks' scores averaged"
        groups.append(
            (plus, described, ensemble + extra, "each first averaged")
        )
    # Each ensemble, and its twin whose networks first average their views.
    for plus, description, used, averaged in groups:
        levers[ensemble_lever(profile, members, turns) + plus] = (
            description,
            used,
            0,
        )
        levers[ensemble_lever(profile, members, turns, True) + plus] = (
            f"{description}, {averaged} over {distorted}",
            used,
            views,
        )
    return levers


def _other_networks(profile, seed: int, turns: int, plain: int, reduced: int):
    """The networks a mixed lever adds to the ensemble, ``(name suffix, description,
    members)`` each: the seed's first ``plain`` networks without turns, and its first
    ``reduced`` 35x35 networks with ``turns`` (where above 0)."""
    if reduced and size_tag(profile):
        raise ValueError(
            "This ensemble is already reduced: add plain networks (plain=) instead."
        )
    seeds = f"(the seed's own, seed + {MEMBER_SEED_STEP}, ...)"
    others = []
    for count, other_turns, small in (
        (plain, 0, False),
        (reduced, turns, True),
    ):
        if count:
            added = [
                Member(other_turns, member, reduced=small)
                for member in member_seeds(seed, count)
            ]
            other = member_profile(profile, added[0])
            kind = f"fast networks{_on_images(other)} " + (
                f"{seeds} trained with the same turned characters"
                if other_turns
                else f"trained without turned characters {seeds}"
            )
            tag = f"+{count}{size_tag(other)}{turns_tag(other_turns)}"
            others.append((tag, kind, added))
    return others


def _on_images(profile) -> str:
    """`` on 35x35 images`` for the reduced network; nothing for the profile's own size."""
    size = profile.image_size
    return f" on {size}x{size} images" if size_tag(profile) else ""


def _turned(turns: int) -> str:
    """What training with ``turns`` quarter turns adds, in words (nothing for none)."""
    if not turns:
        return ""
    return (
        f"also trained on the training characters turned by {turns_in_words(turns)}, "
        "as new characters (not in the paper)"
    )


def member_scores(networks: dict, trials_at: dict, views: int) -> dict:
    """Every network's scores on each trial set, without and with distorted views, computed
    once for all the levers: ``{figure: {0: {member: scores}, views: {member: scores}}}``,
    one ``(t, n)`` array per network of ``networks`` (:class:`Member` -> network).

    ``trials_at[reduced]`` holds the trial sets at the image size of the members with that
    ``reduced``: each network scores the trials at its own size, and the networks of one
    size share one draw of the views.
    """
    scored = {figure: {0: {}, views: {}} for figure in TRIAL_SETS}
    for reduced, trial_sets in trials_at.items():
        group = {m: n for m, n in networks.items() if m.reduced == reduced}
        for figure, name in TRIAL_SETS.items():
            trials = getattr(trial_sets, name)
            viewed = test_time.member_view_scores(group.values(), trials, views)
            scored[figure][0].update(
                (m, evaluate.siamese_scores(n, trials))
                for m, n in group.items()
            )
            scored[figure][views].update(zip(group, viewed))
    return scored


def trials_by_size(profile, seed: int, reduced: bool) -> dict:
    """``{False: the seed's trial sets at the profile's size}``, and with ``reduced``, ``True``:
    the same trials at 35x35 pixels.

    Raises:
        ValueError: the two sizes drew different trials, so their scores cannot be mixed.
    """
    trials_at = {False: scoring_trials(profile, seed)}
    if reduced:
        small = mnist.reduced_profile(profile)
        trials_at[True] = scoring_trials(small, seed)
        if not same_tasks(*trials_at.values()):
            raise ValueError(
                f"Seed {seed} drew other trials at {profile.image_size} and "
                f"{small.image_size} pixels, so their networks' scores cannot be averaged."
            )
    return trials_at


def seed_rows(
    profile,
    seed: int,
    network_of,
    views: int,
    members: int,
    turns: int = 0,
    plain: int = 0,
    reduced: int = 0,
) -> list[dict]:
    """The seed's rows, one per lever of :func:`seed_levers`, each with the network alone.

    ``network_of(member)`` returns ``(network, results.json)`` of the fast reproduction
    that :class:`Member` names (trained by :func:`member_recipe`): a member of
    :func:`seed_levers`.
    """
    trials_at = trials_by_size(profile, seed, bool(reduced))
    levers = seed_levers(profile, seed, views, members, turns, plain, reduced)
    started = time.perf_counter()
    scored = member_scores(
        {
            member: network_of(member)[0]
            for _, used, _ in levers.values()
            for member in used
        },
        trials_at,
        views,
    )
    scoring_seconds = round(time.perf_counter() - started, 1)

    def accuracies(used: list, lever_views: int) -> dict:
        # The mean score of the `used` networks, on each trial set (the same trials at
        # every size, so the profile's own answers score them all).
        return {
            figure: test_time.accuracy(
                np.mean([scored[figure][lever_views][m] for m in used], axis=0),
                getattr(trials_at[False], name),
            )
            for figure, name in TRIAL_SETS.items()
        }

    alone = accuracies([Member(turns, seed)], 0)
    rows = []
    for lever, (description, used, lever_views) in levers.items():
        row = {
            "lever": lever,
            "description": description,
            "profile": profile.name,
            "image_size": profile.image_size,
            "seed": seed,
            **_members_fields(profile, used, turns),
            "views": lever_views,
            "quarter_turns": turns,
            **accuracies(used, lever_views),
            **{f"{key}_alone": value for key, value in alone.items()},
            "train_seconds": round(
                sum(network_of(member)[1]["train_seconds"] for member in used),
                1,
            ),
            "scoring_seconds": scoring_seconds,
        }
        if lever == ensemble_lever(profile, members, turns):
            # What the ensemble adds to its members: read on validation, never on the test.
            row["validation_agreement"] = test_time.agreement(
                [scored["validation_one_shot"][0][m] for m in used],
                trials_at[False].validation_trials,
            )
        rows.append(row)
    return rows


def _members_fields(profile, used: list, turns: int) -> dict:
    """A row's networks: ``members``, the profile's own trained with the lever's turns;
    ``plain_members``, its own trained without; ``reduced_members``, those on 35x35 images
    (the last two only where the lever has any); and every one's ``run_folders``."""
    fields = {
        "members": [m.seed for m in used if m.turns == turns and not m.reduced],
        "plain_members": [
            m.seed for m in used if m.turns != turns and not m.reduced
        ],
        "reduced_members": [m.seed for m in used if m.reduced],
    }
    fields = {
        key: seeds for key, seeds in fields.items() if seeds or key == "members"
    }
    fields["run_folders"] = [
        str(member_folder(profile, m).relative_to(RUNS.parent)) for m in used
    ]
    return fields


def parse_arguments(argv=None):
    """The command line's settings, refused with a way out where impossible."""
    parser = common.command_parser(
        "bench.test_time", __doc__, profile=False, seeds="several"
    )
    common.ensemble_options(
        parser, members=DEFAULT_MEMBERS, views=DEFAULT_VIEWS
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
    parser.add_argument(
        "--reduced-members",
        type=int,
        default=0,
        help="without --reduced: also score each ensemble together with this many "
        f"{mnist.REDUCED_IMAGE_SIZE}x{mnist.REDUCED_IMAGE_SIZE} networks trained with the "
        "same --turns (default 0, none)",
    )
    args = parser.parse_args(argv)
    if args.reduced_members and args.reduced:
        parser.error(
            "--reduced-members adds 35x35 networks to the profile's own: drop --reduced, "
            "or mix networks of one size with --turns and --plain-members"
        )
    if args.plain_members and not args.turns:
        parser.error(
            "--plain-members mixes turned networks with plain ones: give --turns too"
        )
    if min(args.plain_members, args.reduced_members) < 0:
        parser.error(
            "--plain-members and --reduced-members take 0 (none) or more"
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
        ("--reduced-members", args.reduced_members, 0),
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
        member: trained_member(profile, member, command)
        for seed in args.seeds
        for turns, count, reduced in (
            (args.turns, args.members, False),
            (0, args.plain_members, False),
            (args.turns, args.reduced_members, True),
        )
        for member in (
            Member(turns, each, reduced) for each in member_seeds(seed, count)
        )
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
            args.reduced_members,
        ):
            common.append_lever_row(ROWS, row, command)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
