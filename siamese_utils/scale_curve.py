"""Chapter 6's scale curve: the paper protocol's score against image size and training time.

``python -m bench.scale`` trains the fast recipe at several points of two axes and appends
one row per point and seed to ``bench/results/scale.jsonl`` (:data:`SCALE_ROWS`):

* ``size``: the image side in pixels, each for the recipe's own number of epochs;
* ``epochs``: the schedule's length at the profile's own image size.

The point of the size axis at the profile's own size *is* the time axis's point at the
recipe's own epochs, trained once; :func:`scale_points` puts it on both. This module turns
the rows into the points :func:`siamese_utils.plots.scale_curve` draws, and into the
sentences that say what the curve shows, each verdict by the book's one rule
(:func:`siamese_utils.statistics.difference`).
"""

from __future__ import annotations

import dataclasses

import numpy as np
from IPython.display import Markdown

from siamese_utils import records
from siamese_utils.display import listed, markdown_table
from siamese_utils.evaluate import PAPER_TABLE_2
from siamese_utils.profiles import get_profile
from siamese_utils.recipe import recipe_for
from siamese_utils.statistics import Estimate, difference

SCALE_ROWS = records.RESULTS_FOLDER / "scale.jsonl"
# The score the curve is about, and the one drawn beside it, as results.json names them.
PROTOCOL = "one_shot_paper_protocol"
OFFICIAL = "one_shot_official_runs"
# The paper's Table 2 figure on its own protocol.
PAPER_PROTOCOL_SCORE = PAPER_TABLE_2["Convolutional Siamese Net"]


@dataclasses.dataclass(frozen=True)
class ScalePoint:
    """One point of the curve over its recorded seeds.

    Attributes:
        axis: ``"size"`` or ``"epochs"``.
        value: pixels or epochs.
        protocol: seed -> score on the paper's protocol (a fraction).
        official: seed -> score on the official runs (a fraction).
        seconds: seed -> seconds of training.
    """

    axis: str
    value: int
    protocol: dict
    official: dict
    seconds: dict

    @property
    def minutes(self) -> float:
        """The mean minutes of training over the point's seeds."""
        return float(np.mean(list(self.seconds.values()))) / 60

    def on_seeds(self, seeds) -> ScalePoint:
        """The point with only the runs of ``seeds``."""
        return dataclasses.replace(
            self,
            **{
                name: {
                    s: v for s, v in getattr(self, name).items() if s in seeds
                }
                for name in ("protocol", "official", "seconds")
            },
        )

    def estimate(self, key: str = PROTOCOL) -> Estimate:
        """The point's score over seeds (``key``: :data:`PROTOCOL` or :data:`OFFICIAL`)."""
        figures = self.protocol if key == PROTOCOL else self.official
        return Estimate.over(figures, "seed")


def scale_points(
    rows=None, profile_name: str = "fast"
) -> dict[str, list[ScalePoint]]:
    """``{"size": [...], "epochs": [...]}``, each axis's points in increasing order.

    Only ``profile_name``'s rows count, the latest of each point and seed (a rerun replaces
    its row). The size point at the profile's own image size joins the epochs axis at the
    recipe's own epochs, where it belongs.
    """
    rows = records.read_rows(SCALE_ROWS) if rows is None else rows
    profile = get_profile(profile_name)
    own_epochs = recipe_for(profile).max_epochs
    latest = {}
    for row in rows:
        if row["profile"] == profile_name:
            latest[(row["axis"], row["value"], row["seed"])] = row
    for (axis, value, seed), row in list(latest.items()):
        if axis == "size" and value == profile.image_size:
            latest.setdefault(("epochs", own_epochs, seed), row)
    grouped: dict = {}
    for (axis, value, seed), row in latest.items():
        grouped.setdefault((axis, value), {})[seed] = row
    points: dict[str, list[ScalePoint]] = {"size": [], "epochs": []}
    for (axis, value), by_seed in sorted(grouped.items()):
        points[axis].append(
            ScalePoint(
                axis,
                value,
                {s: r[PROTOCOL] for s, r in by_seed.items()},
                {s: r[OFFICIAL] for s, r in by_seed.items()},
                {s: r["train_seconds"] for s, r in by_seed.items()},
            )
        )
    return points


def shared_seeds(points) -> set:
    """The seeds every point of the curve was trained with."""
    recorded = [p for line in points.values() for p in line]
    return (
        set.intersection(*(set(p.protocol) for p in recorded))
        if recorded
        else set()
    )


def distinct_points(points, profile_name: str = "fast") -> dict:
    """``points`` without the epochs axis's copy of the size point at the profile's own
    size (:func:`scale_points` puts that one run on both axes), so it is counted once."""
    own_epochs = recipe_for(get_profile(profile_name)).max_epochs
    return {
        axis: [
            p for p in line if not (axis == "epochs" and p.value == own_epochs)
        ]
        for axis, line in points.items()
    }


def split_by_seeds(points, profile_name: str = "fast") -> tuple[dict, dict]:
    """``(the curve on its shared seeds, the points trained with more seeds)``, both by
    axis: the figure draws the curve on the seeds all of its points have, so that no
    point is higher or lower for its seeds alone, and the fuller points beside it, each
    once (:func:`distinct_points`)."""
    common = shared_seeds(points)
    return (
        {
            axis: [p.on_seeds(common) for p in line]
            for axis, line in points.items()
        },
        {
            axis: [p for p in line if set(p.protocol) != common]
            for axis, line in distinct_points(points, profile_name).items()
        },
    )


def seed_spread(profile_name: str = "fast") -> tuple[float, int] | None:
    """The seed-to-seed standard deviation of the protocol score recorded for the profile's
    own recipe (``python -m bench.seeds``) and its degrees of freedom; ``None`` below two
    seeds. It is a one-seed point's uncertainty: what another seed would have moved it."""
    seeds = records.seed_rows(get_profile(profile_name))
    if len(seeds) < 2:
        return None
    return float(np.std([r[PROTOCOL] for r in seeds], ddof=1)), len(seeds) - 1


def _estimate(point: ScalePoint, spread) -> Estimate:
    """Over seeds when the point has two or more, else one run carrying ``spread``."""
    return Estimate.over_seeds(point.protocol, spread)


def half_interval(point: ScalePoint, spread=None) -> float | None:
    """Half the 95% interval of the point's protocol score (a fraction); ``None`` when
    neither seeds nor a recorded spread give one."""
    return _estimate(point, spread).half_width


def intervals(points, profile_name: str = "fast") -> dict:
    """``(axis, value) -> half the 95% interval`` of every point, for the figure's bars."""
    spread = seed_spread(profile_name)
    return {
        (p.axis, p.value): half_interval(p, spread)
        for line in points.values()
        for p in line
    }


AXIS_WORDS = {
    "size": ("images of {} pixels", "image size"),
    "epochs": ("{} epochs", "schedule length"),
}


def scale_findings(points=None, profile_name: str = "fast") -> Markdown:
    """What the curve shows, in sentences rendered from the rows: each axis's first point
    against its last with a verdict, and the best point against the paper's 92.0."""
    points = (
        scale_points(profile_name=profile_name) if points is None else points
    )
    recorded = [p for axis in points.values() for p in axis]
    if not recorded:
        return Markdown(
            "The scale curve is not recorded here yet: `python -m bench.scale` trains "
            "its points."
        )
    spread = seed_spread(profile_name)
    seeds = sorted({s for p in recorded for s in p.protocol})
    parts, compared, moved = [], [], []
    for axis, (name, what) in AXIS_WORDS.items():
        line = points[axis]
        if len(line) < 2:
            continue
        first, last = line[0], line[-1]
        change = difference(_estimate(last, spread), _estimate(first, spread))
        parts.append(
            f"Along {what}, from {name.format(first.value)} to "
            f"{name.format(last.value)} ({first.minutes:.0f} to {last.minutes:.0f} "
            f"minutes of training), the protocol score moved from "
            f"{100 * first.estimate().mean:.1f}% to {100 * last.estimate().mean:.1f}%: "
            f"{change.describe()}."
        )
        compared.append(what)
        if change.beyond_uncertainty:
            moved.append(what)
    parts.append(_best_point(recorded))
    if moved:
        parts.append(
            f"Only {' and '.join(moved)} moved the protocol score beyond its "
            "uncertainty along these ranges."
        )
    elif compared:
        parts.append(
            "No lever moved the protocol score beyond its uncertainty, so within these "
            "ranges the curve gives no evidence that the gap to the paper is the "
            f"recipe's {' or its '.join(compared)}; it cannot rule out a smaller effect, "
            "or one beyond the ranges a CPU reaches."
        )
    return Markdown(
        " ".join([_uncertainty(points, seeds, spread, profile_name), *parts])
    )


def _best_point(recorded) -> str:
    """The best point against the paper's figure. Points trained with different seeds are
    ranked on the seeds they all share, so that a lucky seed does not pick the point."""
    common = shared_seeds({"all": recorded})
    shared = bool(common) and any(set(p.protocol) != common for p in recorded)

    def score(point):
        if not shared:
            return point.estimate().mean
        return float(np.mean([point.protocol[s] for s in common]))

    best = max(recorded, key=score)
    on = (
        f"On seed{'s' if len(common) > 1 else ''} "
        f"{listed([str(s) for s in sorted(common)])}, which every point was trained "
        "with, the best point"
        if shared
        else "The best point"
    )
    return (
        f"{on}, {AXIS_WORDS[best.axis][0].format(best.value)}, scored "
        f"{100 * score(best):.1f}% on the protocol, against the paper's "
        f"{PAPER_PROTOCOL_SCORE:.1f}%."
    )


def _uncertainty(points, seeds, spread, profile_name: str) -> str:
    """Which points have several seeds (compared paired by seed), and what a one-seed
    point's uncertainty is: the profile's own seed-to-seed spread."""
    distinct = [
        p
        for line in distinct_points(points, profile_name).values()
        for p in line
    ]
    several = [p for p in distinct if len(p.protocol) > 1]
    single = {s for p in distinct if len(p.protocol) == 1 for s in p.protocol}
    if not single or not spread:
        return f"Seeds {', '.join(map(str, seeds))}, paired by seed."
    one_seed = (
        f"its uncertainty is the {100 * spread[0]:.1f}-point standard deviation between "
        f"the {spread[1] + 1} recorded seeds of the {profile_name} recipe, measured at "
        "its own size and length and assumed to hold along the curve."
    )
    single_seeds = ", ".join(map(str, sorted(single)))
    if not several:
        return f"Each point is one seed ({single_seeds}); {one_seed}"
    names = [AXIS_WORDS[p.axis][0].format(p.value) for p in several]
    several_seeds = sorted({s for p in several for s in p.protocol})
    return (
        f"{listed(names).capitalize()} were trained with seeds "
        f"{listed([str(s) for s in several_seeds])}, and two such points are compared "
        f"paired by seed; every other point is one seed ({single_seeds}), and {one_seed}"
    )


def scale_table(rows=None, profile_name: str = "fast") -> Markdown:
    """Every recorded point of the curve, one row per point and seed, with its command."""
    rows = records.read_rows(SCALE_ROWS) if rows is None else rows
    rows = [r for r in rows if r["profile"] == profile_name]
    if not rows:
        return Markdown("No point of the scale curve is recorded yet.")
    return markdown_table(
        [
            "point",
            "seed",
            "protocol (%)",
            "official runs (%)",
            "validation (%)",
            "training (min)",
            "command",
        ],
        [
            [
                AXIS_WORDS[r["axis"]][0].format(r["value"]),
                r["seed"],
                f"{100 * r[PROTOCOL]:.1f}",
                f"{100 * r[OFFICIAL]:.1f}",
                f"{100 * r['validation_one_shot']:.1f}",
                f"{r['train_seconds'] / 60:.1f}",
                f"`{r['command']}`",
            ]
            for r in rows
        ],
        caption=f"The scale curve's runs of the {profile_name} recipe, in the order they "
        f"were recorded ({rows[0]['machine']})",
    )
