"""Recorded rows are read back only for what the page itself would run."""

import dataclasses
import json

from siamese_utils import records
from siamese_utils.profiles import get_profile
from siamese_utils.recipe import RECIPES, recipe_for

FAST = get_profile("fast")
BEFORE = RECIPES[
    "fast-no-batch-norm"
]  # the fast recipe before batch normalisation


def _row(seed, accuracy, profile=FAST, recipe=None, **changes):
    recipe = recipe or recipe_for(profile)
    row = {
        "profile": profile.name,
        "recipe": records.as_json(recipe.as_dict()),
        "network": records.as_json(recipe.network_kwargs(profile)),
        "seed": seed,
        "one_shot_official_runs": accuracy,
    }
    return {**row, **changes}


def _write(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))


def test_a_missing_record_reads_as_no_rows(tmp_path):
    assert records.read_rows(tmp_path / "seeds.jsonl") == []
    assert records.seed_rows(FAST, tmp_path / "seeds.jsonl") == []


def test_the_latest_run_of_each_seed_counts_in_seed_order(tmp_path):
    path = tmp_path / "seeds.jsonl"
    _write(path, [_row(2016, 0.80), _row(2015, 0.70), _row(2016, 0.85)])
    rows = records.seed_rows(FAST, path)
    assert [(r["seed"], r["one_shot_official_runs"]) for r in rows] == [
        (2015, 0.70),
        (2016, 0.85),
    ]


def test_runs_of_another_profile_recipe_or_network_are_left_out(tmp_path):
    path = tmp_path / "seeds.jsonl"
    other_recipe = dataclasses.replace(recipe_for(FAST), max_epochs=12)
    plain_network = {
        **recipe_for(FAST).network_kwargs(FAST),
        "batch_norm": False,
    }
    _write(
        path,
        [
            _row(2015, 0.70),
            _row(2016, 0.1, profile=get_profile("smoke")),
            _row(2017, 0.2, recipe=other_recipe),
            _row(2018, 0.3, network=records.as_json(plain_network)),
            {k: v for k, v in _row(2019, 0.4).items() if k != "network"},
            _row(2020, 0.5, recipe=BEFORE),
        ],
    )
    assert [r["seed"] for r in records.seed_rows(FAST, path)] == [2015]
    assert [r["seed"] for r in records.seed_rows(FAST, path, BEFORE)] == [2020]


def test_a_row_from_before_a_setting_existed_ran_its_default(tmp_path):
    # Rows recorded before batch_norm existed name it neither in their recipe nor in their
    # network; their runs had no batch normalisation, the default of both.
    path = tmp_path / "seeds.jsonl"
    older = _row(2015, 0.70, recipe=BEFORE)
    del older["network"]["batch_norm"]
    # Version 1 of the records left out the settings at their defaults.
    for key in ("batch_norm", "distortion_pool", "record_version"):
        del older["recipe"][key]
    _write(path, [older])
    assert len(records.seed_rows(FAST, path, BEFORE)) == 1
    assert records.seed_rows(FAST, path) == []


def test_a_version_1_record_with_a_setting_left_out_differs_from_one_that_set_it(
    tmp_path,
):
    path = tmp_path / "seeds.jsonl"
    older = _row(2015, 0.70, recipe=recipe_for(FAST))
    del older["recipe"]["record_version"]
    del older["recipe"]["batch_norm"]  # version 1: no batch normalisation
    _write(path, [older])
    assert recipe_for(FAST).batch_norm
    assert records.seed_rows(FAST, path) == []
