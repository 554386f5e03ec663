"""An independent check of a run's official 20-way accuracy.

Reads ``all_runs.zip`` (Lake et al., 2015) with its own code, feeds every (query,
candidate) pair of the 400 trials through the whole saved two-input network, picks the
best-scoring candidate of each trial, and compares the accuracy with the one the run
wrote in ``results.json``. It shares no evaluation code with ``siamese_utils.evaluate``
(no cached embeddings, no chunked head); the package is imported only so that its custom
layers are registered and the ``.keras`` file loads.

    python tools/check_official_runs.py results/fast-seed2015

prints both figures and exits with 1 when they differ by more than ``--tolerance`` points
(default 0.5).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import pathlib
import sys
import zipfile

import numpy as np


def read_runs(path) -> list[tuple[list[bytes], list[bytes], list[int]]]:
    """Every run as (its 20 candidate PNGs, its 20 query PNGs, each query's true candidate)."""
    runs = []
    with zipfile.ZipFile(path) as archive:
        for run in range(1, 21):
            folder = f"run{run:02d}"
            candidates = [
                f"{folder}/training/class{k:02d}.png" for k in range(1, 21)
            ]
            queries, answers = [], []
            for line in (
                archive.read(f"{folder}/class_labels.txt").decode().splitlines()
            ):
                if line.strip():
                    query, candidate = line.split()
                    queries.append(archive.read(query))
                    answers.append(candidates.index(candidate))
            runs.append(
                ([archive.read(c) for c in candidates], queries, answers)
            )
    return runs


def to_input(pngs: list[bytes], size: int) -> np.ndarray:
    """PNG bytes -> ``(n, size, size, 1)`` float32, ink = 1, area-resized like the book's data."""
    import tensorflow as tf
    from PIL import Image

    pixels = np.stack(
        [
            np.asarray(Image.open(io.BytesIO(png)).convert("L"), np.float32)
            for png in pngs
        ]
    )
    ink = 1.0 - pixels[..., None] / 255.0
    if ink.shape[1] != size:
        ink = tf.image.resize(ink, (size, size), "area").numpy()
    return np.clip(ink, 0.0, 1.0)


def official_accuracy(model_path, runs_path) -> tuple[float, int]:
    """(accuracy, trials with a tie at the top) of the network in ``model_path`` on all 400 trials."""
    import keras

    import siamese_utils  # registers the package's custom layers, so that the file loads

    network = keras.saving.load_model(model_path, safe_mode=True)
    # The whole two-input network up to its score: sigmoid(score) is its output, and the
    # score does not round to 1.0 where the probability would.
    scores_of = keras.Model(
        network.inputs,
        network.get_layer(siamese_utils.model.SCORE_LAYER).output,
    )
    size = int(network.inputs[0].shape[1])
    correct = ties = 0
    for candidate_pngs, query_pngs, answers in read_runs(runs_path):
        candidates, queries = (
            to_input(candidate_pngs, size),
            to_input(query_pngs, size),
        )
        # Every (query, candidate) pair of the run in one batch: query-major, 20 x 20.
        left = np.repeat(queries, len(candidates), axis=0)
        right = np.tile(candidates, (len(queries), 1, 1, 1))
        scores = scores_of.predict([left, right], verbose=0)[:, 0].reshape(
            len(queries), len(candidates)
        )
        for row, answer in zip(scores, answers):
            best = np.flatnonzero(row == row.max())
            ties += len(best) > 1
            correct += best[0] == answer and len(best) == 1
    return correct / 400, ties


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "run", help="a run folder holding best.keras and results.json"
    )
    parser.add_argument(
        "--runs-zip",
        default=os.path.join(
            os.environ.get("KERAS_HOME", os.path.expanduser("~/.keras")),
            "datasets",
            "all_runs.zip",
        ),
    )
    parser.add_argument(
        "--tolerance", type=float, default=0.5, help="points (default 0.5)"
    )
    args = parser.parse_args(argv)
    folder = pathlib.Path(args.run)
    recorded = json.loads((folder / "results.json").read_text())[
        "one_shot_official_runs"
    ]
    accuracy, ties = official_accuracy(folder / "best.keras", args.runs_zip)
    difference = 100 * abs(accuracy - recorded)
    print(
        f"independent check: {100 * accuracy:.2f}% on the official runs "
        f"({ties} trials tied at the top, counted wrong); results.json: {100 * recorded:.2f}%; "
        f"difference {difference:.2f} points (tolerance {args.tolerance})"
    )
    return 0 if difference <= args.tolerance else 1


if __name__ == "__main__":
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
    raise SystemExit(main())
