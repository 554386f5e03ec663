"""Chapter 6's report: tables and verdicts rendered from the recorded runs (bench/results).

These read the real records the book ships, the way chapter 6 does, from the book's folder.
"""

import json
import pathlib

import numpy as np
import pytest

from siamese_utils import choices, drawer_gap, paper_tables, records, report
from siamese_utils.profiles import get_profile
from siamese_utils.recipe import RECIPES
from siamese_utils.statistics import t_quantile

ROOT = pathlib.Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def from_the_book(monkeypatch):
    monkeypatch.chdir(ROOT / "book")


def test_one_seed_ablation_rows_carry_the_spread_of_their_base_recipes_seeds():
    seeds = records.seed_rows(
        get_profile("fast"), recipe=RECIPES[choices.ABLATION_BASE_RECIPE]
    )
    sd = np.std([r["validation_one_shot"] for r in seeds], ddof=1)
    half = 100 * t_quantile(len(seeds) - 1) * np.hypot(sd, sd)
    sentence = choices.ablation_verdicts(2015).data
    assert f"{100 * sd:.1f}-point standard deviation" in sentence
    # Every clause's interval is the difference plus or minus that same half-width.
    clauses = sentence.split("; ")
    assert len(clauses) == len(choices.ABLATION_STEPS)
    for clause in clauses:
        mean = float(clause.split(" points (95% interval ")[0].split()[-1])
        low, high = (
            float(v)
            for v in clause.split("95% interval ")[1]
            .split(",")[0]
            .split(" to ")
        )
        assert low == pytest.approx(mean - half, abs=0.11)
        assert high == pytest.approx(mean + half, abs=0.11)


def test_the_ablation_claims_only_what_exceeds_a_reseeding():
    clauses = {
        c.split(" moves it")[0].removeprefix("On the validation tasks, "): c
        for c in choices.ablation_verdicts(2015).data.split("; ")
    }
    ranking = next(
        c for k, c in clauses.items() if k.startswith("the ranking loss")
    )
    schedule = next(c for k, c in clauses.items() if "cosine schedule" in k)
    assert "beyond its uncertainty" in ranking
    assert "within its uncertainty" in schedule  # +6.2 points on one seed each


def test_the_gap_steps_add_up_to_the_whole_gap():
    gap = json.loads((records.RESULTS_FOLDER / "gap.json").read_text())
    late = gap["paper_protocol"]["test drawers 17-20 (the split's)"]["accuracy"]
    whole = 100 * (gap["official_runs"]["accuracy"] - late)
    assert f"Of the {whole:.1f}-point gap" in drawer_gap.gap_steps().data


def test_the_batch_norm_verdict_pairs_the_recorded_seeds():
    sentence = choices.batch_norm_verdicts().data
    assert sentence.count("of 3 seeds") == 2 and "95% interval" in sentence


def _page_results(official: float) -> dict:
    """The figures of a page's run that the report reads (a reproduction's results)."""
    return {
        "epochs_trained": 24,
        "steps_trained": 2400,
        "train_seconds": 400.0,
        "evaluation_seconds": 60.0,
        "hardware": {"description": "2 CPU cores (tensorflow)"},
        "best_epoch": 20,
        "validation_one_shot": 0.85,
        "one_shot_paper_protocol": 0.99,
        "one_shot_official_runs": official,
        "verification_accuracy": 0.9,
    }


def test_the_summary_sets_the_recorded_mean_not_one_run_beside_the_papers_figure():
    fast = get_profile("fast")
    summary = report.run_summary(fast, _page_results(0.95), 0.2).data
    mean = report.spread(records.seed_rows(fast), "one_shot_paper_protocol")
    assert "This one run scores 99.0% on the paper's protocol" in summary
    assert f"{mean}% on the paper's protocol" in summary and "92.0%" in summary


def test_a_page_run_is_checked_against_the_recorded_run_of_its_seed():
    fast = get_profile("fast")
    recorded = {r["seed"]: r for r in records.seed_rows(fast)}[2015]
    same = _page_results(recorded["one_shot_official_runs"])
    assert "repeats the recorded" in report.seed_check(fast, 2015, same).data
    other = _page_results(0.5)
    differs = report.seed_check(fast, 2015, other).data
    # Both causes are named, and the date of the record that may predate a code change.
    assert "rounds differently" in differs and "a change of the code" in differs
    assert (
        recorded["date"][:10] in differs and "python -m bench.seeds" in differs
    )
    assert "No run of seed 1" in report.seed_check(fast, 1, same).data


def test_the_drawer_sentence_reads_the_recorded_correlations():
    figures = json.loads((records.RESULTS_FOLDER / "drawers.json").read_text())
    sentence = drawer_gap.drawer_identity().data
    assert f"{figures['same_alphabet']:.2f} on average" in sentence
    assert "python -m bench.drawers" in sentence


class _Result:
    """What the MNIST rows read of an evaluate.OneShotResult."""

    def __init__(self, correct):
        self.correct = np.asarray(correct, bool)
        self.accuracy = float(self.correct.mean())


def test_the_mnist_rows_stand_beside_the_papers_table_3_with_intervals():
    network = _Result([True] * 300 + [False] * 100)
    pixels = _Result([True] * 200 + [False] * 200)
    table = paper_tables.mnist_table({"net": network, "pixels": pixels}).data
    assert "| net | 75.0 |" in table and "| pixels | 50.0 |" in table
    assert "70.3" in table and "26.5" in table and "400 MNIST trials" in table
    gain = paper_tables.mnist_gain(network, pixels).data
    assert "+25.0 points" in gain and "beyond its uncertainty" in gain


def test_the_headline_puts_each_paper_row_under_the_trials_it_was_measured_on():
    fast = get_profile("fast")
    results = _page_results(0.93)
    table = report.headline_table(
        fast, 2015, results, 0.93, {k: 0.2 for k in report.TEST_COLUMNS}
    ).data
    header = next(
        line for line in table.splitlines() if line.startswith("| model")
    )
    assert header.index("paper protocol") < header.index("official runs")
    assert (
        "| Convolutional Siamese Net (Koch et al., its protocol) | 92.0 | - |"
        in table
    )
    assert "| Humans (Lake et al., quoted by Koch et al.) | - | 95.5 |" in table
    assert "| this page's run, fast profile, seed 2015 | 99.0 | 93.0 |" in table


def test_training_without_drawers_1_to_8_is_compared_seed_by_seed():
    text = drawer_gap.held_out_drawers().data
    assert "drawers 9-20 (%)" in text and "paired by seed" in text
    assert text.count("95% interval") == len(drawer_gap.HELD_OUT_FIGURES) * 2


def test_missing_records_name_the_command_that_makes_them(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(records, "RESULTS_FOLDER", tmp_path)
    monkeypatch.setattr(drawer_gap, "HELD_OUT_ROWS", tmp_path / "none.jsonl")
    assert "bench.drawers --train" in drawer_gap.held_out_drawers().data
    assert "bench.trial_draws" in choices.trial_draw_disagreement(2015).data
    assert "bench.equal_time --time" in choices.equal_time_comparison().data


def test_the_validation_disagreement_is_set_against_the_spread_of_task_draws():
    text = choices.trial_draw_disagreement(2015).data
    assert "The two disagree by" in text
    assert ("within twice that" in text) != ("beyond twice that" in text)


def test_table_1_sets_each_cell_beside_the_papers_and_judges_each_effect(
    tmp_path, monkeypatch
):
    path = tmp_path / "table1.jsonl"
    monkeypatch.setattr(paper_tables, "TABLE_1_ROWS", path)
    assert "bench.table1" in paper_tables.table1_design().data
    rows = [
        {
            "pairs": pairs,
            "distortions": distortions,
            "seed": seed,
            "epochs": 20,
            "verification_accuracy": 0.80
            + 0.01 * (distortions == "pool")
            + 0.001 * seed,
        }
        for pairs in (30_000, 90_000, 150_000)
        for distortions in ("none", "pool")
        for seed in (1, 2, 3)
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    text = paper_tables.table1_design().data
    # Three seeds 0.1 points apart: the 95% half-width is t(2) x 0.058 = 0.25 points.
    assert "| 30,000 | 90.61 | 91.90 | 80.20 ± 0.25 | 81.20 ± 0.25 |" in text
    assert "mean ± half the 95% interval over seeds" in text
    # Pooled minus plain is +1 point on every seed: paired by seed, a certain effect.
    assert text.count("+1.0 points (95% interval +1.0 to +1.0, beyond") == 3
    assert "150,000 pairs against 30,000" in text


def test_a_chosen_rate_at_the_edge_of_the_sweep_is_said_to_be_at_the_edge():
    assert choices.largest_scale_note(3.0, [1.0, 3.0, 10.0]) == ""
    assert "a larger scale might do better" in choices.largest_scale_note(
        3.0, [1.0, 3.0]
    )
    # The paper's base rate of 0.01 times 10 is 0.1, the top of its search range.
    assert "outside that range" in choices.largest_scale_note(10.0, [3.0, 10.0])
