"""The benchmarks run, and check what they claim, at the smoke profile's size.

Their figures are printed by ``python -m bench``, not asserted here: timings on a shared
CPU are too noisy to test. What is tested is that each benchmark runs and that the
evaluation benchmark's two methods agree.
"""

import dataclasses
import importlib
import json
import os

import numpy as np
import pytest

from bench import __main__ as bench_main
from bench import common, compute, evaluation, pipeline


def test_cached_and_per_pair_evaluation_agree_and_are_timed():
    # run() checks the two ways agree before it times them (check_agreement).
    (figure,) = evaluation.run(repeats=1, profile_name="smoke")
    assert (figure.measured, figure.baseline, figure.unit) == (
        "cached embeddings",
        "one model call per trial",
        "trials/s",
    )
    assert figure.value > 0 and figure.baseline_value > 0


def test_the_agreement_check_fails_on_other_scores_or_choices():
    scores = np.array([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1]], np.float32)
    answers = np.array([0, 1])
    evaluation.check_agreement(scores, scores + 1e-7, answers)
    with pytest.raises(AssertionError):
        evaluation.check_agreement(scores, scores[:, ::-1].copy(), answers)


def test_pipeline_benchmark_times_both_pipelines():
    figures = pipeline.run(steps=4, repeats=2, profile_name="smoke")
    assert [f.measured.split(",")[0] for f in figures] == [
        "paper recipe's pipeline (pairs",
        "paper recipe's distortion pool",
        "fast recipe's pipeline (episodes",
        "fast recipe's pipeline",
        "fast recipe's batches in memory",
    ]
    assert "pooled" in figures[0].measured and "warped" in figures[2].measured
    assert "autotuner off" in figures[3].measured
    assert "autotuner on" in figures[3].baseline
    # The in-memory baseline gives every timed step its own batch; the last row compares it
    # with a few batches cycled, which the processor's cache holds.
    assert "one per step" in figures[0].baseline
    assert "4 distinct" in figures[4].measured
    assert f"{pipeline.CYCLED_BATCHES} of them cycled" == figures[4].baseline
    assert all(f.value > 0 and f.baseline_value > 0 for f in figures)
    # The rows timed in pairs carry their ratio's interval; the pool's one-off time does not.
    assert figures[1].interval is None
    for paired in (figures[0], figures[2], figures[3], figures[4]):
        low, high = paired.interval
        assert low <= paired.ratio <= high
        assert f"[{low:.2f}, {high:.2f}]" in paired.ratio_text


def test_a_row_names_the_machine_and_its_processor():
    described = common.machine(system=True)
    assert f"{os.cpu_count()} CPUs" in described
    if common.processor():  # Linux names it in /proc/cpuinfo
        assert f"({common.processor()})" in described


def test_a_paired_ratio_interval_resamples_whole_pairs():
    # Each pair: the measured side took twice the baseline's time, so every resample agrees.
    assert common.paired_ratio_interval([2.0, 4.0, 6.0], [1.0, 2.0, 3.0]) == (
        0.5,
        0.5,
    )
    # Pairs that disagree give an interval that holds the ratio of the totals.
    low, high = common.paired_ratio_interval(
        [1.0, 1.0, 1.0, 1.0], [0.9, 1.0, 1.0, 1.1]
    )
    assert low < 1.0 < high
    with pytest.raises(ValueError, match="at least two pairs"):
        common.paired_ratio_interval([1.0], [1.0])


def test_compute_benchmark_counts_the_step_and_the_machine():
    (figure,) = compute.run(
        steps=3, repeats=1, profile_name="smoke", variants=("float32",)
    )
    assert figure.measured == "training step (float32)"
    assert (
        0 < figure.ratio < 1
    )  # no float32 training step beats a large float32 matrix product


def test_compute_benchmark_times_the_batch_normalised_step_on_the_same_count():
    plain, normalised = compute.run(
        steps=3,
        repeats=1,
        profile_name="smoke",
        variants=("float32", "float32, batch normalisation"),
    )
    assert normalised.measured == "training step (float32, batch normalisation)"
    # The multiply-adds are the convolutions' and the dense layers', normalised or not, so
    # the two steps' FLOP/s compare their times.
    assert normalised.baseline_value == plain.baseline_value
    assert 0 < normalised.ratio < 1


def test_compute_benchmark_times_the_bfloat16_step_against_both_ceilings():
    step, ceiling = compute.run(
        steps=3, repeats=1, profile_name="smoke", variants=("mixed bfloat16",)
    )
    assert (
        step.measured == "training step (mixed bfloat16)"
        and ceiling.measured == "bfloat16 matmul"
    )
    assert (
        step.baseline_value == ceiling.baseline_value
    )  # both against the float32 product
    assert step.value < ceiling.value


def test_unknown_benchmark_is_refused(capsys):
    with pytest.raises(SystemExit):
        bench_main.main(["--only", "pipeline,warp-drive"])
    assert "warp-drive" in capsys.readouterr().err


def test_every_recipe_variant_changes_the_recipe_fast_was_chosen_from():
    from bench import ablation
    from siamese_utils.profiles import get_profile
    from siamese_utils.recipe import RECIPES

    fast, base = get_profile("fast"), RECIPES["fast-no-batch-norm"]
    for name in ablation.RECIPE_VARIANTS:
        profile, recipe = ablation.recipe_variant(name)
        changed = profile != fast or recipe != base
        assert changed == (name != "recipe"), name
    # The fast recipe itself is the base with batch normalisation, trained 24 epochs.
    _, normalised = ablation.recipe_variant("recipe-batch-norm")
    assert RECIPES["fast"] == dataclasses.replace(
        normalised, max_epochs=24, patience=24
    )


def test_the_protocol_levers_change_the_current_fast_recipe_in_one_setting():
    from bench import ablation
    from siamese_utils.profiles import get_profile
    from siamese_utils.recipe import RECIPES

    fast_profile, fast = get_profile("fast"), RECIPES["fast"]
    levers = [n for n in ablation.RECIPE_VARIANTS if n.startswith("fast-")]
    assert levers
    for name in levers:
        profile, recipe = ablation.recipe_variant(name)
        changed = [
            field
            for field in dataclasses.fields(fast)
            if getattr(recipe, field.name) != getattr(fast, field.name)
        ] + [
            field
            for field in dataclasses.fields(fast_profile)
            if getattr(profile, field.name) != getattr(fast_profile, field.name)
        ]
        assert len(changed) == 1, (name, [f.name for f in changed])


def test_an_ensembles_members_are_its_seed_then_steps_of_a_hundred():
    from bench import test_time

    assert test_time.member_seeds(2015, 3) == [2015, 2115, 2215]
    # No two of the book's seeds share a member.
    members = [set(test_time.member_seeds(s, 5)) for s in (2015, 2016, 2017)]
    assert not (members[0] & members[1] or members[1] & members[2])


@pytest.mark.parametrize("option", [["--members", "1"], ["--views", "0"]])
@pytest.mark.parametrize("command", ["test_time", "all_drawers"])
def test_a_scoring_lever_needs_two_members_and_one_view(
    command, option, capsys
):
    module = importlib.import_module(f"bench.{command}")

    with pytest.raises(SystemExit):
        module.main(["--seeds", "2015", *option])
    least = {"--members": 2, "--views": 1}[option[0]]
    assert f"give {option[0]} {least} or more, not {option[1]}" in (
        capsys.readouterr().err
    )


def test_the_recorded_command_names_the_settings_that_differ_from_the_defaults():
    from bench import test_time

    argv = "--seeds 2015 2016 2017 --reduced --members 5 --turns 3 --views 8".split()
    assert test_time.command_line(test_time.parse_arguments(argv)) == (
        "python -m bench.test_time --seeds 2015 2016 2017 --reduced --members 5 "
        "--turns 3"
    )
    mixed = test_time.parse_arguments([*argv, "--plain-members", "10"])
    assert test_time.command_line(mixed).endswith(
        "--turns 3 --plain-members 10"
    )
    across = test_time.parse_arguments(
        "--seeds 2015 --members 3 --turns 3 --reduced-members 10".split()
    )
    assert test_time.command_line(across) == (
        "python -m bench.test_time --seeds 2015 --turns 3 --reduced-members 10"
    )


def test_reduced_members_join_only_the_profiles_own_networks(capsys):
    from bench import test_time

    with pytest.raises(SystemExit):
        test_time.main(
            ["--seeds", "2015", "--reduced", "--reduced-members", "5"]
        )
    assert "drop --reduced" in capsys.readouterr().err


def test_plain_members_without_turns_are_refused_before_any_training(capsys):
    from bench import test_time

    with pytest.raises(SystemExit):
        test_time.main(["--seeds", "2015", "--plain-members", "5"])
    assert "give --turns too" in capsys.readouterr().err


def test_turns_outside_zero_to_three_are_refused_before_any_training(capsys):
    from bench import test_time

    with pytest.raises(SystemExit):
        test_time.main(["--seeds", "2015", "--turns", "4"])
    assert "--turns takes 0 (none), 1, 2 or 3" in capsys.readouterr().err


def test_the_paper_recipe_rows_train_the_paper_recipe_for_the_fast_budget():
    import dataclasses

    from bench import ablation
    from siamese_utils.recipe import RECIPES

    fast = RECIPES["fast-no-batch-norm"]
    _, paper = ablation.recipe_variant("recipe-paper")
    assert paper == dataclasses.replace(
        RECIPES["paper"],
        steps_per_epoch=fast.steps_per_epoch,
        max_epochs=fast.max_epochs,
        patience=fast.patience,
    )
    _, fresh = ablation.recipe_variant("recipe-paper-fresh-distortions")
    assert fresh == dataclasses.replace(paper, distortion_pool=0)


def test_seed_runs_are_recorded_and_summarised_as_mean_and_spread(
    tmp_path, monkeypatch
):
    from bench import seeds

    monkeypatch.setattr(seeds, "RESULTS", tmp_path / "seeds.jsonl")
    monkeypatch.setattr(seeds, "RUNS", tmp_path / "results")
    monkeypatch.setattr(seeds, "SUMMARY", tmp_path / "seeds.json")
    first, second = (seeds.run("smoke", seed) for seed in (3, 4))
    assert (
        tmp_path / "results" / "seeds-smoke-seed3" / "results.json"
    ).exists()
    summary = seeds.summary("smoke")
    assert summary["seeds"] == [3, 4]
    official = [
        first["one_shot_official_runs"],
        second["one_shot_official_runs"],
    ]
    assert summary["figures"]["one_shot_official_runs"][
        "mean"
    ] == pytest.approx(np.mean(official))
    assert summary["figures"]["one_shot_official_runs"]["std"] == pytest.approx(
        np.std(official, ddof=1)
    )
    assert "| validation_one_shot |" in seeds.table("smoke")
    seeds.write_summary("smoke")
    assert json.loads((tmp_path / "seeds.json").read_text())["smoke"][
        "seeds"
    ] == [3, 4]


def test_measuring_a_chapter_the_book_lacks_is_refused():
    from bench import book

    with pytest.raises(ValueError, match="No chapters \\['99-nothing'\\]"):
        book.run(["99-nothing"])


def test_an_ablation_row_names_the_seed_that_repeats_it():
    from bench import ablation

    assert (
        ablation._command("recipe", 2015) == "python -m bench.ablation recipe"
    )
    assert (
        ablation._command("recipe-batch-norm", 2016)
        == "python -m bench.ablation recipe-batch-norm --seed 2016"
    )
    profile, recipe = ablation.recipe_variant("recipe-batch-norm")
    assert recipe.batch_norm and recipe.network_kwargs(profile)["batch_norm"]


def test_table_1_cells_train_the_papers_recipe_on_a_fixed_set_of_pairs():
    from bench import table1

    plain = table1.cell_recipe(30_000, "none", epochs=5)
    pooled = table1.cell_recipe(150_000, "pool", epochs=5, rate_scale=3.0)
    assert (plain.pair_set, plain.distortions, plain.distortion_pool) == (
        30_000,
        None,
        0,
    )
    assert (pooled.pair_set, pooled.distortion_pool) == (150_000, 8)
    assert plain.sampler == pooled.sampler == "pairs"
    assert plain.max_steps == pooled.max_steps == 500  # every cell as long
    assert pooled.learning_rate == pytest.approx(3 * plain.learning_rate)
    assert table1.parse_cell("90000:pool") == (90_000, "pool")
    for wrong in ("60000:none", "30000:fresh", "pool"):
        with pytest.raises(ValueError, match="SIZE:DISTORTIONS"):
            table1.parse_cell(wrong)


def test_equal_time_scales_every_learning_rate_of_the_papers_recipe():
    from bench import equal_time
    from siamese_utils.recipe import RECIPES

    paper = RECIPES["paper"]
    tripled = equal_time.paper_recipe(3.0, epochs=7)
    assert tripled.learning_rate == pytest.approx(3 * paper.learning_rate)
    assert tripled.layer_rates == {
        name: pytest.approx(3 * rate)
        for name, rate in paper.layer_rates.items()
    }
    assert (tripled.max_epochs, tripled.patience) == (7, 7)
    assert equal_time.paper_profile().batch_size == 128


def test_equal_time_runs_need_the_timing_first(tmp_path, monkeypatch):
    from bench import equal_time

    monkeypatch.setattr(equal_time, "TIMING", tmp_path / "equal-time.json")
    with pytest.raises(SystemExit, match="--time"):
        equal_time.budget()


def test_trial_draws_measure_one_network_on_independent_draws(tmp_path):
    from bench import trial_draws
    from siamese_utils import checkpoints, model
    from siamese_utils.profiles import get_profile

    smoke = get_profile("smoke")
    checkpoints.save_network(
        model.siamese_network(**smoke.network_kwargs()), tmp_path / "best.keras"
    )
    (tmp_path / "results.json").write_text(
        json.dumps({"validation_one_shot": 0.5})
    )
    figures = trial_draws.measure(tmp_path, draws=3)
    assert len(figures["accuracies"]) == 3 and figures["tasks"] == 320
    low, high = figures["central_95"]
    assert low - 1e-9 <= figures["mean"] <= high + 1e-9
    assert figures["sd"] >= 0
    assert figures["run_validation"] == 0.5


def test_the_scale_curve_changes_one_thing_a_point(tmp_path, monkeypatch):
    from bench import scale
    from siamese_utils.profiles import get_profile
    from siamese_utils.recipe import RECIPES

    fast, recipe = get_profile("fast"), RECIPES["fast"]
    profile, same_recipe = scale.point_settings("size", 105)
    assert profile == dataclasses.replace(fast, image_size=105)
    assert same_recipe == recipe
    same_profile, longer = scale.point_settings("epochs", 48)
    assert same_profile == fast
    assert longer == dataclasses.replace(recipe, max_epochs=48, patience=48)
    assert scale.parse_point("size:70") == ("size", 70)
    for wrong in ("size:64", "epochs:24", "width:2", "size"):
        with pytest.raises(ValueError, match="AXIS:VALUE"):
            scale.parse_point(wrong)


def test_a_scale_point_trains_and_records_its_protocol_score(
    tmp_path, monkeypatch
):
    from bench import scale

    monkeypatch.setattr(scale, "ROWS", tmp_path / "scale.jsonl")
    monkeypatch.setattr(scale, "RUNS", tmp_path)
    row = scale.train_point("size", 70, seed=1, profile_name="smoke")
    assert (row["image_size"], row["axis"], row["value"]) == (70, "size", 70)
    assert 0 <= row["one_shot_paper_protocol"] <= 1
    assert row["command"] == (
        "python -m bench.scale --points size:70 --seeds 1 --profile smoke"
    )
    recorded = json.loads((tmp_path / "scale.jsonl").read_text())
    assert recorded["one_shot_paper_protocol"] == row["one_shot_paper_protocol"]
