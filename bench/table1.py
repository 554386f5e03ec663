"""The paper's Table 1 on its own design: training-set size against distortions.

Koch et al. (2015, Table 1) trained their verification network on fixed sets of 30,000,
90,000 and 150,000 pairs, each without distortions and with eight affine distortions per
pair, and reported the verification accuracy on test pairs. ``python -m bench.table1`` trains
the same six cells at the fast profile's size: the paper's recipe (pairs, cross-entropy,
per-layer SGD, its rates scaled as ``bench.equal_time`` chose them on validation) with the
paper's 128 pairs a step on a fixed set of pairs
(:attr:`siamese_utils.recipe.Recipe.pair_set`), either undistorted or with eight fixed
distortions of every image (the book's pool, :mod:`siamese_utils.epoch_data`: each image of
a pair is then the original or one of its eight, where the paper distorted each pair
eight times), for the same number of steps, keeping the epoch best on the validation tasks.
It appends one row per cell and seed to ``bench/results/table1.jsonl``; chapter 6 shows them
beside the paper's.

``--cells 30000:none 150000:pool`` trains some cells only; ``--epochs`` sets the length,
the same for every cell (default: the epochs of 100 steps that ``bench.equal_time`` found
to take the fast recipe's training time, so Table 1's cells train as long as the book's
recipe does).
"""

from __future__ import annotations

import dataclasses

from bench import common
from bench.equal_time import budget, chosen_scale, paper_profile, paper_recipe
from siamese_utils.evaluate import PAPER_TABLE_1
from siamese_utils.paths import RECORDS, RUNS
from siamese_utils.recipe import RECIPES

ROWS = RECORDS / "table1.jsonl"
SET_SIZES = tuple(PAPER_TABLE_1)
DISTORTIONS = ("none", "pool")


def cell_recipe(
    pairs: int, distortions: str, epochs: int, rate_scale: float = 1.0
):
    """The paper's recipe on a fixed set of ``pairs``, undistorted or with its pool, its
    learning rates scaled by ``rate_scale`` (:func:`bench.equal_time.paper_recipe`)."""
    if distortions not in DISTORTIONS:
        raise ValueError(
            f"distortions must be one of {DISTORTIONS}, got {distortions!r}."
        )
    changes = (
        {"distortions": None, "distortion_pool": 0}
        if distortions == "none"
        else {"distortion_pool": RECIPES["paper"].distortion_pool}
    )
    return dataclasses.replace(
        paper_recipe(rate_scale, epochs), pair_set=pairs, **changes
    )


def parse_cell(text: str) -> tuple[int, str]:
    """``"30000:none"`` -> ``(30000, "none")``, refused unless it is one of the table's."""
    pairs, _, distortions = text.partition(":")
    cell = (int(pairs) if pairs.isdigit() else None, distortions)
    if cell[0] not in SET_SIZES or distortions not in DISTORTIONS:
        raise ValueError(
            f"A cell is SIZE:DISTORTIONS with SIZE one of {SET_SIZES} and "
            f"DISTORTIONS one of {DISTORTIONS}; got {text!r}."
        )
    return cell


def train_cell(pairs: int, distortions: str, seed: int, epochs: int) -> dict:
    """One cell of the table for one seed; its row (also appended)."""
    # The learning-rate scale bench.equal_time chose on validation for this budget.
    scale = chosen_scale()
    return common.recorded_run(
        ROWS,
        RUNS / f"table1-{pairs}-{distortions}-seed{seed}",
        f"python -m bench.table1 --cells {pairs}:{distortions} --seeds {seed}"
        + (f" --epochs {epochs}" if epochs != budget() else ""),
        (
            "verification_accuracy",
            "validation_one_shot",
            "one_shot_paper_protocol",
            "train_seconds",
            "best_epoch",
            "recipe",
        ),
        {
            "pairs": pairs,
            "distortions": distortions,
            "seed": seed,
            "epochs": epochs,
            "rate_scale": scale,
        },
        profile=paper_profile(),
        seed=seed,
        recipe=cell_recipe(pairs, distortions, epochs, scale),
    )


def main(argv=None) -> int:
    parser = common.command_parser(
        "bench.table1", __doc__, profile=False, seeds="several"
    )
    parser.add_argument(
        "--cells",
        nargs="+",
        default=[f"{n}:{d}" for n in SET_SIZES for d in DISTORTIONS],
        help="cells as SIZE:none or SIZE:pool (default: all six)",
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="epochs of 100 steps (default: bench.equal_time's budget, the fast "
        "recipe's training time)",
    )
    args = parser.parse_args(argv)
    epochs = args.epochs or budget()
    try:
        cells = [parse_cell(text) for text in args.cells]
    except ValueError as error:
        parser.error(str(error))
    for seed in args.seeds:
        for pairs, distortions in cells:
            row = train_cell(pairs, distortions, seed, epochs)
            print(
                f"{pairs:,} pairs, distortions {distortions}, seed {seed}: "
                f"verification {100 * row['verification_accuracy']:.2f}%",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
