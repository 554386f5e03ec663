"""The fast recipe against the paper's at equal training time, the paper's at its own batch.

Chapter 6 once said the fast recipe "beats the paper's recipe at equal compute" from runs of
equal *steps*, with the paper's recipe at 64 pairs a step (not its 128) and its SGD rates
untuned. This benchmark asks the fair question, at the fast profile's network and images:

1. ``python -m bench.equal_time --time`` times a training step of each recipe in turns, in
   one process (:func:`bench.common.timed_in_turns`): the fast recipe's (one 128-image
   episode, ranking loss, Adam) and the paper's (128 pairs, cross-entropy, per-layer SGD,
   eight fixed distortions per image). The ratio of their step times gives the paper
   recipe's epochs of 100 steps that take as long as the fast recipe's 24, its **equal
   time budget**, as a number of steps: a run of it repeats exactly, as a wall-clock limit
   would not on a machine whose speed drifts.
2. ``--sweep`` trains the paper's recipe for that budget at four learning-rate scales
   (every layer's rate times 1/3, 1, 3 and 10: the last puts the base rate at 0.1, the top
   of the range the paper searched, eta in [1e-4, 1e-1]) with seed 2015, and keeps the
   scale with the best validation one-shot accuracy.
3. ``--seeds`` trains the chosen scale with the other two seeds, so that it compares with
   the fast recipe's three recorded seeds (``bench.seeds``) on the same test trials.

The rows go to ``bench/results/equal-time.jsonl`` and the timing to
``bench/results/equal-time.json``; chapter 6 reads both.
"""

from __future__ import annotations

import dataclasses
import json

from bench import common
from siamese_utils import choices, data, pipeline
from siamese_utils.paths import RECORDS, RUNS
from siamese_utils.profiles import get_profile
from siamese_utils.recipe import RECIPES, make_optimizer, recipe_for

ROWS = RECORDS / "equal-time.jsonl"
TIMING = RECORDS / "equal-time.json"
# The paper's minibatch (Koch et al., 2015, Section 4.2).
PAPER_PAIRS_PER_STEP = 128
RATE_SCALES = (1 / 3, 1.0, 3.0, 10.0)
STEPS_PER_EPOCH = 100  # the fast recipe's epoch, so validation comes as often
TIMED_STEPS = 20
TIMED_PAIRS = 5


def paper_profile():
    """The fast profile's network and images, with the paper's 128 pairs a step."""
    return dataclasses.replace(
        get_profile("fast"), batch_size=PAPER_PAIRS_PER_STEP
    )


def paper_recipe(rate_scale: float, epochs: int):
    """The paper's recipe with every learning rate scaled, for ``epochs`` of 100 steps.

    It trains every epoch (``patience`` as long as the run) and keeps the best on
    validation, as the fast recipe does.
    """
    paper = RECIPES["paper"]
    return dataclasses.replace(
        paper,
        learning_rate=paper.learning_rate * rate_scale,
        layer_rates={
            name: rate * rate_scale for name, rate in paper.layer_rates.items()
        },
        steps_per_epoch=STEPS_PER_EPOCH,
        max_epochs=epochs,
        patience=epochs,
    )


def one_training_epoch(profile, recipe, split, steps: int):
    """A function that trains ``steps`` steps of ``recipe`` on a fresh network."""
    network = recipe.build_network(profile)
    trainable = recipe.sampling.compiled(
        network, make_optimizer(recipe), recipe
    )
    batches = pipeline.training_dataset(split, profile, recipe, seed=0)
    return lambda: trainable.fit(
        batches, epochs=1, steps_per_epoch=steps, shuffle=False, verbose=0
    )


def time_steps(steps: int = TIMED_STEPS, pairs: int = TIMED_PAIRS) -> dict:
    """Seconds a step of each recipe takes, timed in turns, and the equal time budget."""
    fast_profile, background, _ = common.setup("fast")
    train = background.select_drawers(data.TRAINING_DRAWERS)
    fast = recipe_for(fast_profile)
    paper = paper_recipe(1.0, 1)
    paper_seconds, fast_seconds = common.timed_in_turns(
        one_training_epoch(paper_profile(), paper, train, steps),
        one_training_epoch(fast_profile, fast, train, steps),
        pairs,
    )
    # How many of the paper's steps take as long as one of the fast recipe's.
    ratio = sum(fast_seconds) / sum(paper_seconds)
    low, high = common.paired_ratio_interval(paper_seconds, fast_seconds)
    fast_steps = fast.max_epochs * fast.steps_per_epoch
    return {
        "fast_seconds_per_step": sum(fast_seconds) / (steps * pairs),
        "paper_seconds_per_step": sum(paper_seconds) / (steps * pairs),
        "paper_steps_per_fast_step": ratio,
        "interval": [low, high],
        "fast_steps": fast_steps,
        "paper_epochs": max(1, round(fast_steps * ratio / STEPS_PER_EPOCH)),
        "timed_steps": steps,
        "timed_pairs": pairs,
        "command": "python -m bench.equal_time --time",
        "machine": common.machine(),
        "date": common.now(),
    }


def budget() -> int:
    """The paper recipe's epochs of equal time, as ``--time`` recorded them."""
    if not TIMING.exists():
        raise SystemExit(
            "error: no timing recorded; run `python -m bench.equal_time --time` first"
        )
    return json.loads(TIMING.read_text())["paper_epochs"]


def train(rate_scale: float, seed: int) -> dict:
    """One run of the paper's recipe at ``rate_scale`` for the equal budget; its row."""
    epochs = budget()
    return common.recorded_run(
        ROWS,
        RUNS / f"equal-time-rate{rate_scale:.3g}-seed{seed}",
        f"python -m bench.equal_time --rate-scale {rate_scale:.3g} --seeds {seed}",
        (
            "validation_one_shot",
            "one_shot_official_runs",
            "one_shot_paper_protocol",
            "verification_accuracy",
            "train_seconds",
            "preparation_seconds",
            "evaluation_seconds",
            "best_epoch",
            "recipe",
        ),
        {
            "rate_scale": rate_scale,
            "seed": seed,
            "epochs": epochs,
            "pairs_per_step": PAPER_PAIRS_PER_STEP,
        },
        profile=paper_profile(),
        seed=seed,
        recipe=paper_recipe(rate_scale, epochs),
    )


def recorded_rows() -> list[dict]:
    """The recorded runs at the current budget, the latest of each scale and seed (read
    as chapter 6 reads them, :func:`siamese_utils.choices.equal_time_rows`)."""
    return choices.equal_time_rows()[1]


def chosen_scale() -> float:
    """The rate scale with the best validation one-shot accuracy at seed 2015."""
    sweep = [
        row for row in recorded_rows() if row["seed"] == common.DEFAULT_SEED
    ]
    if not sweep:
        raise SystemExit(
            "error: no sweep recorded; run `python -m bench.equal_time --sweep` first"
        )
    return max(sweep, key=lambda row: row["validation_one_shot"])["rate_scale"]


def main(argv=None) -> int:
    parser = common.command_parser(
        "bench.equal_time", __doc__, profile=False, seeds="several"
    )
    parser.add_argument(
        "--time", action="store_true", help="time both recipes' steps"
    )
    parser.add_argument(
        "--sweep", action="store_true", help="three rate scales, seed 2015"
    )
    parser.add_argument(
        "--rate-scale",
        type=float,
        default=None,
        help="train this scale on --seeds (default: the sweep's choice)",
    )
    args = parser.parse_args(argv)
    if args.time:
        timing = time_steps()
        TIMING.write_text(json.dumps(timing, indent=1) + "\n")
        print(
            f"a paper step takes {timing['paper_seconds_per_step']:.3f} s, a fast "
            f"step {timing['fast_seconds_per_step']:.3f} s: "
            f"{timing['paper_epochs']} paper epochs of {STEPS_PER_EPOCH} steps "
            "take as long as the fast recipe's 24"
        )
    if args.sweep:
        for scale in RATE_SCALES:
            train(scale, common.DEFAULT_SEED)
        print(f"chosen on validation: rate scale {chosen_scale():.3g}")
    if not (args.time or args.sweep):
        scale = args.rate_scale or chosen_scale()
        for seed in args.seeds:
            row = train(scale, seed)
            print(
                f"rate scale {scale:.3g}, seed {seed}: validation "
                f"{100 * row['validation_one_shot']:.1f}%, protocol "
                f"{100 * row['one_shot_paper_protocol']:.1f}%",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
