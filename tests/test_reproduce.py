"""The reproduction: the paper's data split, resumable runs, a results file, no overwrites."""

import dataclasses
import json
import os
import pathlib
import signal
import subprocess
import sys
import time
import types

import keras
import numpy as np
import pytest

from siamese_utils import (
    checkpoints,
    data,
    epoch_data,
    model,
    pipeline,
    profiles,
    recipe,
    reproduce,
    run_callbacks,
    run_data,
    run_results,
)

SMOKE = profiles.get_profile("smoke")
RECIPE = recipe.recipe_for(SMOKE)


# The split ------------------------------------------------------------------------------


def test_every_character_has_twenty_drawers_split_twelve_four_four(background):
    assert np.array_equal(
        np.bincount(background.drawers), np.full(20, background.num_characters)
    )
    parts = [
        background.select_drawers(d)
        for d in (
            data.TRAINING_DRAWERS,
            data.VALIDATION_DRAWERS,
            data.TEST_DRAWERS,
        )
    ]
    assert [len(p) for p in parts] == [12 * 964, 4 * 964, 4 * 964]
    for part, drawers in zip(parts, (12, 4, 4)):
        assert set(np.unique(part.characters, return_counts=True)[1]) == {
            drawers
        }


def test_drawers_outside_zero_to_nineteen_are_refused(background):
    with pytest.raises(ValueError, match="0..19"):
        background.select_drawers([18, 20])


def test_no_evaluation_alphabet_reaches_training_and_validation_and_test_are_disjoint(
    evaluation,
):
    splits = run_data.load_splits(SMOKE, RECIPE, seed=0)
    assert not set(splits.train.alphabets_present) & set(
        evaluation.alphabets_present
    )
    validation_groups = set(splits.validation_trials.groups)
    test_groups = set(splits.test_trials.groups)
    assert validation_groups <= set(data.VALIDATION_ALPHABETS)
    assert test_groups <= set(data.TEST_ALPHABETS)
    assert not validation_groups & test_groups


def test_turned_characters_are_new_characters_of_the_same_alphabets_and_drawers(
    background,
):
    train = background.select_drawers(data.TRAINING_DRAWERS)
    turned = run_data.with_turned_characters(train, 3)
    assert len(turned) == 4 * len(train)
    assert turned.num_characters == 4 * train.num_characters
    # Each quarter turn is a block of the same images, turned, as characters of their own.
    n = len(train)
    for k in range(4):
        block = slice(k * n, (k + 1) * n)
        assert np.array_equal(
            turned.images[block], np.rot90(train.images, k, axes=(1, 2))
        )
        assert np.array_equal(turned.alphabets[block], train.alphabets)
        assert np.array_equal(turned.drawers[block], train.drawers)
    originals = set(train.characters)
    assert not originals & set(turned.characters[n:])
    assert set(turned.characters % data.drawers.NUM_CHARACTERS) == originals
    assert not turned.images.flags.writeable


@pytest.mark.parametrize("turns", [0, 4, -1])
def test_turns_outside_one_to_three_are_refused(background, turns):
    with pytest.raises(ValueError, match="1, 2 or 3 quarter turns"):
        run_data.with_turned_characters(background, turns)
    if turns:
        with pytest.raises(ValueError, match="quarter_turns"):
            dataclasses.replace(RECIPE, quarter_turns=turns)


def test_a_recipe_with_turns_trains_on_them_and_is_tested_on_the_same_trials():
    plain = run_data.load_splits(SMOKE, RECIPE, seed=0)
    turned = run_data.load_splits(
        SMOKE, dataclasses.replace(RECIPE, quarter_turns=2), seed=0
    )
    assert len(turned.train) == 3 * len(plain.train)
    for name in ("validation_trials", "test_trials"):
        before, after = getattr(plain, name), getattr(turned, name)
        for field in ("images", "queries", "candidates", "answers"):
            assert np.array_equal(getattr(before, field), getattr(after, field))


# The training stream ----------------------------------------------------------------------


@pytest.mark.parametrize("sampler", ["pairs", "all-pairs"])
def test_each_epoch_is_drawn_from_the_seed_and_its_number_alone(
    background, sampler
):
    chosen = dataclasses.replace(RECIPE, sampler=sampler)
    again = epoch_data.epoch_batches(background, SMOKE, chosen, seed=3, epoch=2)
    for left, right in zip(
        epoch_data.epoch_batches(background, SMOKE, chosen, seed=3, epoch=2),
        again,
    ):
        assert np.array_equal(left, right)
    other = epoch_data.epoch_batches(background, SMOKE, chosen, seed=3, epoch=1)
    assert not np.array_equal(other[0], again[0])


def test_a_stream_started_at_epoch_two_is_the_tail_of_the_whole_stream(
    background,
):
    chosen = dataclasses.replace(RECIPE, steps_per_epoch=2, max_epochs=3)
    whole = list(pipeline.training_dataset(background, SMOKE, chosen, seed=1))
    tail = list(
        pipeline.training_dataset(
            background, SMOKE, chosen, seed=1, start_epoch=2
        )
    )
    assert len(whole) == 6 and len(tail) == 2
    for (pair, same), (pair2, same2) in zip(whole[4:], tail):
        assert np.array_equal(pair[0], pair2[0]) and np.array_equal(same, same2)
    (left, right), same = whole[0]
    assert left.shape == (SMOKE.batch_size, 32, 32, 1) and same.shape == (
        SMOKE.batch_size,
        1,
    )


def test_distortions_change_the_training_images_but_keep_them_in_range(
    background,
):
    plain = dataclasses.replace(
        RECIPE,
        distortions=None,
        distortion_pool=0,
        steps_per_epoch=1,
        max_epochs=1,
    )
    (left, _), _ = next(
        iter(pipeline.training_dataset(background, SMOKE, plain, seed=0))
    )
    distorted = dataclasses.replace(plain, distortions=RECIPE.distortions)
    (left2, _), _ = next(
        iter(pipeline.training_dataset(background, SMOKE, distorted, seed=0))
    )
    left, left2 = np.asarray(left), np.asarray(left2)
    assert not np.allclose(left, left2)
    assert left2.min() >= 0.0 and left2.max() <= 1.0 + 1e-6


def test_the_paper_recipe_warps_eight_fixed_distortions_per_image_before_training():
    assert recipe.RECIPES["paper"].distortion_pool == 8
    assert recipe.RECIPES["fast"].distortion_pool == 0  # a fresh one every step
    assert recipe.RECIPES["fast"].as_dict()["distortion_pool"] == 0
    assert recipe.RECIPES["paper"].as_dict()["distortion_pool"] == 8


def test_a_pooled_pipeline_shows_each_image_as_itself_or_one_of_its_versions(
    background,
):
    pooled = dataclasses.replace(RECIPE, steps_per_epoch=3, max_epochs=1)
    pool = epoch_data.pooled_distortions(background, pooled, seed=0)
    assert pool.shape[:2] == (len(background.images), 9)
    assert epoch_data.pooled_distortions(background, pooled, seed=0) is pool
    left, right, same, left_versions, right_versions = epoch_data.epoch_batches(
        background, SMOKE, pooled, seed=0, epoch=0
    )
    assert set(np.unique(left_versions)) == set(range(9))
    batches = list(pipeline.training_dataset(background, SMOKE, pooled, seed=0))
    for step, ((left_images, right_images), _) in enumerate(batches):
        np.testing.assert_array_equal(
            left_images, pool[left[step], left_versions[step]] / np.float32(255)
        )
        np.testing.assert_array_equal(
            right_images,
            pool[right[step], right_versions[step]] / np.float32(255),
        )


def test_the_pool_is_drawn_from_the_seed_apart_from_every_epoch(background):
    pooled = dataclasses.replace(RECIPE, distortion_pool=1)
    first = epoch_data.pooled_distortions(background, pooled, seed=0).copy()
    other = epoch_data.pooled_distortions(background, pooled, seed=1)
    assert not np.array_equal(first[:, 1], other[:, 1])
    assert np.array_equal(
        first, epoch_data.pooled_distortions(background, pooled, 0)
    )


# A run --------------------------------------------------------------------------------


def _run(folder, **kwargs):
    options = {"recipe": RECIPE, "verbose": False, **kwargs}
    return reproduce.reproduce(SMOKE, 0, folder, **options)


def test_a_run_writes_results_with_the_promised_keys(tmp_path):
    run = _run(tmp_path / "run")
    written = json.loads((tmp_path / "run" / "results.json").read_text())
    assert set(written) == {
        f.name for f in dataclasses.fields(run_results.Results)
    }
    for key in (
        "one_shot_official_runs",
        "one_shot_paper_protocol",
        "verification_accuracy",
    ):
        assert 0.0 <= written[key] <= 1.0
    assert written["profile"] == "smoke" and written["seed"] == 0
    assert (
        written["official_trials"] == 400
        and written["paper_protocol_trials"] == SMOKE.test_trials
    )
    assert written["hardware"]["cpus"] >= 1 and written["train_seconds"] > 0
    # Training steps alone; the validation and test scoring are counted apart, and so
    # is warping the smoke recipe's distortion pool.
    assert written["evaluation_seconds"] > 0
    assert written["preparation_seconds"] > 0
    assert written == run.results.as_dict()
    # No budget was set; the smoke recipe's patience may end it before its last epoch.
    assert written["max_minutes"] is None
    assert written["stopped_by"] in ("max epochs", "early stopping")
    assert checkpoints.read_history(tmp_path / "run" / "history.csv") == {
        key: [float(v) for v in values] for key, values in run.history.items()
    }
    history = (tmp_path / "run" / "history.csv").read_text().splitlines()
    assert (
        history[0].startswith("epoch,")
        and len(history) == 1 + written["epochs_trained"]
    )


def test_an_independent_program_scoring_every_pair_with_the_whole_network_agrees(
    tmp_path,
):
    _run(tmp_path / "run")
    checker = (
        pathlib.Path(__file__).resolve().parents[1]
        / "tools"
        / "check_official_runs.py"
    )
    result = subprocess.run(
        [sys.executable, str(checker), str(tmp_path / "run")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert "independent check" in result.stdout


def test_the_same_seed_in_two_processes_on_one_machine_writes_the_same_results(
    tmp_path,
):
    # What the README promises: one machine, one thread count, one seed -> the same numbers.
    written = []
    for name in ("first", "second"):
        command = [
            sys.executable,
            "-m",
            "siamese_utils",
            "train",
            "--profile",
            "smoke",
            "--seed",
            "3",
            "--output",
            str(tmp_path / name),
            "--quiet",
        ]
        result = subprocess.run(command, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr[-3000:]
        written.append(
            json.loads((tmp_path / name / "results.json").read_text())
        )
    varying = {
        "train_seconds",
        "evaluation_seconds",
        "preparation_seconds",
        "created",
        "command",
    }
    first, second = (
        {k: v for k, v in w.items() if k not in varying} for w in written
    )
    assert first == second


def test_the_training_clock_leaves_the_end_of_epoch_work_out(monkeypatch):
    from siamese_utils import train

    # A fake clock: the test is about what is counted, not about how fast this machine is.
    readings = iter([0.0, 10.0, 10.05, 10.25, 10.25])
    monkeypatch.setattr(train.time, "perf_counter", lambda: next(readings))
    clock = train.TrainingClock(seconds_before=1.0)
    clock.on_epoch_begin(0)
    clock.on_epoch_end(0)  # 0.05 s of training steps
    # 0.2 s of later callbacks (validation, checkpoints): not training
    clock.on_epoch_begin(1)
    clock.on_epoch_end(1)
    assert clock.seconds == pytest.approx(1.05)


def test_the_fast_recipes_all_pairs_path_trains_and_resumes_like_the_pairs_path(
    tmp_path,
):
    all_pairs = dataclasses.replace(
        RECIPE,
        sampler="all-pairs",
        optimizer="adam",
        learning_rate=1e-3,
        loss="ranking",
    )
    whole = _run(tmp_path / "whole", recipe=all_pairs)
    # Stop after one epoch, then resume: the same epochs, the same metrics.
    _run(
        tmp_path / "split", recipe=dataclasses.replace(all_pairs, max_epochs=1)
    )
    state = json.loads((tmp_path / "split" / "state.json").read_text())
    assert state["epoch"] == 1
    # The first leg recorded its shorter recipe; resuming asks for the full one.
    state["recipe"]["max_epochs"] = all_pairs.max_epochs
    checkpoints.write_json(tmp_path / "split" / "state.json", state)
    (tmp_path / "split" / "results.json").unlink()
    resumed = _run(tmp_path / "split", recipe=all_pairs, resume=True)
    assert resumed.history == whole.history
    assert (
        resumed.results.one_shot_official_runs
        == whole.results.one_shot_official_runs
    )


def test_a_finished_run_is_never_overwritten_unless_asked(tmp_path):
    _run(tmp_path / "run")
    before = (tmp_path / "run" / "results.json").read_text()
    with pytest.raises(
        checkpoints.RunExistsError, match="resume=True .* overwrite=True"
    ):
        _run(tmp_path / "run")
    with pytest.raises(checkpoints.RunExistsError, match="nothing to resume"):
        _run(tmp_path / "run", resume=True)
    assert (tmp_path / "run" / "results.json").read_text() == before
    _run(tmp_path / "run", overwrite=True)


def test_an_unwritable_output_folder_is_reported_before_training(tmp_path):
    if (
        os.geteuid() == 0
    ):  # root writes anywhere; a path below a file can never be created
        (tmp_path / "a-file").write_text("")
        folder = tmp_path / "a-file" / "run"
    else:
        folder = tmp_path / "read-only"
        folder.mkdir()
        folder.chmod(0o555)
    with pytest.raises(PermissionError, match="Choose a writable folder"):
        _run(folder)


def test_resuming_with_another_seed_or_recipe_is_refused(tmp_path):
    _run(tmp_path, recipe=dataclasses.replace(RECIPE, max_epochs=1))
    (
        tmp_path / "results.json"
    ).unlink()  # an interrupted run, as far as resuming can tell
    with pytest.raises(ValueError, match="recipe"):
        _run(
            tmp_path,
            resume=True,
            recipe=dataclasses.replace(RECIPE, patience=9),
        )
    with pytest.raises(ValueError, match="seed"):
        reproduce.reproduce(
            SMOKE,
            1,
            tmp_path,
            recipe=dataclasses.replace(RECIPE, max_epochs=1),
            resume=True,
            verbose=False,
        )


def test_early_stopping_stops_after_patience_epochs_without_progress(tmp_path):
    # A learning rate of zero cannot improve anything: the first epoch stays the best.
    frozen = dataclasses.replace(
        RECIPE, learning_rate=0.0, max_epochs=10, patience=2
    )
    run = _run(tmp_path / "run", recipe=frozen)
    assert run.results.epochs_trained == 3 and run.results.best_epoch == 1
    assert run.results.stopped_by == "early stopping"


def test_a_time_budget_ends_the_run_after_the_last_epoch_that_fits(tmp_path):
    # A budget below one epoch: the first epoch runs whole, and the run stops there.
    longer = dataclasses.replace(RECIPE, max_epochs=5, patience=5)
    run = _run(tmp_path / "run", recipe=longer, max_minutes=1e-6)
    assert run.results.epochs_trained == 1
    assert run.results.stopped_by == "time budget"
    assert run.results.max_minutes == 1e-6


def test_the_time_budget_expects_each_epoch_to_last_as_long_as_the_longest(
    monkeypatch,
):
    # perf_counter at: construction, the first step, then the end of each epoch.
    readings = iter([0.0, 0.0, 30.0, 40.0, 70.0, 75.0])
    monkeypatch.setattr(
        run_callbacks.time, "perf_counter", lambda: next(readings)
    )
    budget = run_callbacks.TimeBudget(100.0)
    budget.set_model(types.SimpleNamespace(stop_training=False))
    budget.on_train_begin()
    stopped = []
    for epoch in range(4):
        budget.on_epoch_end(epoch)
        stopped.append(budget.model.stop_training)
    # 30 s the longest epoch: 70 + 30 still fits in 100 s, 75 + 30 does not.
    assert stopped == [False, False, False, True] and budget.exhausted


@pytest.mark.parametrize("minutes", [0.0, -1.0])
def test_a_time_budget_that_allows_nothing_is_refused_before_any_work(
    tmp_path, minutes
):
    with pytest.raises(ValueError, match="positive number of seconds"):
        _run(tmp_path / "run", max_minutes=minutes)
    assert not (tmp_path / "run").exists()


def test_a_kill_during_a_save_leaves_the_previous_checkpoint_whole(tmp_path):
    import keras

    from siamese_utils import model

    network = model.siamese_network(**SMOKE.network_kwargs())
    optimizer = keras.optimizers.Adam()
    optimizer.build(network.trainable_variables)
    checkpoints.save_checkpoint(
        tmp_path, network, optimizer, 1, {"history": {"loss": [1.0]}}
    )

    class Killed(Exception):
        pass

    def killed_mid_save(path, *args, **kwargs):
        open(path, "wb").write(b"half a file")
        raise Killed

    network.save = killed_mid_save
    with pytest.raises(Killed):
        checkpoints.save_checkpoint(
            tmp_path, network, optimizer, 2, {"history": {"loss": [1.0, 0.5]}}
        )
    state = checkpoints.read_state(tmp_path)
    assert state["epoch"] == 1
    restored = model.siamese_network(**SMOKE.network_kwargs())
    checkpoints.restore_checkpoint(
        tmp_path,
        state,
        restored,
        keras.optimizers.Adam(),
        restored.trainable_variables,
    )


def _command(folder, *extra):
    return [
        sys.executable,
        "-m",
        "siamese_utils",
        "train",
        "--profile",
        "smoke",
        "--seed",
        "0",
        "--output",
        str(folder),
        "--max-epochs",
        "4",
        "--steps-per-epoch",
        "25",
        "--quiet",
        *extra,
    ]


def test_a_killed_run_resumes_and_ends_where_an_uninterrupted_run_ends(
    tmp_path,
):
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    subprocess.run(
        _command(tmp_path / "whole"), check=True, env=env, timeout=600
    )
    process = subprocess.Popen(_command(tmp_path / "killed"), env=env)
    state_file = tmp_path / "killed" / "state.json"
    deadline = time.monotonic() + 600
    while not (
        state_file.exists() and json.loads(state_file.read_text())["epoch"] >= 1
    ):
        assert process.poll() is None, (
            "the run finished before it could be killed"
        )
        assert time.monotonic() < deadline
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    epoch_at_kill = json.loads(state_file.read_text())["epoch"]
    assert epoch_at_kill < 4, "the run finished before it could be killed"
    assert not (tmp_path / "killed" / "results.json").exists()
    subprocess.run(
        _command(tmp_path / "killed", "--resume"),
        check=True,
        env=env,
        timeout=600,
    )
    whole = json.loads((tmp_path / "whole" / "results.json").read_text())
    resumed = json.loads((tmp_path / "killed" / "results.json").read_text())
    assert resumed["steps_trained"] == whole["steps_trained"]
    for key in (
        "one_shot_official_runs",
        "one_shot_paper_protocol",
        "verification_accuracy",
        "best_epoch",
    ):
        assert resumed[key] == whole[key], key
    histories = [
        json.loads((tmp_path / name / "state.json").read_text())["history"]
        for name in ("whole", "killed")
    ]
    assert histories[0] == histories[1]


def test_the_command_line_explains_a_folder_that_holds_a_run(tmp_path):
    (tmp_path / "results.json").write_text("{}")
    finished = subprocess.run(
        _command(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    assert finished.returncode == 2
    assert (
        "--overwrite" in finished.stderr
    )  # the flag, as the command line spells it


def test_python_messages_name_the_arguments_not_the_flags(tmp_path):
    _run(tmp_path / "run")
    with pytest.raises(
        checkpoints.RunExistsError, match="overwrite=True"
    ) as error:
        _run(tmp_path / "run", resume=True)
    assert "--overwrite" not in str(error.value)


THREE_EPOCHS = dataclasses.replace(RECIPE, max_epochs=3, patience=5)


def _interrupted_copy(tmp_path):
    """A finished three-epoch run, and a copy of it made resumable (results.json removed)."""
    import shutil

    whole = _run(tmp_path / "whole", recipe=THREE_EPOCHS)
    shutil.copytree(tmp_path / "whole", tmp_path / "damaged")
    (tmp_path / "damaged" / "results.json").unlink()
    kept = sorted(
        p.name for p in (tmp_path / "damaged" / "checkpoints").iterdir()
    )
    assert kept == [
        "epoch-0002",
        "epoch-0003",
    ]  # the newest two checkpoints are kept
    return whole, tmp_path / "damaged"


def test_a_damaged_state_file_is_named_and_the_run_resumes_from_its_newest_checkpoint(
    tmp_path, capsys
):
    whole, folder = _interrupted_copy(tmp_path)
    (folder / "state.json").write_text(
        '{"epoch": 3, "history": {"lo'
    )  # cut off mid-write
    resumed = _run(folder, recipe=THREE_EPOCHS, resume=True)
    message = capsys.readouterr().err
    assert f"{folder / 'state.json'} is damaged" in message
    assert (
        resumed.results.one_shot_official_runs
        == whole.results.one_shot_official_runs
    )
    assert resumed.history == whole.history


def test_a_truncated_checkpoint_is_detected_and_the_run_loses_one_epoch_at_most(
    tmp_path, capsys
):
    whole, folder = _interrupted_copy(tmp_path)
    network_file = folder / "checkpoints" / "epoch-0003" / "network.keras"
    network_file.write_bytes(network_file.read_bytes()[:1000])
    resumed = _run(folder, recipe=THREE_EPOCHS, resume=True)
    message = capsys.readouterr().err
    assert "epoch-0003 is damaged" in message and "after epoch 2" in message
    # Epoch 3 is trained again from epoch 2's checkpoint, and ends where the whole run ended.
    assert resumed.history == whole.history
    assert (
        resumed.results.one_shot_official_runs
        == whole.results.one_shot_official_runs
    )


def test_a_run_with_no_complete_checkpoint_says_to_start_over(tmp_path):
    _, folder = _interrupted_copy(tmp_path)
    for checkpoint in (folder / "checkpoints").iterdir():
        (checkpoint / "optimizer.npz").write_bytes(b"")
    with pytest.raises(
        checkpoints.DamagedRunError,
        match="no complete checkpoint .* overwrite=True",
    ):
        _run(folder, recipe=THREE_EPOCHS, resume=True)


@pytest.mark.parametrize(
    "option, message",
    [
        (("--max-epochs", "0"), "max_epochs must be a positive integer"),
        (("--max-minutes", "0"), "time budget must be a positive number"),
    ],
)
def test_the_command_line_refuses_zero_epochs_or_minutes_with_a_message(
    tmp_path, option, message
):
    finished = subprocess.run(
        _command(tmp_path / "run", *option),
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    assert finished.returncode == 2
    assert message in finished.stderr
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"sampler": "triplets"}, "sampler"),
        ({"optimizer": "rmsprop"}, "optimizer"),
        ({"patience": 0}, "patience"),
        ({"loss": "hinge"}, "loss"),
        ({"sampler": "pairs", "loss": "ranking"}, "all-pairs"),
        ({"distortion_pool": -1}, "distortion_pool"),
        ({"distortions": None}, "needs distortion ranges"),
        ({"weight_average": 1.0}, "weight_average"),
        (
            {"optimizer": "layerwise-sgd", "weight_average": 0.99},
            "per-layer SGD",
        ),
    ],
)
def test_impossible_recipes_are_refused(changes, message):
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(RECIPE, **changes)


def test_a_run_that_could_not_be_scored_fails_before_its_first_step(
    tmp_path, monkeypatch
):
    # Offline with an empty Keras cache, all_runs.zip cannot be had: no step is trained.
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty-keras-home"))
    folder = tmp_path / "run"
    with pytest.raises(FileNotFoundError, match="official one-shot runs"):
        reproduce.reproduce(SMOKE, 1, folder, verbose=False)
    assert (
        not any(folder.glob("**/*.keras"))
        and not (folder / "history.csv").exists()
    )


def test_a_run_can_train_on_other_background_drawers():
    held_out = run_data.load_splits(
        SMOKE, RECIPE, seed=0, training_drawers=range(8, 20)
    )
    assert set(np.unique(held_out.train.drawers)) == set(range(8, 20))
    usual = run_data.load_splits(SMOKE, RECIPE, seed=0)
    assert set(np.unique(usual.train.drawers)) == set(data.TRAINING_DRAWERS)
    # The validation and test trials do not depend on the training drawers.
    assert np.array_equal(
        held_out.test_trials.candidates, usual.test_trials.candidates
    )


# Weight averaging -----------------------------------------------------------------------


class _WeightsAtEpochEnd(keras.callbacks.Callback):
    """What the end-of-epoch work saw: the network's weights after each epoch."""

    def __init__(self, network):
        super().__init__()
        self.network, self.seen = network, []

    def on_epoch_end(self, epoch, logs=None):
        self.seen.append(self.network.get_weights())


def _weights_seen_at_epoch_ends(folder, weight_average):
    averaged = dataclasses.replace(
        RECIPE,
        optimizer="adam",
        learning_rate=1e-2,
        max_epochs=2,
        patience=2,
        weight_average=weight_average,
    )
    run = reproduce.prepare(SMOKE, 1, folder, recipe=averaged, verbose=False)
    watcher = _WeightsAtEpochEnd(run.network)
    run.callbacks.append(watcher)
    reproduce.fit(run)
    first, second = watcher.seen
    change = max(float(np.abs(a - b).max()) for a, b in zip(first, second))
    return change, run, watcher.seen


def test_a_weight_averaged_run_validates_and_keeps_the_average(tmp_path):
    # A momentum this near 1 keeps the average at the first step's weights: every
    # end-of-epoch callback (validation, the kept best) sees it standing still, while the
    # weights themselves go on moving, as the same run without an average shows.
    still, run, seen = _weights_seen_at_epoch_ends(
        tmp_path / "average", 0.999999
    )
    moving, _, _ = _weights_seen_at_epoch_ends(tmp_path / "plain", 0.0)
    assert still < 1e-3 * moving
    kept = model.load_model(tmp_path / "average" / checkpoints.BEST)
    at_best = seen[run.stopping.best_epoch - 1]
    for kept_weight, averaged in zip(kept.get_weights(), at_best):
        np.testing.assert_array_equal(kept_weight, averaged)


def test_a_weight_averaged_run_is_not_resumed_or_distributed(tmp_path):
    averaged = dataclasses.replace(
        RECIPE, optimizer="adam", max_epochs=1, weight_average=0.9
    )
    _run(tmp_path, recipe=averaged)
    (tmp_path / "results.json").unlink()
    state = json.loads((tmp_path / "state.json").read_text())
    state["recipe"]["max_epochs"] = 2
    checkpoints.write_json(tmp_path / "state.json", state)
    with pytest.raises(ValueError, match="cannot be resumed.*--overwrite"):
        _run(
            tmp_path,
            recipe=dataclasses.replace(averaged, max_epochs=2),
            resume=True,
        )
    strategy = types.SimpleNamespace(num_replicas_in_sync=1)
    with pytest.raises(ValueError, match="without --strategy"):
        reproduce.prepare(
            SMOKE, 1, tmp_path / "other", recipe=averaged, strategy=strategy
        )
