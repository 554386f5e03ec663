"""All the background drawers: the turned 35x35 network trained on the 20 drawers of the
training alphabets instead of the paper's 12, as a training lever and under the scoring
levers, recorded in rows of bench.test_time's form."""

import json

import pytest

from bench import all_drawers
from bench import test_time as bench_test_time
from bench.mnist import trained_network
from siamese_utils import (
    data,
    evaluate,
    mnist,
    model,
    profiles,
    protocol_levers,
    test_time,
)
from siamese_utils.seeding import set_seed


@pytest.fixture(scope="module")
def reduced():
    return mnist.reduced_profile(profiles.get_profile("smoke"))


@pytest.fixture(scope="module")
def two_networks(reduced):
    set_seed(1)
    own = model.siamese_network(**reduced.network_kwargs())
    paper = model.siamese_network(**reduced.network_kwargs())
    return own, paper


def test_all_the_drawers_are_the_twenty_of_every_character():
    assert all_drawers.ALL_DRAWERS == tuple(range(20))
    assert set(data.TRAINING_DRAWERS) < set(all_drawers.ALL_DRAWERS)


@pytest.fixture(scope="module")
def scoring_rows(reduced, two_networks):
    """bench.test_time's rows of seed 5 for an ensemble of two turned networks."""
    own, _ = two_networks
    return bench_test_time.seed_rows(
        reduced,
        5,
        lambda member: (own, {"train_seconds": 2.0}),
        views=1,
        members=2,
        turns=all_drawers.TURNS,
    )


def test_the_scoring_levers_rows_say_their_networks_saw_every_drawer(
    reduced, scoring_rows
):
    rows = scoring_rows
    renamed = [all_drawers.on_all_drawers(row, reduced) for row in rows]
    assert [row["lever"] for row in renamed] == [
        "distortion-averaging-35px-turns3-all-drawers",
        "ensemble-2-35px-turns3-all-drawers",
        "ensemble-2-with-views-35px-turns3-all-drawers",
    ]
    ensemble = renamed[1]
    assert ensemble["run_folders"] == [
        "results/all-drawers-smoke-35px-turns3-seed5",
        "results/all-drawers-smoke-35px-turns3-seed105",
    ]
    assert ensemble["description"].endswith(
        "every network trained on all 20 drawers of the training alphabets instead "
        "of the paper's 12 (not in the paper)"
    )
    assert ensemble["training_drawers"] == 20
    # The scores are bench.test_time's, untouched.
    assert ensemble["validation_one_shot"] == rows[1]["validation_one_shot"]


def training_row(reduced, two_networks, **epochs) -> dict:
    """The training lever's row of seed 5: the first network beside the second."""
    own, alone = two_networks
    return all_drawers.training_row(
        reduced,
        5,
        (own, {"train_seconds": 3.0}),
        (alone, {"train_seconds": 2.0}),
        **epochs,
    )


def test_the_training_lever_sets_the_network_beside_the_one_of_the_papers_drawers(
    reduced, two_networks
):
    own, paper = two_networks
    row = training_row(reduced, two_networks)
    assert row["lever"] == "all-drawers-35px-turns3"
    assert row["members"] == [5] and row["train_seconds"] == 3.0
    assert row["alone_training_drawers"] == 12
    trials = all_drawers.scoring_trials(reduced, 5).validation_trials
    for network, figure in (
        (own, "validation_one_shot"),
        (paper, "validation_one_shot_alone"),
    ):
        expected = test_time.accuracy(
            evaluate.siamese_scores(network, trials), trials
        )
        assert row[figure] == expected


def lever_row(lever: str, alone_drawers: int, **fields) -> dict:
    return {
        "lever": lever,
        "description": lever,
        "image_size": 35,
        "seed": 1,
        "members": [1],
        "quarter_turns": 3,
        "validation_one_shot": 0.9,
        "one_shot_paper_protocol": 0.8,
        "validation_one_shot_alone": 0.85,
        "one_shot_paper_protocol_alone": 0.75,
        "train_seconds": 120.0,
        "command": "python -m bench.all_drawers",
        "training_drawers": 20,
        "alone_training_drawers": alone_drawers,
        **fields,
    }


def test_each_lever_names_the_network_alone_it_starts_from():
    rows = [
        lever_row("all-drawers-35px-turns3", 12),
        lever_row("distortion-averaging-35px-turns3-all-drawers", 20),
    ]
    training, scoring = protocol_levers.scoring_levers(rows)
    assert training.baseline_name == (
        "the fast recipe's 35x35 network with turned characters"
    )
    assert scoring.baseline_name == (
        "the fast recipe's 35x35 network with turned characters on all 20 drawers"
    )
    # Neither row is bench.test_time's network on the paper's drawers.
    assert protocol_levers.turned_levers(rows) == []


def test_a_run_on_other_drawers_is_refused_not_reused(tmp_path, reduced):
    recipe = bench_test_time.member_recipe(reduced, all_drawers.TURNS)
    (tmp_path / "best.keras").write_bytes(b"")
    (tmp_path / "results.json").write_text(
        json.dumps(
            {"recipe": recipe.as_dict(), "training_drawers": list(range(1, 13))}
        )
    )
    with pytest.raises(ValueError, match="Delete that folder"):
        trained_network(
            reduced, 5, "test", recipe, tmp_path, all_drawers.ALL_DRAWERS
        )


def test_a_mixed_ensemble_averages_every_network_of_both_kinds(
    reduced, two_networks
):
    own, paper = two_networks
    row = all_drawers.mixed_row(
        reduced,
        5,
        {
            5: (own, {"train_seconds": 3.0}),
            105: (paper, {"train_seconds": 3.0}),
        },
        {5: (paper, {"train_seconds": 2.0})},
    )
    assert row["lever"] == "ensemble-2-35px-turns3-all-drawers+1-35px-turns3"
    assert row["members"] == [5, 105] and row["paper_drawers_members"] == [5]
    assert row["run_folders"] == [
        "results/all-drawers-smoke-35px-turns3-seed5",
        "results/all-drawers-smoke-35px-turns3-seed105",
        "results/test-time-smoke-35px-turns3-seed5",
    ]
    assert row["train_seconds"] == 8.0 and row["views"] == 0
    trials = all_drawers.scoring_trials(reduced, 5).test_trials
    scores = [evaluate.siamese_scores(n, trials) for n in (own, paper, paper)]
    assert row["one_shot_paper_protocol"] == test_time.accuracy(
        sum(scores) / 3, trials
    )
    # The network alone is the seed's own, trained on all the drawers.
    assert row["one_shot_paper_protocol_alone"] == test_time.accuracy(
        scores[0], trials
    )
    assert protocol_levers.scoring_levers([row | {"command": "c"}])[
        0
    ].baseline_name.endswith("on all 20 drawers")


def test_the_command_names_the_networks_on_the_papers_drawers_it_mixes_in(
    capsys,
):
    args = all_drawers.parse_arguments(["--paper-members", "5"])
    assert all_drawers.command_line(args) == (
        "python -m bench.all_drawers --seeds 2015 2016 2017 --paper-members 5"
    )
    with pytest.raises(SystemExit):
        all_drawers.parse_arguments(["--paper-members", "-1"])
    assert "give --paper-members 0 or more, not -1" in capsys.readouterr().err


def test_longer_training_stretches_the_fast_schedule_and_names_its_folders(
    reduced,
):
    reduced_fast = mnist.reduced_profile(profiles.get_profile("fast"))
    fast = all_drawers.member_recipe(reduced_fast, all_drawers.DEFAULT_EPOCHS)
    longer = all_drawers.member_recipe(reduced_fast, 48)
    # At the fast recipe's epochs it is the recipe the earlier runs trained by, so
    # trained_network reads them instead of refusing their folders.
    assert fast == bench_test_time.member_recipe(
        reduced_fast, all_drawers.TURNS
    )
    assert (fast.max_epochs, longer.max_epochs, longer.patience) == (24, 48, 48)
    assert longer.cosine_decay and longer.quarter_turns == all_drawers.TURNS
    assert all_drawers.member_folder(reduced, 5, 48).name == (
        "all-drawers-smoke-35px-turns3-48ep-seed5"
    )
    assert all_drawers.member_folder(reduced, 5).name == (
        "all-drawers-smoke-35px-turns3-seed5"
    )


def test_the_longer_networks_are_set_beside_their_fast_schedules_network(
    reduced, two_networks
):
    row = training_row(reduced, two_networks, epochs=48)
    assert row["lever"] == "all-drawers-35px-turns3-48ep"
    assert row["description"].endswith(
        "for 48 epochs instead of the fast recipe's 24"
    )
    assert row["run_folders"] == [
        "results/all-drawers-smoke-35px-turns3-48ep-seed5"
    ]
    assert (row["epochs"], row["alone_epochs"]) == (48, 24)
    assert row["alone_training_drawers"] == 20 and row["train_seconds"] == 3.0
    lever = protocol_levers.scoring_levers([row | {"command": "c"}])[0]
    assert lever.baseline_name == (
        "the fast recipe's 35x35 network with turned characters on all 20 drawers"
    )


def test_the_scoring_levers_on_longer_networks_say_how_long_they_trained(
    reduced, scoring_rows
):
    renamed = all_drawers.on_all_drawers(scoring_rows[1], reduced, epochs=48)
    assert renamed["lever"] == "ensemble-2-35px-turns3-all-drawers-48ep"
    assert renamed["run_folders"][1] == (
        "results/all-drawers-smoke-35px-turns3-48ep-seed105"
    )
    lever = protocol_levers.scoring_levers([renamed | {"command": "c"}])[0]
    assert lever.baseline_name == (
        "the fast recipe's 35x35 network with turned characters on all 20 drawers "
        "for 48 epochs"
    )


def test_the_command_records_the_epochs_and_refuses_none(capsys):
    args = all_drawers.parse_arguments(["--members", "3", "--epochs", "48"])
    assert all_drawers.command_line(args) == (
        "python -m bench.all_drawers --seeds 2015 2016 2017 --members 3 --epochs 48"
    )
    with pytest.raises(SystemExit):
        all_drawers.parse_arguments(["--epochs", "0"])
    assert "give --epochs 1 or more, not 0" in capsys.readouterr().err
