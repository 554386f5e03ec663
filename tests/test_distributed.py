"""Data parallelism (siamese_utils.distributed): several replicas train exactly as one device.

The runs that need their own TensorFlow runtime (logical CPUs, a two-process cluster) go
through the training command in subprocesses, at the smoke profile's size.
"""

import dataclasses
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from siamese_utils import data, distributed
from siamese_utils.model import load_model
from siamese_utils.pipeline import training_dataset
from siamese_utils.profiles import get_profile
from siamese_utils.recipe import RECIPES, check_distributable

# A guard against a hung subprocess, not a speed check. The two-replica step takes about
# 40 s here, yet once ran past a 300 s guard in a fresh-clone CI run (slow machine or a
# hang, not yet known); 900 s still fails a hang well inside CI's hour.
HANG_GUARD_SECONDS = 900
SMOKE = get_profile("smoke")
# The replicas add the same float32 gradients in another order; after a few steps the
# weights may differ in the last bits, nowhere near a real divergence (weights are ~0.1-1).
WEIGHT_TOLERANCE = 1e-6
LAST_CHECKPOINT = (
    f"checkpoints/epoch-{RECIPES['smoke'].max_epochs:04d}/network.keras"
)


def _train(tmp_path, name, *options, workers=1):
    outputs = distributed.launch(
        "siamese_utils",
        [
            "train",
            "--profile",
            "smoke",
            "--quiet",
            "--output",
            str(tmp_path / name),
            *options,
        ],
        workers=workers,
        timeout=HANG_GUARD_SECONDS,
    )
    return tmp_path / name, outputs


def _validation_one_shot(folder):
    lines = (folder / "history.csv").read_text().splitlines()
    column = lines[0].split(",").index("val_one_shot")
    return [float(line.split(",")[column]) for line in lines[1:]]


def _largest_difference(first, second):
    a, b = load_model(first).get_weights(), load_model(second).get_weights()
    return max(float(np.max(np.abs(x - y))) for x, y in zip(a, b))


@pytest.fixture(scope="module")
def one_device(tmp_path_factory):
    folder, _ = _train(tmp_path_factory.mktemp("runs"), "one-device")
    return folder


def test_replica_slices_of_a_step_put_together_are_the_global_batch():
    train = data.load_split("train", SMOKE.image_size).select_drawers(
        data.TRAINING_DRAWERS
    )
    recipe = RECIPES["smoke"]
    whole = next(iter(training_dataset(train, SMOKE, recipe, seed=7)))
    halves = list(
        training_dataset(train, SMOKE, recipe, seed=7, replicas=(0, 2, 2)).take(
            2
        )
    )
    for position in range(2):
        joined = np.concatenate([half[0][position] for half in halves])
        np.testing.assert_array_equal(joined, whole[0][position])
    np.testing.assert_array_equal(
        np.concatenate([half[1] for half in halves]), whole[1]
    )
    assert halves[0][1].shape[0] == SMOKE.batch_size // 2


def test_a_worker_feeding_the_second_of_two_replicas_gets_the_second_half():
    train = data.load_split("train", SMOKE.image_size).select_drawers(
        data.TRAINING_DRAWERS
    )
    whole = next(iter(training_dataset(train, SMOKE, RECIPES["smoke"], seed=7)))
    second = next(
        iter(
            training_dataset(
                train, SMOKE, RECIPES["smoke"], seed=7, replicas=(1, 1, 2)
            )
        )
    )
    np.testing.assert_array_equal(second[1], whole[1][SMOKE.batch_size // 2 :])


def test_a_batch_that_does_not_divide_by_the_replica_count_is_refused():
    train = data.load_split("train", SMOKE.image_size).select_drawers(
        data.TRAINING_DRAWERS
    )
    with pytest.raises(
        ValueError, match="does not split evenly over 3 replicas"
    ):
        training_dataset(
            train, SMOKE, RECIPES["smoke"], seed=7, replicas=(0, 1, 3)
        )


def test_unknown_strategy_names_the_valid_ones():
    with pytest.raises(ValueError, match="default, mirrored, multi-worker"):
        distributed.make_strategy("parameter-server")


def test_local_cluster_gives_each_worker_its_index_and_everyone_the_same_addresses():
    configs = distributed.local_cluster(3)
    assert [c["task"] for c in configs] == [
        {"type": "worker", "index": i} for i in range(3)
    ]
    addresses = configs[0]["cluster"]["worker"]
    assert len(set(addresses)) == 3 and all(
        a.startswith("127.0.0.1:") for a in addresses
    )
    assert all(c["cluster"] == configs[0]["cluster"] for c in configs)


def test_mirrored_over_two_logical_cpus_trains_the_same_weights_as_one_device(
    one_device, tmp_path
):
    folder, _ = _train(
        tmp_path, "mirrored", "--strategy", "mirrored", "--logical-cpus", "2"
    )
    results = json.loads((folder / "results.json").read_text())
    assert (results["strategy"], results["replicas"]) == ("mirrored", 2)
    assert (
        _largest_difference(
            one_device / LAST_CHECKPOINT, folder / LAST_CHECKPOINT
        )
        < WEIGHT_TOLERANCE
    )
    # The smoke network barely separates its candidates, so a weight difference of the
    # order of rounding can flip one near-tied validation trial (and with it the best
    # epoch): the validation answers must agree to within one trial, epoch by epoch.
    one_trial = 1 / get_profile("smoke").validation_trials
    for own, reference in zip(
        _validation_one_shot(folder), _validation_one_shot(one_device)
    ):
        assert abs(own - reference) <= one_trial + 1e-9


def test_two_worker_processes_train_the_same_weights_and_only_the_chief_writes(
    one_device, tmp_path
):
    outputs = distributed.launch(
        "siamese_utils",
        [
            "train",
            "--profile",
            "smoke",
            "--quiet",
            "--strategy",
            "multi-worker",
            "--output",
            str(tmp_path / "cluster"),
        ],
        workers=2,
        timeout=HANG_GUARD_SECONDS,
    )
    folder = tmp_path / "cluster"
    results = json.loads((folder / "results.json").read_text())
    assert (results["strategy"], results["replicas"]) == ("multi-worker", 2)
    assert (
        _largest_difference(
            one_device / LAST_CHECKPOINT, folder / LAST_CHECKPOINT
        )
        < WEIGHT_TOLERANCE
    )
    assert "written by the chief" in outputs[1] and str(folder) in outputs[0]


def test_the_training_command_refuses_episodes_the_replicas_cannot_share(
    tmp_path,
):
    with pytest.raises(
        RuntimeError,
        match="2 episode\\(s\\) cannot be split by whole episodes across 3 replicas",
    ):
        distributed.launch(
            "siamese_utils",
            [
                "train",
                "--profile",
                "smoke",
                "--recipe",
                "smoke-episodes",
                "--quiet",
                "--strategy",
                "mirrored",
                "--logical-cpus",
                "3",
                "--output",
                str(tmp_path / "x"),
            ],
            timeout=120,
        )
    assert not (tmp_path / "x").exists()


EPISODES = RECIPES["smoke-episodes"]  # two all-pairs episodes a step


def test_an_all_pairs_step_is_cut_between_whole_episodes():
    train = data.load_split("train", SMOKE.image_size).select_drawers(
        data.TRAINING_DRAWERS
    )
    images, characters = next(
        iter(training_dataset(train, SMOKE, EPISODES, seed=7))
    )
    halves = list(
        training_dataset(
            train, SMOKE, EPISODES, seed=7, replicas=(0, 2, 2)
        ).take(2)
    )
    episode = EPISODES.episode_size
    assert characters.shape[0] == 2 * episode
    for position, (half_images, half_characters) in enumerate(halves):
        # Each replica gets one whole episode: its images and their characters, in order.
        np.testing.assert_array_equal(
            half_characters,
            characters[position * episode : (position + 1) * episode],
        )
        np.testing.assert_array_equal(
            half_images, images[position * episode : (position + 1) * episode]
        )


def test_a_step_of_one_episode_cannot_be_shared_by_two_replicas():
    with pytest.raises(
        ValueError, match="cannot be split by whole episodes across 2 replicas"
    ):
        check_distributable(
            dataclasses.replace(EPISODES, episodes_per_step=1), 2
        )
    check_distributable(EPISODES, 2)  # two episodes: one a replica


@pytest.fixture(scope="module")
def one_device_episodes(tmp_path_factory):
    folder, _ = _train(
        tmp_path_factory.mktemp("runs"),
        "one-device-episodes",
        "--recipe",
        "smoke-episodes",
    )
    return folder


def test_all_pairs_over_two_logical_cpus_trains_the_one_device_weights(
    one_device_episodes, tmp_path
):
    folder, _ = _train(
        tmp_path,
        "mirrored-episodes",
        "--recipe",
        "smoke-episodes",
        "--strategy",
        "mirrored",
        "--logical-cpus",
        "2",
    )
    results = json.loads((folder / "results.json").read_text())
    assert (results["strategy"], results["replicas"]) == ("mirrored", 2)
    assert (
        _largest_difference(
            one_device_episodes / LAST_CHECKPOINT, folder / LAST_CHECKPOINT
        )
        < WEIGHT_TOLERANCE
    )


def test_all_pairs_on_two_worker_processes_trains_the_one_device_weights(
    one_device_episodes, tmp_path
):
    folder, _ = _train(
        tmp_path,
        "cluster-episodes",
        "--recipe",
        "smoke-episodes",
        "--strategy",
        "multi-worker",
        workers=2,
    )
    results = json.loads((folder / "results.json").read_text())
    assert (results["strategy"], results["replicas"]) == ("multi-worker", 2)
    assert (
        _largest_difference(
            one_device_episodes / LAST_CHECKPOINT, folder / LAST_CHECKPOINT
        )
        < WEIGHT_TOLERANCE
    )


# One step of a two-episode batch, batch-normalised, on one device and on two logical CPUs
# (synchronised unless the argument says "per-replica"), in a process of its own: a process
# holds one mirrored strategy.
ONE_STEP_EACH_WAY = """
import dataclasses, json, sys
import keras, numpy as np
from siamese_utils import distributed
distributed.use_logical_cpus(2)
from siamese_utils import data, model
from siamese_utils.profiles import get_profile
from siamese_utils.recipe import RECIPES, make_optimizer
from siamese_utils.seeding import set_seed
profile = get_profile("smoke")
recipe = dataclasses.replace(RECIPES["smoke-episodes"], batch_norm=True)
split = data.load_split("train", profile.image_size).select_drawers(
    data.TRAINING_DRAWERS
)
def one_step(name, synchronised=sys.argv[1] != "per-replica"):
    strategy = distributed.make_strategy(name)
    set_seed(1)
    with strategy.scope():
        network = distributed.mirrored_network(strategy, profile, recipe)
        optimizer = make_optimizer(recipe)
    for layer in model.twin_of(network).layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            assert layer.synchronized == (name == "mirrored")
            layer.synchronized = layer.synchronized and synchronised
    before = [v.numpy() for v in network.trainable_variables]
    distributed.DistributedTrainer.for_recipe(
        strategy, network, optimizer, split, profile, recipe, seed=1
    ).train(1)
    return before, [v.numpy() for v in network.trainable_variables]
start, one = one_step("default")
def largest(differences):
    return max(float(np.abs(d).max()) for d in differences)
def departure(weights):
    # The largest difference from one device's step, as a share of its largest update.
    return largest(w - o for w, o in zip(weights, one)) / largest(
        o - s for o, s in zip(one, start)
    )
print(departure(one_step("mirrored")[1]))
"""


def _python_output(script: str, *args: str, timeout: int) -> str:
    """What ``python -c script args`` prints: a fresh process, so a fresh TensorFlow runtime
    that can still be split into logical CPUs."""
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    ).stdout


def test_logical_cpus_leave_the_replicas_a_thread_each_beyond_the_cores():
    script = (
        "import tensorflow as tf\n"
        "from siamese_utils import distributed\n"
        "distributed.use_logical_cpus(2)\n"
        "print(len(tf.config.list_logical_devices('CPU')),"
        " tf.config.threading.get_inter_op_parallelism_threads())\n"
    )
    output = _python_output(script, timeout=120)
    devices, threads = map(int, output.split()[-2:])
    assert (devices, threads) == (2, os.cpu_count() + 2)


def test_batch_normalisation_on_two_replicas_normalises_by_the_global_batch():
    def departure(statistics):
        output = _python_output(
            ONE_STEP_EACH_WAY, statistics, timeout=HANG_GUARD_SECONDS
        )
        return float(output.strip().splitlines()[-1])

    # Each replica holds one of the step's two episodes. Normalised by its own episode,
    # a replica computes another step than one device, which normalises by both.
    assert departure("per-replica") > 0.1
    # Synchronised, the step is one device's, up to rounding that Keras' one-pass variance
    # (the mean of the squares less the square of the mean) magnifies: a mean far from
    # zero against a small spread, as the paper's initialisation gives, costs digits.
    assert departure("synchronised") < 1e-2
