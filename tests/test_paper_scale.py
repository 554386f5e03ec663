"""Chapter 6's runs at the paper's scale: the recorded GPU runs are what the page says they
are, and the table and verdict compare them with the fast profile on the same seeds."""

import json

from siamese_utils import checkpoints, paper_scale, profiles, recipe, records

FAST = {
    seed: {
        "seed": seed,
        "validation_one_shot": validation,
        "one_shot_official_runs": 0.92,
        "one_shot_paper_protocol": protocol,
    }
    for seed, validation, protocol in [
        (1, 0.88, 0.82),
        (2, 0.84, 0.75),
        (3, 0.81, 0.78),
    ]
}


def gpu_run(seed, validation, protocol):
    return {
        "seed": seed,
        "epochs_trained": 24,
        "train_seconds": 102.0,
        "hardware": {"description": "NVIDIA H100 (jax)"},
        "validation_one_shot": validation,
        "one_shot_official_runs": 0.91,
        "one_shot_paper_protocol": protocol,
        "verification_accuracy": 0.925,
        "command": f"python -m siamese_utils train --profile paper --recipe fast --seed {seed}",
    }


def test_the_recorded_runs_are_the_fast_recipe_on_the_paper_profiles_network():
    runs = paper_scale.fast_at_paper_scale_runs()
    assert sorted(runs) == [2015, 2016, 2017]
    paper = profiles.get_profile("paper")
    for seed, run in runs.items():
        assert json.loads(
            json.dumps(recipe.recorded_recipe(run["recipe"]))
        ) == json.loads(json.dumps(recipe.RECIPES["fast"].as_dict()))
        assert records.same_network(
            run["network"], paper, recipe.RECIPES["fast"]
        )
        assert (
            run["hardware"]["backend"] == "jax"
            and run["hardware"]["accelerators"]
        )
        # The whole schedule: a run cut by its time budget would not be the fast recipe.
        assert run["stopped_by"] == "max epochs"
        assert (
            f"--seed {seed}" in run["command"]
            and "--recipe fast" in run["command"]
        )
        history = checkpoints.read_history(
            paper_scale.FAST_AT_PAPER_SCALE / f"seed{seed}" / "history.csv"
        )
        assert len(history["val_one_shot"]) == run["epochs_trained"]
        assert max(history["val_one_shot"]) == run["validation_one_shot"]


def test_the_table_shows_each_seed_their_mean_the_fast_profile_and_the_paper():
    runs = {s: gpu_run(s, 0.80, 0.78) for s in (1, 2, 3)}
    table = paper_scale.fast_at_paper_scale_table(runs, FAST).data
    rows = [line for line in table.splitlines() if line.startswith("| ")][2:]
    assert [row.split(" | ")[0] for row in rows[:3]] == [
        f"| seed {s}: 24 epochs, 1.7 min on NVIDIA H100 (jax)"
        for s in (1, 2, 3)
    ]
    assert rows[3].startswith("| mean of 3 seeds | 80.0 | 91.0 | 78.0 | 92.5 |")
    # The fast rows record no verification accuracy: a dash, not a made-up figure.
    assert rows[4] == (
        "| fast profile (52 px, CPU), mean of the same 3 seeds | 84.3 | 92.0 | 78.3 | - |"
    )
    assert "| 92.0 |" in rows[5]
    assert "--seed 1" in table.splitlines()[0]
    empty = paper_scale.fast_at_paper_scale_table({}, FAST).data
    assert "bench/gpu.sh" in empty


def test_the_verdict_follows_the_protocols_difference_and_its_interval():
    # The protocol moves by +1, -2 and +0.5 points: a mean near zero, within its spread.
    level = {
        s: gpu_run(
            s, r["validation_one_shot"], r["one_shot_paper_protocol"] + shift
        )
        for (s, r), shift in zip(FAST.items(), (0.01, -0.02, 0.005))
    }
    text = paper_scale.fast_at_paper_scale_findings(level, FAST).data
    assert "did not move the protocol score beyond its uncertainty" in text
    assert "for 24 epochs" in text and "points below the paper's 92.0%" in text
    higher = {
        s: gpu_run(s, 0.9, r["one_shot_paper_protocol"] + 0.06 + 0.001 * s)
        for s, r in FAST.items()
    }
    text = paper_scale.fast_at_paper_scale_findings(higher, FAST).data
    assert "raised the protocol score beyond its uncertainty" in text
    # Seeds the fast profile never ran are left out; none in common, nothing to say.
    assert (
        paper_scale.fast_at_paper_scale_findings(
            {9: gpu_run(9, 0.8, 0.8)}, FAST
        ).data
        == ""
    )
