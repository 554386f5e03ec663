"""How the fast recipe was chosen: chapter 6's ablation and batch-normalisation verdicts.

The rows come from ``bench/results`` (``python -m bench.ablation`` and ``python -m
bench.seeds``), as :mod:`siamese_utils.report` reads the reproduction's; every verdict goes
through the book's one rule, :func:`siamese_utils.statistics.difference`. An ablation row is
a single run, so its differences carry the seed-to-seed spread that the recorded seeds of
the recipe it changes show (:meth:`~siamese_utils.statistics.Estimate.single_run`).
"""

from __future__ import annotations

import json

import numpy as np
from IPython.display import Markdown

from siamese_utils import records
from siamese_utils.display import markdown_table
from siamese_utils.profiles import get_profile
from siamese_utils.recipe import PAPER_LEARNING_RATE_RANGE, RECIPES
from siamese_utils.report import percent
from siamese_utils.statistics import Difference, Estimate, difference


def ablation_rows() -> list[dict]:
    """``bench/results/ablation.jsonl``, the fixed-step rows first, then the recipe rows."""
    rows = records.read_rows(records.RESULTS_FOLDER / "ablation.jsonl")
    return sorted(
        rows,
        key=lambda r: (
            r["name"].startswith("recipe"),
            r["name"].startswith("position-split"),
            r["steps"],
            r["one_shot_official_runs"],
        ),
    )


def _ablation_arguments(command: str) -> str:
    """What follows ``python -m bench.ablation`` in a row's command, as code."""
    args, _, note = command.removeprefix("python -m bench.ablation ").partition(
        " ("
    )
    return f"`{args}`" + (f" ({note}" if note else "")


def ablation_table() -> Markdown:
    """Every recorded ablation row with the arguments that repeat it."""
    return markdown_table(
        [
            "change",
            "steps",
            "training (s)",
            "validation one-shot (%)",
            "official 20-way (%)",
        ],
        [
            [
                f"{r['description']}: {_ablation_arguments(r['command'])}",
                r["steps"],
                f"{r['train_seconds']:.0f}",
                percent(r, "validation_one_shot"),
                percent(r, "one_shot_official_runs"),
            ]
            for r in ablation_rows()
        ],
        caption="Ablation of the fast profile (2 CPU cores; seed 2015 unless the "
        "arguments name another). Each change is followed by the arguments of "
        "`python -m bench.ablation` that recorded it",
    )


# (run without the change, run with it, the change): each pair of recorded ablation rows
# differs in one setting of the fast recipe as it was before batch normalisation.
ABLATION_STEPS = (
    (
        "recipe-constant-rate",
        "recipe",
        "the cosine schedule over 30 epochs instead of a constant rate for up to 12",
    ),
    (
        "recipe-constant-rate-balanced-bce",
        "recipe-constant-rate",
        "the ranking loss instead of a class-balanced form of the paper's cross-entropy",
    ),
    (
        "recipe-two-episodes",
        "recipe",
        "one episode of 4 x 8 x 4 images a step instead of two of 4 x 8 x 2",
    ),
    (
        "recipe-paper",
        "recipe",
        "the fast recipe instead of the paper's (pairs, cross-entropy, per-layer SGD) "
        "for the same number of steps",
    ),
    (
        "recipe",
        "recipe-batch-norm",
        "batch normalisation before the block's ReLUs (not in the paper)",
    ),
    (
        "recipe-paper-fresh-distortions",
        "recipe-paper",
        "in the paper's recipe, eight fixed distortions per image instead of a fresh "
        "one every step",
    ),
)
# The recipe the ablation's recipe rows change, whose recorded seeds give their spread.
ABLATION_BASE_RECIPE = "fast-no-batch-norm"


def ablation_spread() -> tuple[float, int] | None:
    """The seed-to-seed standard deviation of validation one-shot accuracy of the recipe
    the ablation's recipe rows change, and its degrees of freedom (``None`` below 2 seeds).
    """
    seeds = records.seed_rows(
        get_profile("fast"), recipe=RECIPES[ABLATION_BASE_RECIPE]
    )
    if len(seeds) < 2:
        return None
    values = [r["validation_one_shot"] for r in seeds]
    return float(np.std(values, ddof=1)), len(seeds) - 1


def ablation_difference(without: dict, with_: dict) -> Difference:
    """Validation one-shot accuracy of one ablation row minus another's, each a single
    run carrying the base recipe's seed spread (:meth:`Estimate.single_run`)."""
    spread = ablation_spread()
    key = "validation_one_shot"
    if spread is None:
        return difference(
            Estimate.over({0: with_[key]}, "seed"),
            Estimate.over({0: without[key]}, "seed"),
        )
    return difference(
        Estimate.single_run(with_[key], *spread),
        Estimate.single_run(without[key], *spread),
    )


def ablation_verdicts(seed: int) -> Markdown:
    """One clause per ablation step on the validation tasks, each with its verdict."""
    latest = {r["name"]: r for r in ablation_rows() if r["seed"] == seed}
    key = "validation_one_shot"
    clauses = [
        f"{what} moves it from {100 * latest[without][key]:.1f}% to "
        f"{100 * latest[with_][key]:.1f}%, "
        + ablation_difference(latest[without], latest[with_]).describe()
        for without, with_, what in ABLATION_STEPS
        if without in latest
        and with_ in latest
        and key in latest[with_]
        and key in latest[without]
    ]
    if not clauses:
        return Markdown(
            "No recipe variants are recorded yet; `python -m bench.ablation recipe "
            "recipe-constant-rate` adds them."
        )
    spread = ablation_spread()
    uncertainty = (
        f"with the {100 * spread[0]:.1f}-point standard deviation between the "
        f"{spread[1] + 1} recorded seeds of the {ABLATION_BASE_RECIPE} recipe as "
        "each run's uncertainty"
        if spread
        else f"and no recorded seeds of the {ABLATION_BASE_RECIPE} recipe to give them a spread"
    )
    return Markdown(
        f"On the validation tasks, one seed ({seed}) per row, {uncertainty}: "
        + "; ".join(clauses)
        + "."
    )


def loss_comparison(seed: int) -> Markdown:
    """Chapter 7's sentence: the ranking loss against the paper's cross-entropy."""
    latest = {r["name"]: r for r in ablation_rows() if r["seed"] == seed}
    ranked = latest["recipe-constant-rate"]
    crossed = latest["recipe-constant-rate-balanced-bce"]
    key = "validation_one_shot"
    return Markdown(
        "With everything else of the earlier constant-rate fast recipe kept, the "
        f"balanced cross-entropy reached {100 * crossed[key]:.1f}% of the validation "
        f"tasks and the ranking loss {100 * ranked[key]:.1f}%: "
        f"{ablation_difference(crossed, ranked).describe()}, one seed each, with the "
        "seed-to-seed spread of the recipe as each run's uncertainty (chapter 6, "
        f"What made the fast profile learn; `{ranked['command']}` and "
        f"`{crossed['command']}`)."
    )


def split_change(seed: int) -> Markdown:
    """The constant-rate recipe on the old position split against the drawer split."""
    latest = {r["name"]: r for r in ablation_rows() if r["seed"] == seed}
    before, after = (
        latest.get("position-split-recipe"),
        latest.get("recipe-constant-rate"),
    )
    if not (before and after):
        return Markdown("")
    key = "one_shot_official_runs"
    return Markdown(
        "On the book's earlier split by stored position, which let every drawer's "
        "handwriting into training, the constant-rate recipe and seed scored "
        f"{100 * before[key]:.1f}% on the official runs; on the real drawer split "
        f"{100 * after[key]:.1f}% ({100 * (after[key] - before[key]):+.1f} points, one "
        "seed each)."
    )


def batch_norm_candidates() -> dict[str, list[dict]]:
    """The recorded seeds of the recipe the fast one replaced and of its two successors."""
    fast = get_profile("fast")
    return {
        "no batch normalisation, 30 epochs (before)": records.seed_rows(
            fast, recipe=RECIPES["fast-no-batch-norm"]
        ),
        "batch normalisation, 30 epochs (laptop)": records.seed_rows(
            get_profile("laptop")
        ),
        "batch normalisation, 24 epochs (fast)": records.seed_rows(fast),
    }


def batch_norm_table() -> Markdown:
    """Validation accuracy of each batch-normalisation candidate, seed by seed."""
    candidates = batch_norm_candidates()
    seeds = sorted({r["seed"] for rows in candidates.values() for r in rows})

    def cells(rows):
        by_seed = {r["seed"]: r for r in rows}
        return [
            percent(by_seed[s], "validation_one_shot") if s in by_seed else "-"
            for s in seeds
        ]

    return markdown_table(
        ["recipe", *(f"seed {s} (%)" for s in seeds), "training (s, mean)"],
        [
            [
                label,
                *cells(rows),
                f"{np.mean([r['train_seconds'] for r in rows]):.0f}"
                if rows
                else "-",
            ]
            for label, rows in candidates.items()
        ],
        caption="Validation one-shot accuracy (320 tasks) of three recipes, "
        "recorded by `python -m bench.seeds`",
    )


def batch_norm_verdicts() -> Markdown:
    """Each batch-normalised recipe against the one before, paired by seed."""
    (before_label, before), *others = batch_norm_candidates().items()
    key = "validation_one_shot"

    def clause(label, rows):
        base = {r["seed"]: r for r in before}
        paired = {r["seed"]: r for r in rows if r["seed"] in base}
        if len(paired) < 2:
            return f"{label}: fewer than two seeds recorded beside the recipe before"
        change = difference(
            Estimate.over({s: r[key] for s, r in paired.items()}, "seed"),
            Estimate.over({s: base[s][key] for s in paired}, "seed"),
        )
        higher = sum(r[key] > base[s][key] for s, r in paired.items())
        slower = np.mean(
            [r["train_seconds"] for r in paired.values()]
        ) / np.mean([base[s]["train_seconds"] for s in paired])
        return (
            f"{label}: {change.describe()}, higher on {higher} of {len(paired)} "
            f"seeds, in {slower:.2f} times the training time"
        )

    return Markdown(
        "Paired by seed against the recipe before, on the validation tasks: "
        + "; ".join(clause(label, rows) for label, rows in others)
        + "."
    )


def trial_draw_disagreement(seed: int) -> Markdown:
    """Why the ablation's base row and the seed table disagree on validation for one seed:
    the spread of one network's validation accuracy over draws of its 320 tasks
    (``python -m bench.trial_draws``)."""
    path = records.RESULTS_FOLDER / "trial-draws.json"
    base = [
        r
        for r in ablation_rows()
        if r["name"] == "recipe" and r["seed"] == seed
    ]
    table = [
        r
        for r in records.seed_rows(
            get_profile("fast"), recipe=RECIPES[ABLATION_BASE_RECIPE]
        )
        if r["seed"] == seed
    ]
    if not (path.exists() and base and table):
        return Markdown(
            "How far a validation accuracy moves with the draw of its tasks is not "
            "recorded here yet (`python -m bench.trial_draws` records it)."
        )
    draws = json.loads(path.read_text())
    gap = 100 * abs(
        base[-1]["validation_one_shot"] - table[-1]["validation_one_shot"]
    )
    spread = 100 * draws["sd"]
    low, high = (100 * v for v in draws["central_95"])
    return Markdown(
        f"The two disagree by {gap:.1f} points. How much a draw of tasks alone moves a "
        f"validation accuracy was measured on one fast network (`{draws['command']}`): "
        f"on {draws['draws']} independent draws of {draws['tasks']} validation tasks "
        f"it scored from {low:.1f}% to {high:.1f}% (the central 95%), a standard "
        f"deviation of {spread:.1f} points; the difference of two draws then has one of "
        f"{np.sqrt(2) * spread:.1f} points, and the disagreement is "
        f"{'within' if gap <= 2 * np.sqrt(2) * spread else 'beyond'} twice that. The "
        "same draws show a second effect: on fresh draws the network averages "
        f"{100 * draws['mean']:.1f}%, where its own run recorded "
        f"{100 * draws['run_validation']:.1f}% on the one draw that chose its best "
        "epoch"
        + (
            ", above the central 95% of fresh draws"
            if draws["run_validation"] > draws["central_95"][1]
            else ""
        )
        + ", because choosing the best of many "
        "epochs on one set of tasks favours an epoch that happens to suit that set. "
        "Validation figures are for choosing; the test figures are the ones to quote."
    )


def equal_time_rows() -> tuple[dict | None, list[dict]]:
    """``bench.equal_time``'s timing and its runs at the recorded budget, in seed order."""
    timing_path = records.RESULTS_FOLDER / "equal-time.json"
    if not timing_path.exists():
        return None, []
    timing = json.loads(timing_path.read_text())
    latest = {}
    for row in records.read_rows(records.RESULTS_FOLDER / "equal-time.jsonl"):
        if row["epochs"] == timing["paper_epochs"]:
            latest[round(row["rate_scale"], 6), row["seed"]] = row
    return timing, [latest[key] for key in sorted(latest)]


EQUAL_TIME_FIGURES = {
    "validation_one_shot": "validation tasks",
    "one_shot_official_runs": "official runs",
    "one_shot_paper_protocol": "paper's protocol",
}


def largest_scale_note(chosen: float, scales) -> str:
    """What it means that the chosen rate scale is the largest tried (else nothing)."""
    if chosen < max(scales):
        return ""
    base = RECIPES["paper"].learning_rate * chosen
    if base >= PAPER_LEARNING_RATE_RANGE[1] * (1 - 1e-9):
        return (
            ", and is the largest tried: its base rate is the top of the range the "
            "paper searched, so a better rate, if any, lies outside that range"
        )
    return (
        ", and is the largest tried, so a larger scale might do better; the "
        "comparison below is a lower bound for the paper's recipe"
    )


def equal_time_comparison() -> Markdown:
    """The fast recipe against the paper's at equal training time (``bench.equal_time``):
    the rate sweep, then the chosen rate over the fast recipe's seeds, paired by seed."""
    timing, rows = equal_time_rows()
    if not rows:
        return Markdown(
            "The comparison at equal time is not recorded here yet (`python -m "
            "bench.equal_time --time`, then `--sweep`, then `--seeds 2016 2017`)."
        )
    first = min(r["seed"] for r in rows)
    sweep = [r for r in rows if r["seed"] == first]
    chosen = max(sweep, key=lambda r: r["validation_one_shot"])["rate_scale"]
    mine = {r["seed"]: r for r in rows if r["rate_scale"] == chosen}
    fast = {r["seed"]: r for r in records.seed_rows(get_profile("fast"))}
    shared = sorted(mine.keys() & fast.keys())
    table = markdown_table(
        [
            "run",
            "seeds",
            *(f"{label} (%)" for label in EQUAL_TIME_FIGURES.values()),
        ],
        [
            [
                f"paper's recipe, rates x {r['rate_scale']:.3g}"
                + (" (chosen)" if r["rate_scale"] == chosen else ""),
                str(r["seed"]),
                *(percent(r, key) for key in EQUAL_TIME_FIGURES),
            ]
            for r in sweep
        ]
        + [
            [
                label,
                ", ".join(map(str, shared)),
                *(
                    f"{100 * np.mean([runs[s][key] for s in shared]):.1f}"
                    for key in EQUAL_TIME_FIGURES
                ),
            ]
            for label, runs in (
                (f"paper's recipe, rates x {chosen:.3g}", mine),
                ("fast recipe (24 epochs)", fast),
            )
        ],
        caption=f"The paper's recipe for {timing['paper_epochs']} epochs of 100 steps of "
        f"{rows[0]['pairs_per_step']} pairs, the time of the fast recipe's "
        f"{timing['fast_steps']:,} steps, at the fast profile's size "
        "(`python -m bench.equal_time`; the fast rows: `python -m bench.seeds`)",
    )
    clauses = [
        f"on the {label}, {difference(Estimate.over({s: fast[s][key] for s in shared}, 'seed'), Estimate.over({s: mine[s][key] for s in shared}, 'seed')).describe()}"
        for key, label in EQUAL_TIME_FIGURES.items()
    ]
    return Markdown(
        table.data
        + f"\n\nA step of the paper's recipe took {timing['paper_seconds_per_step']:.3f} s "
        f"and one of the fast recipe {timing['fast_seconds_per_step']:.3f} s, timed in "
        f"turns in one process, hence {timing['paper_epochs']} epochs. Its rate scale was "
        f"chosen on the validation tasks of seed {first}"
        + largest_scale_note(chosen, [r["rate_scale"] for r in sweep])
        + ". The fast recipe minus the "
        f"paper's, paired over seeds {', '.join(map(str, shared))}: "
        + "; ".join(clauses)
        + "."
    )
