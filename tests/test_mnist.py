"""The paper's Table 3 trials: MNIST read as tfds would, and 10-way one-shot trials from it."""

import hashlib

import numpy as np
import pytest

from siamese_utils import mnist


def test_the_mnist_files_are_the_originals_by_sha256():
    for name, expected in mnist.MNIST_FILES.items():
        with open(mnist.mnist_path(name), "rb") as handle:
            assert hashlib.sha256(handle.read()).hexdigest() == expected


def test_the_test_set_reads_as_ten_thousand_inked_digits():
    images, labels = mnist.load_mnist_test(32)
    assert images.shape == (10_000, 32, 32, 1) and images.dtype == np.float32
    assert 0.0 == images.min() and images.max() == 1.0
    # MNIST's published test-set label counts.
    assert np.bincount(labels).tolist() == [
        980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009,
    ]  # fmt: skip
    assert (
        images.mean() < 0.25
    )  # ink is the minority: white on black read as ink = 1


def test_a_trial_shows_each_digit_once_and_a_query_drawn_from_another_image():
    labels = np.repeat(np.arange(10), 5)
    images = np.arange(50, dtype=np.float32).reshape(
        50, 1, 1, 1
    )  # image i holds i
    trials = mnist.mnist_trials(images, labels, num_trials=200, seed=3)
    assert len(trials) == 200 and trials.n_way == 10
    original = trials.images[:, 0, 0, 0].astype(
        int
    )  # back to positions in `images`
    shown = labels[original[trials.candidates]]
    assert (shown == np.arange(10)).all()  # one of each digit, in digit order
    query = original[trials.queries]
    answer = original[trials.candidates[np.arange(200), trials.answers]]
    assert (labels[query] == trials.answers).all()
    assert (query != answer).all()  # the query is another drawing of its digit
    assert len(set(trials.answers.tolist())) == 10


def test_digits_with_a_single_image_are_refused():
    labels = np.array([*range(10), 0])
    with pytest.raises(ValueError, match="at least two images of each"):
        mnist.mnist_trials(np.zeros((11, 1, 1, 1)), labels)


def test_a_corrupt_cached_file_is_named_and_kept(tmp_path):
    cached = tmp_path / "datasets" / "mnist" / "t10k-labels-idx1-ubyte.gz"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"not MNIST")
    with pytest.raises(FileNotFoundError, match="Could not obtain MNIST"):
        mnist.mnist_path("t10k-labels-idx1-ubyte.gz", cache_dir=tmp_path)
    assert (cached.parent / "t10k-labels-idx1-ubyte.gz.corrupt").exists()


def _kept_run(folder, profile):
    """A finished run's folder as the reproduction leaves it: ``best.keras`` and
    ``results.json`` (an untrained network: the scoring is under test, not training)."""
    from siamese_utils import checkpoints, model
    from siamese_utils.recipe import recipe_for

    folder.mkdir(parents=True)
    checkpoints.save_network(
        model.siamese_network(**profile.network_kwargs()), folder / "best.keras"
    )
    checkpoints.write_json(
        folder / "results.json",
        {
            "recipe": recipe_for(profile).as_dict(),
            "validation_one_shot": 0.5,
            "one_shot_official_runs": 0.5,
            "one_shot_paper_protocol": 0.5,
            "train_seconds": 1.0,
        },
    )


def test_table_3_over_seeds_scores_each_kept_network_and_pixels_on_its_own_trials(
    tmp_path, monkeypatch
):
    from bench import mnist as bench_mnist
    from siamese_utils import paper_tables, profiles

    smoke = profiles.get_profile("smoke")
    monkeypatch.setattr(bench_mnist, "RUNS", tmp_path)
    for seed in (1, 2):
        _kept_run(tmp_path / f"mnist-smoke-seed{seed}", smoke)
    digits, labels = mnist.load_mnist_test(smoke.image_size)
    rows = [bench_mnist.score_seed(smoke, s, digits, labels) for s in (1, 2)]
    for row in rows:
        assert (
            row["trials"] == mnist.PAPER_TRIALS == len(row["network_correct"])
        )
        assert row["network"] == pytest.approx(np.mean(row["network_correct"]))
        assert row["pixels"] == pytest.approx(np.mean(row["pixels_correct"]))
    # Each seed draws its own trials: the pixel baseline differs trial by trial.
    assert rows[0]["pixels_correct"] != rows[1]["pixels_correct"]

    monkeypatch.setattr(paper_tables, "MNIST_ROWS", tmp_path / "mnist.jsonl")
    for row in rows:
        bench_mnist.common.append_row(tmp_path / "mnist.jsonl", row)
    text = paper_tables.mnist_over_seeds("smoke").data
    assert "seeds 1, 2" in text and "70.3" in text and "26.5" in text
    assert "paired by seed" in text


def test_table_3_over_seeds_trains_a_missing_network_and_refuses_another_recipes(
    tmp_path, monkeypatch
):
    from bench import mnist as bench_mnist
    from siamese_utils import checkpoints, profiles

    smoke = profiles.get_profile("smoke")
    monkeypatch.setattr(bench_mnist, "RUNS", tmp_path)
    network, results = bench_mnist.trained_network(smoke, 7, "the command")
    assert (tmp_path / "mnist-smoke-seed7" / "best.keras").is_file()
    assert (
        results["command"] == "the command"
        and network.name == "siamese_network"
    )

    folder = tmp_path / "mnist-smoke-seed8"
    _kept_run(folder, smoke)
    checkpoints.write_json(
        folder / "results.json", {"recipe": {"learning_rate": 9.0}}
    )
    with pytest.raises(ValueError, match="another recipe"):
        bench_mnist.trained_network(smoke, 8, "the command")
    assert (folder / "best.keras").is_file()  # refused, not replaced
