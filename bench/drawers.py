"""Does a drawer number name the same person in every alphabet?

Omniglot names each image ``NNNN_MM.png``: character ``NNNN`` drawn by drawer ``MM``. The
official runs take all their images from drawers 1 to 8, and the book trains on drawers 1
to 12 of the background alphabets, so whether drawer ``MM`` of a test alphabet is the same
person as drawer ``MM`` of a training alphabet decides whether the official runs show the
network handwriting it has seen.

People differ in how much ink a drawing takes (how large and how dense they draw), and each
keeps to it. So ``python -m bench.drawers`` measures, for every character, the ink of its 20
drawings (the fraction of the 105 x 105 pixels inked), and correlates these 20 values, drawer
by drawer, between two characters. Where one number names one person, two characters'
profiles correlate; where the numbers are reassigned, they do not. The mean correlation is
taken over every pair of characters of the same alphabet and over every pair from different
alphabets; a permutation of the drawer numbers within each character gives the value chance
alone would give. The figures go to ``bench/results/drawers.json``, which chapter 6 reads.

``python -m bench.drawers --train [--seeds 2015 2016 2017]`` then measures what the drawers
do to the score: it runs the fast reproduction (as ``bench.seeds`` does) with the background
drawers 9-20 in place of 1-12, so no training image shares a drawer number with the official
runs' drawers 1-8, and appends one row per seed to ``bench/results/drawers-training.jsonl``.
Chapter 6 compares them, seed by seed, with the recorded ``bench.seeds`` rows of the same
recipe (the same seeds give the same validation and test trials).
"""

from __future__ import annotations

import json
import sys

import numpy as np

from bench import common
from siamese_utils import data, records
from siamese_utils.paths import RECORDS, ROOT, RUNS
from siamese_utils.profiles import get_profile

RESULTS = RECORDS / "drawers.json"
# Omniglot's own resolution: no resizing blurs the ink
FULL_SIZE = data.ORIGINAL_IMAGE_SIZE
PERMUTATIONS = 20
SEED = 2015
TRAINING_RESULTS = RECORDS / "drawers-training.jsonl"
# The background drawers of the held-out runs, as indices from 0: drawers 9-20.
HELD_OUT_TRAINING_DRAWERS = tuple(range(8, 20))
TRAINING_PROFILE = "fast"
# The figures a training row keeps, as results.json names them.
TRAINING_FIGURES = (
    "validation_one_shot",
    "one_shot_official_runs",
    "one_shot_paper_protocol",
    "verification_accuracy",
    "train_seconds",
    "training_drawers",
)


def ink_by_drawer(split: data.OmniglotSplit) -> tuple[np.ndarray, np.ndarray]:
    """Each character's ink fraction per drawer ``(characters, 20)`` and its alphabet."""
    characters = np.unique(split.characters)
    ink = np.zeros((len(characters), 20))
    alphabet = np.zeros(len(characters), np.int64)
    row = np.searchsorted(characters, split.characters)
    ink[row, split.drawers] = split.images.reshape(len(split), -1).mean(axis=1)
    alphabet[row] = split.alphabets
    return ink, alphabet


def mean_correlations(
    ink: np.ndarray, alphabet: np.ndarray
) -> tuple[float, float]:
    """Mean correlation of two characters' drawer profiles: same alphabet, different."""
    centred = ink - ink.mean(axis=1, keepdims=True)
    unit = centred / np.linalg.norm(centred, axis=1, keepdims=True)
    correlation = unit @ unit.T
    upper = np.triu_indices(len(ink), k=1)
    same = (alphabet[:, None] == alphabet[None, :])[upper]
    values = correlation[upper]
    return float(values[same].mean()), float(values[~same].mean())


def measure() -> dict:
    """The correlations, observed and under permuted drawer numbers."""
    splits = [data.load_split(name, FULL_SIZE) for name in ("train", "test")]
    parts = [ink_by_drawer(split) for split in splits]
    ink = np.concatenate([p[0] for p in parts])
    alphabet = np.concatenate([p[1] for p in parts])
    same, different = mean_correlations(ink, alphabet)
    rng = np.random.default_rng(SEED)
    chance = np.array(
        [
            mean_correlations(rng.permuted(ink, axis=1), alphabet)
            for _ in range(PERMUTATIONS)
        ]
    )
    return {
        "characters": int(len(ink)),
        "same_alphabet": same,
        "different_alphabets": different,
        "permuted_largest": float(np.abs(chance).max()),
        "permutations": PERMUTATIONS,
        "command": "python -m bench.drawers",
        "machine": common.machine(),
        "date": common.now(),
    }


def train_held_out(seed: int) -> dict:
    """Train the fast reproduction on background drawers 9-20; returns its row (appended)."""
    profile = get_profile(TRAINING_PROFILE)
    return common.recorded_run(
        TRAINING_RESULTS,
        RUNS / f"drawers-9-20-{profile.name}-seed{seed}",
        f"python -m bench.drawers --train --seeds {seed}",
        ("recipe", "network", *TRAINING_FIGURES),
        {"profile": profile.name, "seed": seed},
        profile=profile,
        seed=seed,
        training_drawers=HELD_OUT_TRAINING_DRAWERS,
    )


def held_out_rows() -> list[dict]:
    """The recorded held-out rows of the fast profile's current recipe, latest per seed."""
    return records.seed_rows(get_profile(TRAINING_PROFILE), TRAINING_RESULTS)


def main(argv: list[str]) -> int:
    parser = common.command_parser(
        "bench.drawers", __doc__, profile=False, seeds="several"
    )
    parser.add_argument(
        "--train",
        action="store_true",
        help="train on background drawers 9-20 instead of measuring ink",
    )
    arguments = parser.parse_args(argv)
    if arguments.train:
        for seed in arguments.seeds:
            row = train_held_out(seed)
            print(
                f"seed {seed}, trained on drawers 9-20: official runs "
                f"{100 * row['one_shot_official_runs']:.1f}%, paper's protocol "
                f"{100 * row['one_shot_paper_protocol']:.1f}%",
                flush=True,
            )
        print(f"appended to {TRAINING_RESULTS.relative_to(ROOT)}")
        return 0
    figures = measure()
    RESULTS.write_text(json.dumps(figures, indent=1) + "\n")
    print(
        f"{figures['characters']} characters; correlation of two characters' ink by "
        f"drawer: same alphabet {figures['same_alphabet']:.3f}, different alphabets "
        f"{figures['different_alphabets']:.3f}; with the drawer numbers permuted, "
        f"at most {figures['permuted_largest']:.3f} in absolute value"
    )
    print(f"written to {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
