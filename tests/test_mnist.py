"""The paper's Table 3 trials: MNIST read as tfds would, and 10-way one-shot trials from it."""

import hashlib
import json

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

    # A run recorded before the recipe had quarter_turns (record version 5) ran with none.
    folder = tmp_path / "mnist-smoke-seed9"
    _kept_run(folder, smoke)
    older = json.loads((folder / "results.json").read_text())
    del older["recipe"]["quarter_turns"]
    older["recipe"]["record_version"] = 5
    (folder / "results.json").write_text(json.dumps(older))
    assert bench_mnist.trained_network(smoke, 9, "the command")[1] == older


def test_the_reduced_network_is_the_profile_on_35_pixel_images_with_kernels_that_fit():
    from siamese_utils import profiles
    from siamese_utils.network_checks import feature_map_sizes

    fast = profiles.get_profile("fast")
    reduced = mnist.reduced_profile(fast)
    assert reduced.image_size == 35 and reduced.recipe == fast.recipe
    assert (reduced.filters, reduced.embedding_units) == (
        fast.filters,
        fast.embedding_units,
    )
    # The same 2x2 last feature map as the fast network's on its 52-pixel images.
    assert feature_map_sizes(35, reduced.kernel_sizes)[-1] == 2
    assert feature_map_sizes(52, fast.kernel_sizes)[-1] == 2


def test_table_3_shows_the_reduced_network_beside_the_papers_reduced_one(
    tmp_path, monkeypatch
):
    from bench import mnist as bench_mnist
    from siamese_utils import paper_tables, profiles

    smoke = profiles.get_profile("smoke")
    reduced = mnist.reduced_profile(smoke)
    monkeypatch.setattr(bench_mnist, "RUNS", tmp_path)
    assert bench_mnist.run_folder(reduced, 1).name == "mnist-smoke-35px-seed1"
    assert "--reduced" in bench_mnist.command_for(reduced, 1)
    assert "--reduced" not in bench_mnist.command_for(smoke, 1)
    rows = []
    for profile in (smoke, reduced):
        digits, labels = mnist.load_mnist_test(profile.image_size)
        for seed in (1, 2):
            _kept_run(bench_mnist.run_folder(profile, seed), profile)
            rows.append(bench_mnist.score_seed(profile, seed, digits, labels))
    assert [row["image_size"] for row in rows] == [32, 32, 35, 35]
    assert "--reduced" in rows[-1]["command"]

    monkeypatch.setattr(paper_tables, "MNIST_ROWS", tmp_path / "mnist.jsonl")
    for row in rows:
        bench_mnist.common.append_row(tmp_path / "mnist.jsonl", row)
    text = paper_tables.mnist_over_seeds("smoke").data
    reduced_line = next(
        line for line in text.splitlines() if "35x35 images (" in line
    )
    assert reduced_line.endswith(
        "| 70.3 |"
    )  # the paper's reduced network beside ours
    own_line = next(
        line for line in text.splitlines() if "32x32 images" in line
    )
    assert own_line.endswith("| - |")
    assert "the reduced network against the 32x32 one" in text
    omniglot = paper_tables.reduced_on_omniglot("smoke").data
    assert (
        "the 35x35 network trained for seeds 1, 2 against the 32x32 one"
        in omniglot
    )
    assert "on the paper's protocol it scores 50.0% against 50.0%" in omniglot


def test_without_reduced_rows_the_omniglot_comparison_says_how_to_record_them(
    tmp_path, monkeypatch
):
    from siamese_utils import paper_tables

    monkeypatch.setattr(paper_tables, "MNIST_ROWS", tmp_path / "mnist.jsonl")
    text = paper_tables.reduced_on_omniglot("smoke").data
    assert "python -m bench.mnist --reduced" in text


def test_a_kept_network_for_other_images_is_refused_not_replaced(
    tmp_path, monkeypatch
):
    from bench import mnist as bench_mnist
    from siamese_utils import profiles

    smoke = profiles.get_profile("smoke")
    reduced = mnist.reduced_profile(smoke)
    monkeypatch.setattr(bench_mnist, "RUNS", tmp_path)
    folder = bench_mnist.run_folder(reduced, 3)
    _kept_run(
        folder, smoke
    )  # a 32-pixel network where the 35-pixel one belongs
    with pytest.raises(ValueError, match="takes .* images, not"):
        bench_mnist.trained_network(reduced, 3, "the command")
    assert (folder / "best.keras").is_file()
