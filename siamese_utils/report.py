"""Chapter 6's tables and verdict sentences, rendered from a run's results and the records.

The chapter trains and looks inside; what it reports about recorded runs (the seeds of each
recipe, the benchmarks) is bookkeeping, and lives here so that the page shows one call per
table; the drawer gap has a module of its own, :mod:`siamese_utils.drawer_gap`, and so do
the paper's Tables 1 and 3, :mod:`siamese_utils.paper_tables`, and the GPU runs at the
paper's scale, :mod:`siamese_utils.paper_scale`. Every function reads ``bench/results`` (through
:mod:`siamese_utils.records`) and returns what a notebook displays: a Markdown table
(:func:`siamese_utils.display.markdown_table`) or a Markdown sentence. Every "is it real"
verdict goes through the book's one rule, :func:`siamese_utils.statistics.difference`.
"""

from __future__ import annotations

import json

import numpy as np
from IPython.display import Markdown

from siamese_utils import evaluate, records
from siamese_utils.display import markdown_table
from siamese_utils.profiles import get_profile

# The figures a reproduction records, in the order the seed table shows them.
SEED_FIGURES = {
    "validation_one_shot": "validation one-shot (%)",
    "one_shot_official_runs": "official runs (%)",
    "one_shot_paper_protocol": "paper protocol (%)",
    "verification_accuracy": "verification (%)",
}
TEST_COLUMNS = {
    "one_shot_paper_protocol": "paper protocol, test drawers (400 trials)",
    "one_shot_official_runs": "official runs (400 trials)",
}


def percent(row: dict, key: str) -> str:
    """A recorded fraction as a percentage to 0.1, or ``-`` when the row lacks it."""
    return f"{100 * row[key]:.1f}" if key in row else "-"


def spread(rows: list[dict], key: str) -> str:
    """Mean ± standard deviation (%) of a figure over recorded seeds."""
    values = np.array([r[key] for r in rows])
    if len(values) < 2:
        return "-"
    return f"{100 * values.mean():.1f} ± {100 * values.std(ddof=1):.1f}"


def verification_table(results: dict, profile_name: str) -> Markdown:
    """The paper's Table 1 beside this run's verification accuracy on test pairs."""
    episode = (
        "episodes" if results["recipe"]["sampler"] == "all-pairs" else "batches"
    )
    ours = [
        f"this book, {profile_name} profile ({results['hardware']['description']})",
        f"{results['pairs_trained']:,} scored ({results['steps_trained']:,} {episode})",
        f"{100 * results['verification_accuracy']:.2f}",
    ]
    paper = [
        [
            f"paper, {n:,} pairs / {n:,} x 8 affine",
            f"a set of {n:,} / {9 * n:,}",
            f"{a:.2f} / {b:.2f}",
        ]
        for n, (a, b) in evaluate.PAPER_TABLE_1.items()
    ]
    return markdown_table(
        ["model", "pairs in training", "verification accuracy (%)"],
        [*paper, ours],
        caption="Verification on test pairs (negatives drawn across the test "
        "alphabets, as in the paper): the paper's Table 1 and this run",
    )


def headline_table(
    profile, seed: int, results: dict, page_official: float, pixels: dict
) -> Markdown:
    """20-way one-shot accuracy, like for like: the recorded seeds of each CPU profile, this
    page's run and pixel nearest neighbours (``pixels``: column key -> accuracy) on both
    sets of trials; the paper's own rows in the protocol's column, and the methods it
    quotes from Lake et al. in the official runs' column, where they were measured.
    """
    rows = []
    for name in dict.fromkeys([profile.name, "fast", "laptop"]):
        recorded = records.seed_rows(get_profile(name))
        if len(recorded) >= 3:
            seeds = ", ".join(str(r["seed"]) for r in recorded)
            rows.append(
                [f"this book, {name} profile, seeds {seeds} (mean ± sd)"]
                + [spread(recorded, key) for key in TEST_COLUMNS]
            )
    page = {"one_shot_paper_protocol": results["one_shot_paper_protocol"]}
    page["one_shot_official_runs"] = page_official
    for label, figures in [
        (f"this page's run, {profile.name} profile, seed {seed}", page),
        (f"1-nearest neighbour in pixels at {profile.image_size} px", pixels),
    ]:
        rows.append(
            [label] + [f"{100 * figures[key]:.1f}" for key in TEST_COLUMNS]
        )
    for label, value in evaluate.PAPER_TABLE_2.items():
        own = label in evaluate.PAPER_PROTOCOL_ROWS
        source = (
            "Koch et al., its protocol"
            if own
            else "Lake et al., quoted by Koch et al."
        )
        figure = f"{value:.1f}"
        rows.append(
            [
                f"{label} ({source})",
                figure if own else "-",
                "-" if own else figure,
            ]
        )
    return markdown_table(
        ["model", *TEST_COLUMNS.values()],
        rows,
        caption="20-way one-shot accuracy (%), like for like: the recorded seeds, this "
        "page's run and the rows of the paper's Table 2, each under the trials it "
        "was measured on",
    )


def run_summary(profile, results: dict, pixels_official: float) -> Markdown:
    """What this page's run did, and the recipe's recorded mean beside the paper's 92.0."""
    seeds = records.seed_rows(profile)
    text = (
        f"The {profile.name} recipe trained for {results['epochs_trained']} epochs "
        f"({results['steps_trained']} steps; {results['train_seconds']:.0f} s of "
        f"training steps on {results['hardware']['description']}, and "
        f"{results['evaluation_seconds']:.0f} s more for the validation after every "
        "epoch and the final test scoring) and kept epoch "
        f"{results['best_epoch']} (validation one-shot "
        f"{100 * results['validation_one_shot']:.1f}%). This one run scores "
        f"{100 * results['one_shot_paper_protocol']:.1f}% on the paper's protocol and "
        f"{100 * results['one_shot_official_runs']:.1f}% on the official runs "
        f"(pixel nearest neighbours: {100 * pixels_official:.1f}%)."
    )
    if len(seeds) >= 2:
        text += (
            f" Over its {len(seeds)} recorded seeds the recipe scores "
            f"{spread(seeds, 'one_shot_paper_protocol')}% on the paper's protocol, "
            "the only evaluation on which the paper reported its "
            f"{evaluate.PAPER_TABLE_2['Convolutional Siamese Net']:.1f}%, and "
            f"{spread(seeds, 'one_shot_official_runs')}% on the official runs."
        )
    return Markdown(
        text + f" Its verification accuracy on test pairs is "
        f"{100 * results['verification_accuracy']:.1f}%, against the paper's 90.6 "
        "to 93.4%."
    )


def seed_table(profile) -> Markdown:
    """Every recorded seed of ``profile``'s recipe, with their mean ± sd."""
    rows = records.seed_rows(profile)
    if not rows:
        return Markdown(
            f"No seed runs of the {profile.name} recipe are recorded yet "
            f"(`python -m bench.seeds --profile {profile.name}` records them)."
        )
    seconds = f"{np.mean([r['train_seconds'] for r in rows]):.0f}"
    return markdown_table(
        ["seed", *SEED_FIGURES.values(), "training (s)"],
        [
            [
                r["seed"],
                *(percent(r, k) for k in SEED_FIGURES),
                f"{r['train_seconds']:.0f}",
            ]
            for r in rows
        ]
        + [["mean ± sd", *(spread(rows, k) for k in SEED_FIGURES), seconds]],
        caption=f"The {profile.name} recipe over seeds, recorded by `python -m "
        f"bench.seeds --profile {profile.name}` on {rows[0]['machine']}",
    )


def seed_check(profile, seed: int, results: dict) -> Markdown:
    """Whether this page's run repeated the recorded run of its seed, and if not why."""
    recorded = {r["seed"]: r for r in records.seed_rows(profile)}.get(seed)
    key = "one_shot_official_runs"
    if recorded is None:
        return Markdown(
            f"No run of seed {seed} is recorded to compare this page's run with."
        )
    if abs(recorded[key] - results[key]) < 1e-9:
        return Markdown(
            f"This page's run repeats the recorded seed-{seed} run exactly "
            f"({100 * results[key]:.1f}% on the official runs), as a seeded run on "
            "one machine does."
        )
    return Markdown(
        f"This page's run ({results['hardware']['description']}) gave "
        f"{100 * results[key]:.1f}% on the official runs where the recorded "
        f"seed-{seed} run ({recorded['machine']}, {recorded['date'][:10]}) gave "
        f"{100 * recorded[key]:.1f}%. A seeded run repeats exactly only with the same "
        "code, package versions and processor (README, Determinism): another processor "
        "rounds differently, and a change of the code since the record (in the "
        "validation draw, say) trains another network. The table above is the record; "
        "`python -m bench.seeds` records the seeds again with the code of the day."
    )


def benchmark_table() -> Markdown:
    """The latest run of each benchmark (``python -m bench``, ``latest.json``): what was
    measured against what, in the same run, the ratio with its interval, and the target."""
    path = records.RESULTS_FOLDER / "latest.json"
    if not path.exists():
        return Markdown(
            "No benchmark is recorded yet (`python -m bench` records them)."
        )

    def amount(value, unit):
        return f"{value:,.2f} {unit}"

    parts = []
    for run in json.loads(path.read_text())["runs"].values():
        rows = [
            [
                f"{f['measured']}: {amount(f['value'], f['unit'])}",
                f"{f['baseline']}: {amount(f['baseline_value'], f['unit'])}",
                f"{f['ratio']:.2f}"
                + (
                    " [{:.2f}, {:.2f}]".format(*f["interval"])
                    if f["interval"]
                    else ""
                ),
                f["target"],
            ]
            for f in run["figures"]
        ]
        parts.append(
            markdown_table(
                ["measured", "baseline (same run)", "ratio [95%]", "target"],
                rows,
                caption=f"{run['figures'][0]['benchmark']}: `{run['command']}`, "
                f"{run['date'][:10]}, {run['machine']}",
            ).data
        )
    return Markdown("\n\n".join(parts))


def chapter_costs_table() -> Markdown:
    """Each chapter's recorded time and peak memory (``python -m bench --only book``)."""
    chapters = json.loads((records.RESULTS_FOLDER / "book.json").read_text())[
        "chapters"
    ]
    first = next(iter(chapters.values()))
    return markdown_table(
        ["chapter", "time (min)", "peak memory (GiB)", "measured"],
        [
            [
                name,
                f"{cost['seconds'] / 60:.1f}",
                f"{cost['peak_bytes'] / 2**30:.1f}",
                cost["date"][:10],
            ]
            for name, cost in chapters.items()
        ],
        caption=f"Each chapter executed in the `{first['profile']}` profile by "
        f"`{first['command']}` on {first['machine']}",
    )
