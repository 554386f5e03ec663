"""What a reproduction trains, validates and is tested on (the paper's split by alphabet and
drawer, Koch et al., 2015, Section 4.1), and how its best network is scored on the test data."""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import numpy as np

from siamese_utils import data, drawers, evaluate, model, sampling
from siamese_utils.recipe import QUARTER_TURNS, Recipe
from siamese_utils.seeding import stream


@dataclasses.dataclass
class Splits:
    """The reproduction's data: training images and the validation and test sets."""

    train: object
    validation_trials: object
    validation_pairs: tuple
    test_trials: object
    test_pairs: tuple
    calibration_pairs: (
        tuple  # training pairs that set the threshold of a ranking-loss run
    )


def with_turned_characters(
    split: data.OmniglotSplit, turns: int
) -> data.OmniglotSplit:
    """``split`` plus each of its characters turned by 90 degrees, 180, ... (``turns``
    quarter turns, 1 to 3), every turn a new character of the same alphabet (not in the
    paper).

    A letter turned on its side is a shape its alphabet does not use for that letter, so
    training gets up to four times as many characters to tell apart, each drawn by the same
    drawers. A turned character's id is the original's plus ``k`` times
    :data:`siamese_utils.drawers.NUM_CHARACTERS`, so it is never taken for a real one.

    Raises:
        ValueError: for ``turns`` outside 1..3 (a fourth turn is the character itself).
    """
    if not turns or turns not in QUARTER_TURNS:
        raise ValueError(
            f"turns={turns!r}: add 1, 2 or 3 quarter turns of each character; a "
            "fourth turn would be the character itself."
        )
    ks = range(turns + 1)

    def stacked(arrays):
        stack = np.concatenate(list(arrays))
        stack.flags.writeable = False
        return stack

    return data.OmniglotSplit(
        name=f"{split.name}[{turns} quarter turns]",
        images=stacked(np.rot90(split.images, k, axes=(1, 2)) for k in ks),
        characters=stacked(
            split.characters + k * drawers.NUM_CHARACTERS for k in ks
        ),
        alphabets=stacked(split.alphabets for _ in ks),
        alphabet_names=split.alphabet_names,
        drawers=stacked(split.drawers for _ in ks),
    )


def turns_in_words(turns: int) -> str:
    """``"3 quarter turns"``, ``"1 quarter turn"``: how the book names ``turns``."""
    return f"{turns} quarter turn{'s' if turns > 1 else ''}"


def load_splits(
    profile,
    recipe: Recipe,
    seed: int,
    data_dir=None,
    training_drawers=data.TRAINING_DRAWERS,
) -> Splits:
    """The drawer and alphabet split of the paper, at the profile's image size.

    ``training_drawers`` (drawer indices, from 0) picks the background drawers trained on: the
    paper's first 12 by default; ``bench.drawers --train`` trains on the last 12 instead.
    """
    background = data.load_split("train", profile.image_size, data_dir=data_dir)
    evaluation = data.load_split("test", profile.image_size, data_dir=data_dir)
    validation = data.validation_split(profile.image_size, data_dir=data_dir)
    test = _test_set(evaluation)
    train = background.select_drawers(training_drawers)
    if recipe.quarter_turns:
        train = with_turned_characters(train, recipe.quarter_turns)
    trials = _trial_sets(profile, seed, validation, test)
    return Splits(
        train=train,
        validation_trials=trials.validation_trials,
        validation_pairs=sampling.pair_arrays(
            validation,
            profile.validation_pairs,
            stream(seed, "validation-pairs"),
            profile.same_alphabet_negatives,
        ),
        test_trials=trials.test_trials,
        # The paper's test pairs (Table 1) draw a different character from anywhere in the
        # test set, not preferably from the same alphabet as the training pairs do.
        test_pairs=sampling.pair_arrays(
            test,
            profile.verification_pairs,
            stream(seed, "test-pairs"),
            same_alphabet_negatives=0.0,
        ),
        calibration_pairs=sampling.pair_arrays(
            train,
            profile.validation_pairs,
            stream(seed, "calibration-pairs"),
            profile.same_alphabet_negatives,
        ),
    )


class TrialSets(NamedTuple):
    """A seed's one-shot trials: on the validation alphabets, and the paper's protocol."""

    validation_trials: evaluate.OneShotTrials
    test_trials: evaluate.OneShotTrials


def scoring_trials(profile, seed: int, data_dir=None) -> TrialSets:
    """The seed's trials as :func:`load_splits` draws them, at the profile's image size,
    without loading or sampling the training data: all that scoring a trained network
    needs. A seed draws the same trials (the same characters and drawings) at every image
    size."""
    evaluation = data.load_split("test", profile.image_size, data_dir=data_dir)
    validation = data.validation_split(profile.image_size, data_dir=data_dir)
    return _trial_sets(profile, seed, validation, _test_set(evaluation))


def same_tasks(*trial_sets: TrialSets) -> bool:
    """Whether the trial sets pose the same tasks: the same queries against the same
    candidates with the same answers, whatever the size of their images."""
    first, *others = trial_sets
    return all(
        np.array_equal(getattr(a, key), getattr(b, key))
        for other in others
        for a, b in zip(first, other)
        for key in ("queries", "candidates", "answers")
    )


def _test_set(evaluation: data.OmniglotSplit) -> data.OmniglotSplit:
    """The paper's test images: the test alphabets, drawn by the test drawers."""
    return evaluation.select_alphabets(data.TEST_ALPHABETS).select_drawers(
        data.TEST_DRAWERS
    )


def _trial_sets(profile, seed: int, validation, test) -> TrialSets:
    # Each trial set draws from a stream of its own, so either can be drawn alone.
    return TrialSets(
        validation_trials=evaluate.paper_protocol_trials(
            validation,
            profile.n_way,
            profile.validation_trials,
            stream(seed, "validation-trials"),
            data.VALIDATION_ALPHABETS,
        ),
        test_trials=evaluate.paper_protocol_trials(
            test,
            profile.n_way,
            profile.test_trials,
            stream(seed, "test-trials"),
            data.TEST_ALPHABETS,
        ),
    )


def evaluate_reproduction(network, splits: Splits, profile) -> dict:
    """Verification accuracy on the test pairs and 20-way accuracies, as a results dict."""
    (left, right), labels = splits.test_pairs
    scores = model.logit_network(network).predict(
        [left, right], batch_size=256, verbose=0
    )[:, 0]
    official = evaluate.one_shot(
        network, evaluate.official_runs(image_size=profile.image_size)
    )
    return {
        # score > 0 is p(same) > 0.5
        "verification_accuracy": float(
            np.mean((scores > 0.0) == (labels[:, 0] > 0.5))
        ),
        "one_shot_paper_protocol": evaluate.one_shot(
            network, splits.test_trials
        ).accuracy,
        "one_shot_official_runs": official.accuracy,
        "verification_pairs": int(len(labels)),
        "paper_protocol_trials": int(len(splits.test_trials)),
        "official_trials": int(len(official.trials)),
    }
