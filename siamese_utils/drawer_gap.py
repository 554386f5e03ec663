"""Chapter 6's gap section: why one network scores higher on the official runs than on the
paper's protocol, and what the drawers have to do with it.

It reads three records: ``bench/results/gap.json`` (one network scored on trials of
different drawers, ``python -m bench.gap``), ``drawers.json`` (whether a drawer number names
one person in every alphabet) and ``drawers-training.jsonl`` (the fast recipe trained on
drawers 9-20, ``python -m bench.drawers --train``). Every verdict goes through the book's one
rule, :func:`siamese_utils.statistics.difference`.
"""

from __future__ import annotations

import json

from siamese_utils import records
from siamese_utils.data import alphabet_name
from siamese_utils.display import Markdown, markdown_table
from siamese_utils.profiles import get_profile
from siamese_utils.statistics import Estimate, difference

HELD_OUT_ROWS = records.RESULTS_FOLDER / "drawers-training.jsonl"
# The figures the held-out comparison shows, as results.json names them.
HELD_OUT_FIGURES = {
    "one_shot_official_runs": "official runs",
    "one_shot_paper_protocol": "paper's protocol",
    "validation_one_shot": "validation tasks",
}


def read_gap() -> dict:
    """``bench/results/gap.json``: one network scored on trials of different drawers."""
    return json.loads((records.RESULTS_FOLDER / "gap.json").read_text())


def gap_estimate(figure: dict) -> Estimate:
    """A recorded accuracy over tasks with its interval, as the one rule compares it."""
    return Estimate.from_interval(
        figure["accuracy"], figure["low"], figure["high"], figure["tasks"]
    )


def gap_table() -> Markdown:
    """The drawer gap: one network's accuracy on four sets of trials, with intervals."""
    gap = read_gap()

    def row(label, figure):
        return [
            label,
            f"{figure['trials']:,}",
            f"{100 * figure['accuracy']:.1f}",
            f"{100 * figure['low']:.1f} to {100 * figure['high']:.1f}",
        ]

    return markdown_table(
        ["trials", "count", "20-way accuracy (%)", "95% interval"],
        [row("official runs (drawers 1-8)", gap["official_runs"])]
        + [
            row(f"paper protocol, {name}", figure)
            for name, figure in gap["paper_protocol"].items()
        ]
        + [
            row(
                "official runs' alphabets and drawer pairs, fresh characters",
                gap["official_drawers_fresh_characters"],
            )
        ],
        caption=f"One network ({gap['profile']} recipe, seed {gap['seed']}, trained by "
        f"`{gap.get('run_command', 'python -m bench.seeds')}`) on trials drawn by "
        f"different drawers: recorded by `{gap['command']}`",
    )


def gap_steps() -> Markdown:
    """The gap from the protocol to the official runs in three steps, each with its verdict."""
    gap = read_gap()
    late = gap["paper_protocol"]["test drawers 17-20 (the split's)"]
    early = gap["paper_protocol"]["drawers 1-8 (the official runs')"]
    copied = gap["official_drawers_fresh_characters"]
    official = gap["official_runs"]
    chain = [late, early, copied, official]
    steps = [
        difference(gap_estimate(b), gap_estimate(a))
        for a, b in zip(chain, chain[1:])
    ]
    real = sum(s.mean for s in steps if s.beyond_uncertainty)
    return Markdown(
        "From the paper's protocol on the test drawers "
        f"({100 * late['accuracy']:.1f}%) to the official runs "
        f"({100 * official['accuracy']:.1f}%), in three steps: taking the trials' "
        f"drawers from 1-8 instead of 17-20 changes the accuracy by "
        f"{steps[0].describe()}; taking exactly the official runs' pairs of drawers "
        f"instead of random pairs of 1-8 by {steps[1].describe()}; and the official "
        f"runs' own characters instead of fresh ones by {steps[2].describe()}. Of the "
        f"{100 * sum(s.mean for s in steps):.1f}-point gap, the steps beyond their "
        f"uncertainty account for {100 * real:.1f} points."
    )


def gap_by_alphabet() -> Markdown:
    """The drawer gap alphabet by alphabet."""
    gap = read_gap()
    groups = {
        "official runs": gap["official_runs"]["by_alphabet"],
        "protocol, drawers 1-8": gap["paper_protocol"][
            "drawers 1-8 (the official runs')"
        ]["by_alphabet"],
        "protocol, drawers 17-20": gap["paper_protocol"][
            "test drawers 17-20 (the split's)"
        ]["by_alphabet"],
    }
    return markdown_table(
        ["alphabet", *groups],
        [
            [
                alphabet_name(name),
                *(f"{100 * g[name]:.1f}" for g in groups.values()),
            ]
            for name in sorted(gap["official_runs"]["by_alphabet"])
        ],
        caption="20-way accuracy (%) by test alphabet",
    )


def drawer_identity() -> Markdown:
    """Whether a drawer number names one person across alphabets (``bench.drawers``)."""
    path = records.RESULTS_FOLDER / "drawers.json"
    if not path.exists():
        return Markdown(
            "Whether a drawer number names one person in every alphabet is not "
            "measured here yet (`python -m bench.drawers` measures it)."
        )
    figures = json.loads(path.read_text())
    return Markdown(
        "Is drawer 3 of a test alphabet the person who drew drawer 3 of the training "
        "alphabets? Each person draws with their own amount of ink, so `"
        f"{figures['command']}` correlated, for each of the {figures['characters']:,} "
        "characters, the ink of its 20 drawings drawer by drawer with every other "
        "character's. Two characters of one alphabet correlate at "
        f"{figures['same_alphabet']:.2f} on average, two characters of different "
        f"alphabets at {figures['different_alphabets']:.3f}, where numbers shuffled "
        f"within each character give at most {figures['permuted_largest']:.3f}. "
        "Within an alphabet a drawer number is one person; across alphabets the "
        "numbers are all but unrelated. So the official runs' drawers 1 to 8 are "
        "not the people whose drawings 1 to 8 of the background alphabets trained "
        "the network, and the gap below is not one of handwriting seen in training."
    )


def held_out_drawers() -> Markdown:
    """The fast recipe trained on background drawers 1-12 against 9-20, seed by seed: a
    table and the verdict under it; without the held-out rows, a note naming the command
    that records them."""
    fast = get_profile("fast")
    held_out = records.seed_rows(fast, HELD_OUT_ROWS)
    if not held_out:
        note = Markdown(
            "Training without drawers 1-8 is not recorded here yet: `python -m "
            "bench.drawers --train` records it."
        )
        return note
    usual = records.seed_rows(fast)

    def estimate(rows, key):
        return Estimate.over({r["seed"]: r[key] for r in rows}, "seed")

    rows, clauses = [], []
    for key, label in HELD_OUT_FIGURES.items():
        before, after = estimate(usual, key), estimate(held_out, key)
        change = difference(after, before)
        rows.append(
            [
                label,
                f"{100 * before.mean:.1f}",
                f"{100 * after.mean:.1f}",
                change.describe(),
            ]
        )
        clauses.append(f"the {label} by {change.describe()}")
    seeds = ", ".join(str(r["seed"]) for r in held_out)
    table = markdown_table(
        [
            "20-way accuracy",
            "drawers 1-12 (%)",
            "drawers 9-20 (%)",
            "difference, paired by seed",
        ],
        rows,
        caption=f"The fast recipe trained on two sets of 12 background drawers, seeds "
        f"{seeds} (`python -m bench.seeds`, `{held_out[0]['command'].rsplit(' --seeds', 1)[0]}`)",
    )
    sentence = (
        "Training on drawers 9-20, so that no training drawing shares a drawer number "
        "with the official runs' drawers 1-8, moves " + "; ".join(clauses) + "."
    )
    return Markdown(table.data + "\n\n" + sentence)
