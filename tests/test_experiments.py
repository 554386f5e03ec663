"""A chapter's experiment: arms trained alike over seeds, scored on validation tasks only."""

import json

import numpy as np
import pytest

from siamese_utils import data, evaluate, experiments, profiles
from siamese_utils.recipe import recipe_for

SMOKE = profiles.get_profile("smoke")


@pytest.fixture(scope="module")
def stems():
    arms = [
        experiments.Arm("5x5 stem"),
        experiments.Arm("3x3 stem", {"kernel_sizes": (3, 3, 3, 2)}),
        experiments.Arm("plain L1", scoring="l1"),
    ]
    return experiments.run_experiment("stem", arms, SMOKE, seeds=(1, 2))


def _recorded(values: dict) -> experiments.Experiment:
    """An experiment from hand-written accuracies (label -> per-seed list)."""
    rows = [
        {
            "experiment": "demo",
            "arm": label,
            "seed": seed,
            "validation_one_shot": value,
            "train_seconds": 10.0,
            "steps": 500,
            "tasks": 320,
            "pixels": 0.2,
            "chance": 0.05,
            "profile": "fast",
        }
        for label, accuracies in values.items()
        for seed, value in zip((1, 2, 3), accuracies)
    ]
    return experiments.from_rows(rows, "demo")


def test_every_arm_is_scored_for_every_seed_on_the_validation_tasks(stems):
    assert [a.label for a in stems.arms] == ["5x5 stem", "3x3 stem", "plain L1"]
    assert all(sorted(a.accuracies) == [1, 2] for a in stems.arms)
    assert all(
        0.0 <= v <= 1.0 for a in stems.arms for v in a.accuracies.values()
    )
    assert stems.tasks == experiments.VALIDATION_TASKS
    assert stems.chance == pytest.approx(1 / SMOKE.n_way)
    tasks = experiments.validation_tasks(SMOKE)
    assert stems.pixels == evaluate.pixel_nearest_neighbour(tasks).accuracy
    # Validation alphabets only: the test alphabets stay unseen until the final report.
    assert set(tasks.groups) <= set(data.VALIDATION_ALPHABETS)


def test_arms_that_only_score_differently_share_one_trained_network(stems):
    head, plain = stems.arm("5x5 stem"), stems.arm("plain L1")
    assert head.seconds == plain.seconds  # one training, two ways to compare


def test_the_same_seed_gives_the_same_accuracies(stems):
    again = experiments.run_experiment(
        "stem", [experiments.Arm("5x5 stem")], SMOKE, seeds=(1,)
    )
    assert (
        again.arm("5x5 stem").accuracies[1]
        == stems.arm("5x5 stem").accuracies[1]
    )
    # A single-seed run keeps its trained network for the chapter to look inside; it is
    # the network that scored, so scoring it again gives the same accuracy.
    network = again.networks["5x5 stem"]
    tasks = experiments.validation_tasks(SMOKE)
    choices = evaluate.pick_candidates(
        evaluate.siamese_scores(network, tasks), 1
    )
    assert np.mean(choices == tasks.answers) == again.arm("5x5 stem").mean
    assert stems.networks == {}  # several seeds: no single network to keep


def test_the_table_gives_mean_spread_interval_and_the_chance_and_pixel_rows():
    demo = _recorded(
        {"reference": [0.70, 0.72, 0.74], "other": [0.5, 0.6, 0.7]}
    )
    rows = {row[0]: row for row in demo.table_rows()}
    assert rows["reference"][1:4] == ["72.0", "2.0", "67.0 to 77.0"]
    assert (
        rows["chance"][1] == "5.0"
        and rows["1-nearest neighbour in pixels"][1] == "20.0"
    )
    assert "320 validation tasks" in demo.table().data


def test_the_verdict_claims_only_differences_beyond_their_uncertainty():
    clear = _recorded(
        {"reference": [0.70, 0.72, 0.74], "worse": [0.50, 0.51, 0.53]}
    )
    assert "beyond its uncertainty" in clear.verdict("reference")
    noisy = _recorded(
        {"reference": [0.70, 0.72, 0.74], "other": [0.74, 0.69, 0.72]}
    )
    sentence = noisy.verdict("reference")
    assert "within its uncertainty" in sentence and "beyond" not in sentence


def test_one_seed_is_never_called_a_real_difference(stems):
    single = experiments.from_rows(
        [r for r in stems.rows("cmd", _smoke_recipe()) if r["seed"] == 1],
        "stem",
    )
    assert "no verdict" in single.verdict("5x5 stem")


def _smoke_recipe():
    from siamese_utils.recipe import recipe_for

    return recipe_for(SMOKE, "experiment")


def test_recorded_rows_give_back_the_same_experiment(stems):
    rows = stems.rows("python -m bench.experiments stem", _smoke_recipe())
    assert len(rows) == 6 and rows[0]["command"].startswith("python -m bench")
    again = experiments.from_rows(rows, "stem")
    assert [a.accuracies for a in again.arms] == [
        a.accuracies for a in stems.arms
    ]
    assert again.pixels == stems.pixels and again.steps == stems.steps


def test_a_live_run_outside_the_recorded_prediction_fails():
    recorded = _recorded({"reference": [0.70, 0.72, 0.74]})
    inside = _recorded({"reference": [0.71]})
    experiments.check_live(inside, recorded)
    outside = _recorded({"reference": [0.40]})
    with pytest.raises(AssertionError, match="outside"):
        experiments.check_live(outside, recorded)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: experiments.Arm("x", scoring="euclid"), "head, l1, cosine"),
        (
            lambda: experiments.run_experiment(
                "x", [experiments.Arm("a"), experiments.Arm("a")], SMOKE
            ),
            "different labels",
        ),
        (
            lambda: experiments.run_experiment(
                "x", [experiments.Arm("a")], SMOKE, seeds=()
            ),
            "at least one seed",
        ),
        (
            lambda: experiments.run_experiment(
                "x", [experiments.Arm("a", {"stem_width": 3})], SMOKE
            ),
            "does not take",
        ),
        (
            lambda: experiments.from_rows([], "stem"),
            "python -m bench.experiments",
        ),
    ],
)
def test_impossible_experiments_are_refused_with_the_fix(call, message):
    with pytest.raises((ValueError, KeyError), match=message):
        call()


# The chapters' experiments ---------------------------------------------------------------


def test_each_chapter_experiment_puts_its_reference_arm_first_at_the_fast_size():
    fast = profiles.get_profile("fast")
    labels = {
        name: [arm.label for arm in experiments.chapter_arms(name, fast)]
        for name in experiments.CHAPTER_EXPERIMENTS
    }
    assert labels["stem"] == [
        "5x5 stem (the paper's 10x10, scaled)",
        "3x3 stem",
        "7x7 stem",
    ]
    assert labels["encoder"] == [
        "1,024 units",
        "256 units",
        "4,096 units",
        "1,024 units, no sigmoid",
    ]
    assert labels["twin"][0] == "the paper's initialisation"
    assert len(labels["block"]) == 3 and len(labels["classifier"]) == 3
    # The reference arm is the profile's own network.
    for name in ("stem", "block", "encoder", "twin"):
        assert experiments.chapter_arms(name, fast)[0].network == {}


def test_a_stem_the_image_cannot_hold_is_left_out():
    stems = experiments.chapter_arms("stem", SMOKE)
    assert all(
        "7x7" not in arm.label for arm in stems
    )  # 32 px with kernels (7, 3, 3, 2) leaves no pixels


def test_an_unknown_experiment_names_the_known_ones():
    with pytest.raises(ValueError, match="twin, stem, block, encoder"):
        experiments.chapter_arms("head", SMOKE)


def test_the_command_records_rows_the_table_reads_back(tmp_path, capsys):
    from bench import experiments as command

    path = tmp_path / "experiments.jsonl"
    result = command.run("twin", "smoke", [1], path=path)
    rows = command.recorded(path)
    assert [r["arm"] for r in rows] == [a.label for a in result.arms]
    assert rows[0]["command"].startswith("python -m bench.experiments twin")
    assert experiments.from_rows(rows, "twin").arms[0].accuracies == (
        result.arms[0].accuracies
    )
    with pytest.raises(SystemExit):
        command.main(["recipe"])
    assert "unknown: recipe" in capsys.readouterr().err
    # An arm added later is trained alone, and its rows join the recorded ones.
    later = "the design document's initialisation"
    command.run("twin", "smoke", [2], path=path, labels=[later])
    added = command.recorded(path)[len(rows) :]
    assert [r["arm"] for r in added] == [later]
    assert '--arm "the design' in added[0]["command"]
    with pytest.raises(ValueError, match="has no arm 'wider'"):
        command.run("twin", "smoke", [1], path=path, labels=["wider"])


def test_an_interval_that_prints_as_reaching_zero_is_not_called_a_difference():
    # Differences -0.06, -0.10, -0.14: the interval's upper end is -0.0005 points.
    edge = _recorded(
        {"reference": [0.7, 0.7, 0.7], "other": [0.64025, 0.6, 0.55975]}
    )
    _, high = edge.difference("other", "reference").interval
    assert -0.001 < 100 * high < 0
    assert "within its uncertainty" in edge.verdict("reference")


def test_a_chapter_reads_a_recorded_experiment_or_learns_there_is_none(
    tmp_path,
):
    record = tmp_path / "experiments.jsonl"
    assert experiments.recorded("stem", record) is None  # no record at all
    demo = _recorded({"a": [0.5, 0.6, 0.7]})
    rows = demo.rows("python -m bench.experiments demo", recipe_for(SMOKE))
    record.write_text("".join(json.dumps(row) + "\n" for row in rows))
    assert (
        experiments.recorded("stem", record) is None
    )  # another experiment's rows
    assert experiments.recorded("demo", record) == demo


def test_a_chapter_is_shown_the_record_only_after_its_live_run_agrees(tmp_path):
    record = tmp_path / "experiments.jsonl"
    inside = _recorded({"a": [0.6]})
    none, note = experiments.recorded_table(inside, record)
    assert none is None and "python -m bench.experiments demo" in note.data
    demo = _recorded({"a": [0.5, 0.6, 0.7], "b": [0.55, 0.65, 0.75]})
    rows = demo.rows("python -m bench.experiments demo", recipe_for(SMOKE))
    record.write_text("".join(json.dumps(row) + "\n" for row in rows))
    shown, table = experiments.recorded_table(inside, record)
    assert shown == demo and table.data == demo.table().data
    assert shown.verdict() == demo.verdict(
        "a"
    )  # the first arm is the reference
    with pytest.raises(AssertionError, match="outside"):
        experiments.recorded_table(_recorded({"a": [0.05]}), record)
