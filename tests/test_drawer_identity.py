"""bench.drawers: whether a drawer number names one person across alphabets."""

import json
import pathlib

import numpy as np

from bench import drawers

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_one_person_per_number_within_alphabets_shows_as_correlation_there_only():
    rng = np.random.default_rng(0)
    # Two alphabets of three characters: within each, drawer d draws with ink
    # style[alphabet, d]; the alphabets' styles are drawn independently.
    style = rng.normal(size=(2, 20))
    alphabet = np.array([0, 0, 0, 1, 1, 1])
    ink = style[alphabet] + 0.01 * rng.normal(size=(6, 20))
    same, different = drawers.mean_correlations(ink, alphabet)
    assert same > 0.99 and abs(different) < 0.5


def test_each_image_lands_on_its_characters_row_and_its_drawers_column():
    class Split:
        characters = np.array([7, 7, 3])
        drawers = np.array([0, 19, 5])
        alphabets = np.array([1, 1, 0])
        images = np.stack([np.full((2, 2, 1), v) for v in (0.25, 0.5, 1.0)])

        def __len__(self):
            return 3

    ink, alphabet = drawers.ink_by_drawer(Split())
    assert ink.shape == (2, 20) and alphabet.tolist() == [0, 1]
    assert ink[0, 5] == 1.0 and ink[1, 0] == 0.25 and ink[1, 19] == 0.5


def test_the_recorded_figures_say_how_they_were_made():
    recorded = json.loads(
        (ROOT / "bench" / "results" / "drawers.json").read_text()
    )
    assert recorded["command"] == "python -m bench.drawers"
    assert recorded["characters"] == 1623
    assert recorded["same_alphabet"] > recorded["different_alphabets"]
