"""Chapter 6's levers on the protocol: each recorded lever sits beside the fast recipe on the
same seeds, is judged on validation with an interval, and the best protocol score is held
against the 85% target."""

import json

import pytest

from siamese_utils import protocol_levers

FAST = {
    seed: {
        "seed": seed,
        "validation_one_shot": validation,
        "one_shot_paper_protocol": protocol,
        "train_seconds": 300.0,
    }
    for seed, validation, protocol in [
        (1, 0.88, 0.82),
        (2, 0.84, 0.75),
        (3, 0.81, 0.78),
    ]
}


def ablation_row(name, seed, validation, protocol, seconds=600.0):
    return {
        "name": name,
        "description": f"the fast recipe, {name}",
        "seed": seed,
        "validation_one_shot": validation,
        "one_shot_paper_protocol": protocol,
        "train_seconds": seconds,
        "command": f"python -m bench.ablation {name}",
    }


def test_a_training_lever_is_paired_with_the_fast_run_of_its_own_seed():
    rows = [
        ablation_row("fast-width-1.5", 1, 0.90, 0.84),
        ablation_row(
            "recipe-batch-norm", 1, 0.99, 0.99
        ),  # an older base: not a lever
        ablation_row("fast-width-1.5", 9, 0.99, 0.99),  # no fast run of seed 9
    ]
    (lever,) = protocol_levers.training_levers(rows, FAST)
    assert lever.name == "fast-width-1.5" and lever.seeds == [1]
    assert lever.baseline["validation_one_shot"] == {1: 0.88}
    assert lever.minutes == pytest.approx(10.0)


def test_a_scoring_lever_keeps_the_latest_row_per_seed_and_its_own_baseline():
    rows = [
        {
            "lever": "ensemble-3",
            "description": "three networks",
            "seed": seed,
            "members": [seed, seed + 100, seed + 200],
            "validation_one_shot": validation,
            "one_shot_paper_protocol": validation - 0.05,
            "validation_one_shot_alone": validation - 0.02,
            "one_shot_paper_protocol_alone": validation - 0.08,
            "train_seconds": 900.0,
            "command": "python -m bench.test_time",
        }
        for seed, validation in [(1, 0.5), (1, 0.9), (2, 0.86), (3, 0.83)]
    ]
    (lever,) = protocol_levers.scoring_levers(rows)
    assert lever.scores["validation_one_shot"] == {1: 0.9, 2: 0.86, 3: 0.83}
    before, after = (
        lever.estimates("one_shot_paper_protocol")[1].mean,
        lever.estimates("one_shot_paper_protocol")[0].mean,
    )
    assert after - before == pytest.approx(0.03)
    assert lever.minutes == pytest.approx(15.0)


def test_a_lever_on_the_reduced_network_says_it_starts_from_that_network():
    rows = [
        {
            "lever": "ensemble-5-35px",
            "description": "five networks on 35x35 images",
            "image_size": 35,
            "seed": seed,
            "validation_one_shot": 0.9,
            "one_shot_paper_protocol": 0.86,
            "validation_one_shot_alone": 0.85,
            "one_shot_paper_protocol_alone": 0.78,
            "train_seconds": 900.0,
            "command": "python -m bench.test_time --reduced",
        }
        for seed in FAST
    ]
    levers = protocol_levers.scoring_levers(rows)
    assert levers[0].baseline_name == "the fast recipe's 35x35 network"
    text = protocol_levers.levers_findings(levers, FAST).data
    assert (
        "ensemble-5-35px (against the fast recipe's 35x35 network alone)"
        in text
    )
    assert "(the fast recipe's 35x35 network alone on the same seeds" in text
    table = protocol_levers.levers_table(levers, FAST).data
    assert (
        "ensemble-5-35px starts from the fast recipe's 35x35 network" in table
    )


def test_turned_characters_are_a_training_lever_on_the_same_seeds_networks_alone():
    def row(lever, seed, members, turns, alone, seconds):
        return {
            "lever": lever,
            "description": lever,
            "image_size": 35,
            "seed": seed,
            "members": members,
            "quarter_turns": turns,
            "validation_one_shot": alone + 0.03,
            "one_shot_paper_protocol": alone,
            "validation_one_shot_alone": alone,
            "one_shot_paper_protocol_alone": alone - 0.05,
            "train_seconds": seconds,
            "command": f"python -m bench.test_time --reduced{' --turns 3' * bool(turns)}",
        }

    rows = [
        row("distortion-averaging-35px", 1, [1], 0, 0.80, 170.0),
        row("ensemble-2-35px", 1, [1, 101], 0, 0.80, 340.0),
        row("distortion-averaging-35px", 2, [2], 0, 0.82, 170.0),
        row("distortion-averaging-35px-turns3", 1, [1], 3, 0.86, 180.0),
        row("ensemble-2-35px-turns3", 1, [1, 101], 3, 0.86, 360.0),
        # Another command's row on the same network: not the one that times it.
        row("centred-0.5-35px-turns3", 1, [1], 3, 0.50, 999.0),
        # No plain network of seed 3 to stand beside this one.
        row("distortion-averaging-35px-turns3", 3, [3], 3, 0.99, 180.0),
    ]
    (lever,) = protocol_levers.turned_levers(rows)
    assert lever.name == "turns3-35px" and lever.kind == "training"
    assert lever.seeds == [1]
    assert lever.scores["validation_one_shot"] == {1: 0.86}
    assert lever.baseline["validation_one_shot"] == {1: 0.80}
    assert lever.baseline["one_shot_paper_protocol"] == {1: pytest.approx(0.75)}
    assert lever.minutes == pytest.approx(3.0)
    assert lever.baseline_name == "the fast recipe's 35x35 network"
    # The turned ensemble starts from the turned network, and says so.
    scoring = {
        lever.name: lever for lever in protocol_levers.scoring_levers(rows)
    }
    assert (
        scoring["ensemble-2-35px-turns3"].baseline_name
        == "the fast recipe's 35x35 network with turned characters"
    )
    assert (
        scoring["ensemble-2-35px"].baseline_name
        == "the fast recipe's 35x35 network"
    )


def test_the_first_rows_naming_no_size_are_the_fast_networks_turned_baseline():
    def row(turns, alone, **size):
        return {
            "lever": "distortion-averaging" + ("-turns3" if turns else ""),
            "seed": 1,
            "members": [1],
            **({"quarter_turns": turns} if turns else {}),
            "validation_one_shot_alone": alone,
            "one_shot_paper_protocol_alone": alone - 0.05,
            "train_seconds": 300.0,
            "command": "python -m bench.test_time",
            **size,
        }

    # The fast profile's own network, recorded before rows carried their size.
    plain = row(0, 0.84)
    (lever,) = protocol_levers.turned_levers(
        [plain, row(3, 0.88, image_size=52)]
    )
    assert lever.name == "turns3-52px"
    assert lever.baseline["validation_one_shot"] == {1: 0.84}
    assert lever.scores["validation_one_shot"] == {1: 0.88}


def test_one_seed_carries_the_fast_recipes_seed_spread_and_gets_an_interval():
    rows = [ablation_row("fast-width-1.5", 1, 0.90, 0.84)]
    (lever,) = protocol_levers.training_levers(rows, FAST)
    spread = protocol_levers.validation_spread(FAST)
    assert spread[1] == 2
    after, before = lever.estimates("validation_one_shot", spread)
    assert after.half_width == pytest.approx(before.half_width)
    assert after.half_width == pytest.approx(4.303 * spread[0])


def test_the_findings_name_the_verdict_and_hold_the_best_against_the_target():
    rows = [
        ablation_row(
            name, seed, FAST[seed]["validation_one_shot"] + gain, 0.8 + gain
        )
        for name, gain in [("fast-a", 0.05), ("fast-b", -0.01)]
        for seed in FAST
    ]
    levers = protocol_levers.training_levers(rows, FAST)
    text = protocol_levers.levers_findings(levers, FAST).data
    assert "fast-a: +5.0 points" in text and "fast-b: -1.0 points" in text
    assert "Gains beyond their uncertainty on validation: fast-a." in text
    # fast-b lost the same point on every seed: a loss beyond its uncertainty.
    assert "Losses beyond their uncertainty: fast-b." in text
    assert (
        "fast-a (the best validation mean, 89.3%) scores 85.0% on the protocol"
        in text
    )
    assert "The best protocol mean" not in text
    assert (
        "(the fast recipe's network alone on the same seeds and trials: 78.3%)"
        in text
    )
    assert "reaching the 85% target" in text
    # The same protocol score on every seed: an interval of one point, at the target.
    assert (
        "85.0% on the protocol, 95% interval 85.0 to 85.0 over its seeds"
        in text
    )
    assert "interval reaches below" not in text
    table = protocol_levers.levers_table(levers, FAST).data
    assert "84.3 → 89.3 (+5.0 points)" in table


def test_a_mean_at_the_target_whose_interval_reaches_below_it_is_called_so():
    protocols = dict(zip(FAST, (0.82, 0.85, 0.89)))
    rows = [
        ablation_row(
            "fast-a", seed, FAST[seed]["validation_one_shot"] + 0.05, protocol
        )
        for seed, protocol in protocols.items()
    ]
    levers = protocol_levers.training_levers(rows, FAST)
    text = protocol_levers.levers_findings(levers, FAST).data
    assert "scores 85.3% on the protocol, 95% interval 76.6 to 94.1" in text
    assert (
        "reaching the 85% target. Its mean reaches the target, but its interval "
        "reaches below it: three seeds cannot tell it from a recipe that falls short."
    ) in text


def test_the_target_is_judged_on_the_lever_validation_chose_not_on_the_best_test_score():
    rows = [
        ablation_row(
            name, seed, FAST[seed]["validation_one_shot"] + gain, protocol
        )
        for name, gain, protocol in [
            ("fast-a", 0.05, 0.80),
            ("fast-b", 0.01, 0.86),
        ]
        for seed in FAST
    ]
    levers = protocol_levers.training_levers(rows, FAST)
    text = protocol_levers.levers_findings(levers, FAST).data
    assert "fast-a (the best validation mean" in text
    assert (
        "scores 80.0% on the protocol" in text
        and "short of the 85% target" in text
    )
    assert "The best protocol mean, fast-b's 86.0%, meets the target" in text


def test_a_tie_on_validation_goes_to_the_lever_listed_first():
    # Seed by seed the two differ, but their validation means are the same 0.86.
    gains = {"fast-plain": (0.02, 0.04, 0.00), "fast-more": (0.03, 0.00, 0.03)}
    rows = [
        ablation_row(name, seed, 0.84 + gain, protocol)
        for name, protocol in [("fast-plain", 0.80), ("fast-more", 0.83)]
        for seed, gain in zip(FAST, gains[name])
    ]
    levers = protocol_levers.training_levers(rows, FAST)
    assert [lever.name for lever in levers] == ["fast-plain", "fast-more"]
    text = protocol_levers.levers_findings(levers, FAST).data
    assert "fast-plain (the best validation mean, 86.0%)" in text
    assert "The best protocol mean, fast-more's 83.0%" in text


def test_a_lever_over_the_training_budget_is_never_chosen():
    over = 60 * (protocol_levers.TRAINING_BUDGET_MINUTES + 1)
    rows = [
        ablation_row(name, seed, 0.84 + gain, protocol, seconds)
        for name, gain, protocol, seconds in [
            ("fast-long", 0.06, 0.90, over),
            ("fast-short", 0.02, 0.82, 600.0),
        ]
        for seed in FAST
    ]
    levers = protocol_levers.training_levers(rows, FAST)
    text = protocol_levers.levers_findings(levers, FAST).data
    assert "at most 60 minutes of training per seed, fast-short" in text
    assert "fast-long (the best" not in text and "fast-long's" not in text


def test_nothing_recorded_says_which_commands_record_it():
    text = protocol_levers.levers_table([], FAST).data
    assert "python -m bench.test_time" in text


def test_a_one_seed_lever_cannot_meet_a_three_seed_target():
    rows = [ablation_row("fast-width-1.5", 1, 0.95, 0.95)]
    levers = protocol_levers.training_levers(rows, FAST)
    text = protocol_levers.levers_findings(levers, FAST).data
    assert "no lever is recorded for that yet" in text
    assert "reaching" not in text and "short of" not in text


def test_the_fast_baseline_is_the_profiles_own_network_not_its_reduced_one(
    tmp_path, monkeypatch
):
    from siamese_utils import paper_tables

    path = tmp_path / "mnist.jsonl"
    monkeypatch.setattr(paper_tables, "MNIST_ROWS", path)
    protocol = protocol_levers.PROTOCOL
    # The 35x35 network of the same seed is recorded after the profile's own.
    rows = [
        {"profile": "fast", "seed": 1, "image_size": size, protocol: score}
        for size, score in ((52, 0.82), (35, 0.70))
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    assert protocol_levers.fast_runs()[1][protocol] == 0.82


def agreement_row(lever, seed, members, table):
    return {
        "lever": lever,
        "seed": seed,
        "members": list(range(members)),
        "validation_agreement": table,
    }


def test_the_agreement_pools_the_largest_ensembles_latest_row_of_each_seed():
    rows = [
        agreement_row("ensemble-2", 1, 2, [[1, 0], [1, 1], [8, 8]]),
        agreement_row("ensemble-4", 1, 4, [[9, 9]] * 5),  # replaced below
        agreement_row(
            "ensemble-4", 1, 4, [[1, 0], [1, 0], [2, 1], [3, 3], [3, 3]]
        ),
        agreement_row(
            "ensemble-4", 2, 4, [[0, 0], [1, 1], [2, 1], [3, 3], [4, 4]]
        ),
        {"lever": "distortion-averaging", "seed": 1, "members": [1]},
    ]
    agreement = protocol_levers.ensemble_agreement(rows)
    assert agreement.lever == "ensemble-4" and agreement.seeds == [1, 2]
    assert agreement.members == 4
    assert agreement.table.tolist() == [[1, 0], [2, 1], [4, 2], [6, 6], [7, 7]]
    assert agreement.group(slice(3, None)) == (13, 13)


def test_the_agreement_sentence_splits_the_tasks_at_half_of_the_networks():
    table = [[1, 0], [2, 1], [4, 2], [6, 6], [7, 7]]  # 20 tasks, 4 networks
    agreement = protocol_levers.ensemble_agreement(
        [agreement_row("ensemble-4", 1, 4, table)]
    )
    text = protocol_levers.agreement_sentence(agreement).data
    assert "Over the 20 validation tasks of seeds 1" in text
    assert (
        "65.0% of the tasks more than half of the networks were right" in text
    )
    assert "100.0% of those" in text
    # 3 tasks with fewer than half right, 1 of them answered; 4 split 2 against 2, 2 answered.
    assert (
        "15.0% fewer than half were right" in text and "33.3% of those" in text
    )
    assert (
        "20.0% the networks split 2 against 2" in text
        and "50.0% of those" in text
    )
    assert "All 4 networks were wrong on 5.0% of the tasks" in text


def test_an_odd_ensemble_has_no_even_split_and_none_recorded_says_how_to_record_it():
    agreement = protocol_levers.ensemble_agreement(
        [agreement_row("ensemble-3", 1, 3, [[1, 0], [1, 0], [2, 2], [6, 6]])]
    )
    text = protocol_levers.agreement_sentence(agreement).data
    assert "split" not in text and "20.0% fewer than half" in text
    assert protocol_levers.ensemble_agreement([]) is None
    assert "bench.test_time" in protocol_levers.agreement_sentence(None).data
