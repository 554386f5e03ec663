"""The scale curve: the paper protocol's score against image size and training time.

The paper's 92.0% (Table 2) is on its own protocol; the book's fast runs score far less
there. Is the gap scale? ``python -m bench.scale`` trains one recipe, the fast one, at
several points of two axes and records each run's score on the paper's protocol (400
trials, 4 test drawers), on the official runs and on the validation tasks:

* **image size**: 52 (the fast profile's), 70, 80 and 105 pixels (the paper's), each for the
  fast recipe's 24 epochs;
* **training time**: 6, 12, 24 and 48 epochs at 52 pixels (the 24-epoch point is the
  52-pixel point of the size axis, trained once).

Everything else is the fast profile's (network widths, batch, episodes). Each run keeps the
epoch best on the validation tasks, as the fast recipe does, so a longer schedule can only
be chosen on validation, never on the test. It appends one row per point and seed to
``bench/results/scale.jsonl``, with the training seconds, so the curve can be drawn against
time as well as epochs; chapter 6 shows it.

``--points size:105 epochs:48`` trains some points only. One seed on 2 CPU cores takes
about 100 minutes for the whole curve (the 105-pixel point alone about half an hour).
"""

from __future__ import annotations

import dataclasses

from bench import common
from siamese_utils.paths import RUNS
from siamese_utils.profiles import get_profile
from siamese_utils.recipe import RECIPES
from siamese_utils.scale_curve import SCALE_ROWS

ROWS = SCALE_ROWS  # chapter 6 reads them through siamese_utils.scale_curve
IMAGE_SIZES = (52, 70, 80, 105)
# The fast recipe's own 24 epochs are the point size:52; the time axis adds the others.
EPOCHS = (6, 12, 48)
AXES = {"size": IMAGE_SIZES, "epochs": EPOCHS}


def parse_point(text: str) -> tuple[str, int]:
    """``"size:70"`` -> ``("size", 70)``, refused unless it is a point of the curve."""
    axis, _, value = text.partition(":")
    if axis not in AXES or not value.isdigit() or int(value) not in AXES[axis]:
        points = ", ".join(f"{a}:{v}" for a, vs in AXES.items() for v in vs)
        raise ValueError(
            f"A point is AXIS:VALUE, one of {points}; got {text!r}."
        )
    return axis, int(value)


def point_settings(axis: str, value: int, profile_name: str = "fast"):
    """The profile and recipe of one point: ``profile_name``'s sizes with the image side
    changed (``size``), or its recipe (the fast one for the fast profile) trained for
    ``value`` epochs (``epochs``)."""
    profile = get_profile(profile_name)
    recipe = RECIPES[profile.recipe]
    if axis == "size":
        profile = dataclasses.replace(profile, image_size=value)
    else:
        # Every epoch trained: the schedule's length is the point, not early stopping.
        recipe = dataclasses.replace(recipe, max_epochs=value, patience=value)
    return profile, recipe


def train_point(axis: str, value: int, seed: int, profile_name: str = "fast"):
    """One point of the curve for one seed; its row (also appended)."""
    profile, recipe = point_settings(axis, value, profile_name)
    return common.recorded_run(
        ROWS,
        RUNS / f"scale-{axis}{value}-{profile_name}-seed{seed}",
        f"python -m bench.scale --points {axis}:{value} --seeds {seed}"
        + (f" --profile {profile_name}" if profile_name != "fast" else ""),
        (
            "one_shot_paper_protocol",
            "one_shot_official_runs",
            "validation_one_shot",
            "verification_accuracy",
            "train_seconds",
            "epochs_trained",
            "best_epoch",
        ),
        {
            "axis": axis,
            "value": value,
            "image_size": profile.image_size,
            "epochs": recipe.max_epochs,
            "profile": profile_name,
            "seed": seed,
        },
        profile=profile,
        seed=seed,
        recipe=recipe,
    )


def main(argv=None) -> int:
    parser = common.command_parser("bench.scale", __doc__, seeds="several")
    parser.add_argument(
        "--points",
        nargs="+",
        default=[f"{a}:{v}" for a, vs in AXES.items() for v in vs],
        help="points as size:PIXELS or epochs:N (default: all seven)",
    )
    args = parser.parse_args(argv)
    try:
        points = list(dict.fromkeys(parse_point(text) for text in args.points))
    except ValueError as error:
        parser.error(str(error))
    for seed in args.seeds:
        for axis, value in points:
            row = train_point(axis, value, seed, args.profile)
            print(
                f"{axis} {value}, seed {seed}: paper protocol "
                f"{100 * row['one_shot_paper_protocol']:.1f}%, official runs "
                f"{100 * row['one_shot_official_runs']:.1f}% "
                f"({row['train_seconds'] / 60:.1f} min of training)",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
