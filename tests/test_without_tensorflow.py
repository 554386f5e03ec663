"""Training without TensorFlow: the exported Omniglot file and the NumPy batches.

The GPU machine of the paper-scale run has Keras on JAX and no TensorFlow. These tests
check, on the TensorFlow machine, that what it gets is what tfds and ``tf.data`` give.
"""

import dataclasses
import json
import pathlib
import zipfile

import numpy as np
import pytest

from siamese_utils import (
    checkpoints,
    cli,
    data,
    epoch_data,
    evaluate,
    numpy_pipeline,
    pipeline,
    profiles,
    recipe,
    records,
)

SMOKE = profiles.get_profile("smoke")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    path = tmp_path_factory.mktemp("exported") / "omniglot-105.npz"
    assert cli.main(["export", "--output", str(path)]) == 0
    return path


def test_the_exported_file_holds_both_splits_as_tfds_gives_them(exported):
    # Black-and-white originals, one bit a pixel: a few megabytes for 32,460 images.
    assert exported.stat().st_size < 8e6
    for split in data.EXPORTED_SPLITS:
        loaded = data._load_exported(str(exported), split, 105)
        original = data.load_split(split, 105)
        np.testing.assert_array_equal(loaded.images, original.images)
        for field in ("characters", "alphabets", "drawers"):
            np.testing.assert_array_equal(
                getattr(loaded, field), getattr(original, field)
            )
        assert loaded.alphabet_names == original.alphabet_names
        assert not loaded.images.flags.writeable


def test_load_split_reads_the_file_the_environment_variable_names(
    exported, monkeypatch
):
    monkeypatch.setenv(data.OMNIGLOT_FILE_VARIABLE, str(exported))
    # tfds would find nothing in this data_dir: the file is the data.
    split = data.load_split("test", 105, data_dir="/nonexistent")
    np.testing.assert_array_equal(
        split.drawers, data._load_cached("test", 105, None, True).drawers
    )
    validation = data.validation_split(105)
    assert validation.alphabets_present == tuple(
        sorted(data.VALIDATION_ALPHABETS)
    )
    assert set(np.unique(validation.drawers)) == set(data.VALIDATION_DRAWERS)


def test_the_file_refuses_another_image_size_a_missing_path_and_small_splits(
    exported, tmp_path
):
    with pytest.raises(ValueError, match="105-pixel images.*image_size=52"):
        data._load_exported(str(exported), "train", 52)
    with pytest.raises(ValueError, match="not 'small1'"):
        data._load_exported(str(exported), "small1", 105)
    with pytest.raises(
        FileNotFoundError, match="python -m siamese_utils export"
    ):
        data._load_exported(str(tmp_path / "absent.npz"), "train", 105)


def test_exporting_never_overwrites_a_file(exported, capsys):
    before = exported.read_bytes()
    assert cli.main(["export", "--output", str(exported)]) == 2
    assert "exists" in capsys.readouterr().err
    assert exported.read_bytes() == before


@pytest.mark.parametrize(
    "name, changes",
    [
        ("pairs, a distortion pool (paper)", {}),
        ("pairs, fresh distortions", {"distortion_pool": 0}),
        ("all-pairs episodes (fast)", None),
    ],
)
def test_numpy_batches_are_the_tf_data_batches(background, name, changes):
    if changes is None:
        chosen = recipe.RECIPES["smoke-episodes"]  # fresh distortions
    else:
        chosen = dataclasses.replace(recipe.RECIPES["smoke"], **changes)
    chosen = dataclasses.replace(chosen, steps_per_epoch=2, max_epochs=2)
    pool = (
        epoch_data.pooled_distortions(background, chosen, seed=3)
        if chosen.distortion_pool
        else None
    )
    expected = list(
        pipeline.training_dataset(
            background, SMOKE, chosen, seed=3, start_epoch=0
        )
    )
    got = list(
        numpy_pipeline.training_batches(
            background, SMOKE, chosen, 3, 0, pool=pool
        )
    )
    assert len(got) == len(expected) == chosen.max_steps
    for (inputs, target), (want_inputs, want_target) in zip(got, expected):
        np.testing.assert_array_equal(target, np.asarray(want_target))
        for array, want in zip(
            inputs if isinstance(inputs, tuple) else (inputs,),
            want_inputs if isinstance(want_inputs, tuple) else (want_inputs,),
        ):
            # The same warp, run eagerly here and inside tf.data's graph there.
            np.testing.assert_allclose(array, np.asarray(want), atol=1e-6)


def test_numpy_batches_want_the_pool_exactly_when_the_recipe_has_one(
    background,
):
    with pytest.raises(ValueError, match="distortion pool"):
        next(
            numpy_pipeline.training_batches(
                background, SMOKE, recipe.RECIPES["smoke"], 0
            )
        )


def test_the_official_runs_decode_the_same_without_tensorflow():
    with zipfile.ZipFile(evaluate.official_runs_path()) as archive:
        members = [n for n in archive.namelist() if n.endswith(".png")][::97]
        for member in members:
            png = archive.read(member)
            np.testing.assert_array_equal(
                evaluate._decode_png_without_tensorflow(png, 105),
                evaluate._decode_png(png, 105),
            )
        with pytest.raises(ValueError, match="needs TensorFlow"):
            evaluate._decode_png_without_tensorflow(png, 52)


def test_the_recorded_gpu_run_is_todays_paper_recipe_and_network():
    # Chapter 6 and the README show it as the paper profile's run: it must still be one.
    folder = (
        pathlib.Path(__file__).parent.parent / "bench" / "results" / "paper-gpu"
    )
    recorded = json.loads((folder / "results.json").read_text())
    paper = profiles.get_profile("paper")
    # Recorded by an earlier version of the records: compared in today's form.
    assert json.loads(
        json.dumps(recipe.recorded_recipe(recorded["recipe"]))
    ) == json.loads(json.dumps(recipe.RECIPES["paper"].as_dict()))
    # Recorded before batch_norm was a profile setting: the run had the default, none.
    assert records.same_network(recorded["network"], paper)
    assert recorded["hardware"]["backend"] == "jax"
    assert recorded["stopped_by"] in (
        "time budget",
        "early stopping",
        "max epochs",
    )
    history = checkpoints.read_history(folder / "history.csv")
    assert len(history["val_one_shot"]) == recorded["epochs_trained"]
    assert max(history["val_one_shot"]) == recorded["validation_one_shot"]
