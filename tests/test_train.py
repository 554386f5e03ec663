"""Training the verifier: it runs the steps it promises, learns, and repeats itself."""

import dataclasses

import numpy as np
import pytest

from siamese_utils import data, model, profiles, train
from siamese_utils.seeding import set_seed

SMOKE = profiles.get_profile("smoke")


def _train(background, evaluation, seed, profile=SMOKE):
    set_seed(seed)
    network = model.network_for(profile)
    validation = evaluation.select_alphabets(data.VALIDATION_ALPHABETS)
    return train.train_verification(network, background, validation, profile, seed=seed, verbose=False)


def test_history_has_one_entry_per_epoch_for_each_metric(background, evaluation):
    run = _train(background, evaluation, seed=0)
    assert run.steps == SMOKE.epochs * SMOKE.steps_per_epoch
    assert set(run.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(values) == SMOKE.epochs for values in run.history.values())
    assert run.seconds > 0 and run.pairs_per_second > 0


def test_a_seeded_run_gives_the_same_numbers_twice(background, evaluation):
    first = _train(background, evaluation, seed=5)
    second = _train(background, evaluation, seed=5)
    assert first.history == second.history


def test_training_lowers_the_loss(background, evaluation):
    profile = dataclasses.replace(SMOKE, train_steps=100, steps_per_epoch=50, learning_rate=3e-3)
    run = _train(background, evaluation, seed=1, profile=profile)
    assert run.history["loss"][-1] < run.history["loss"][0]


def test_non_positive_learning_rate_is_refused():
    with pytest.raises(ValueError, match="learning_rate"):
        train.compile_for_verification(model.network_for(SMOKE), 0.0)
