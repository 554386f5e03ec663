"""The sampler and loss objects: one training path, chosen by objects, not by strings."""

import ast
import dataclasses
import pathlib

import numpy as np
import pytest

from siamese_utils import data, samplers
from siamese_utils.epoch_data import epoch_batches
from siamese_utils.profiles import get_profile
from siamese_utils.recipe import RECIPES
from siamese_utils.samplers import (
    LOSSES,
    EpisodeSampler,
    PairSampler,
    loss_named,
    sampler_named,
)

ROOT = pathlib.Path(__file__).resolve().parent.parent
SMOKE = get_profile("smoke")


def test_a_recipe_hands_out_its_sampler_and_loss_as_objects():
    assert isinstance(RECIPES["paper"].sampling, PairSampler)
    assert isinstance(RECIPES["fast"].sampling, EpisodeSampler)
    assert RECIPES["paper"].objective is LOSSES["binary-cross-entropy"]
    assert RECIPES["fast"].objective is LOSSES["ranking"]
    assert RECIPES["fast"].training_loss == "ranking"


def test_only_the_ranking_loss_leaves_the_threshold_to_calibration():
    assert [name for name, loss in LOSSES.items() if loss.sets_threshold] == [
        "ranking"
    ]


def test_unknown_names_are_refused_with_the_known_ones():
    with pytest.raises(
        ValueError, match="Unknown sampler 'triplets'.*'all-pairs'"
    ):
        sampler_named("triplets")
    with pytest.raises(ValueError, match="Unknown loss 'hinge'"):
        loss_named("hinge")
    with pytest.raises(ValueError, match="Unknown loss 'hinge'"):
        dataclasses.replace(RECIPES["fast"], loss="hinge")
    with pytest.raises(ValueError, match="only all-pairs training has"):
        dataclasses.replace(RECIPES["paper"], loss="ranking")


def test_a_pair_loss_cannot_score_episodes():
    with pytest.raises(ValueError, match="train it with the 'pairs' sampler"):
        LOSSES["binary-cross-entropy"].of_episodes(None, None, None)


@pytest.mark.parametrize("name", ["paper", "fast"])
def test_each_sampler_draws_whole_steps_with_a_transform_per_image_shown(name):
    recipe = dataclasses.replace(RECIPES[name], steps_per_epoch=3)
    split = data.load_split("train", SMOKE.image_size)
    arrays = epoch_batches(split, SMOKE, recipe, seed=1, epoch=0)
    indices = len(arrays) - recipe.sampling.images_per_example
    assert all(a.shape[0] == 3 for a in arrays)
    width = recipe.images_per_step or SMOKE.batch_size
    assert all(a.shape[1] == width for a in arrays[:indices])
    step = recipe.sampling.example(
        [a[0] for a in arrays], lambda p, t: split.images[p]
    )
    inputs, targets = step
    if name == "paper":  # two images and a label per pair
        assert [x.shape[0] for x in inputs] == [width, width]
        assert targets.shape == (width, 1) and set(np.unique(targets)) <= {0, 1}
    else:  # the step's images and their characters, whole episodes
        assert inputs.shape[0] == width and targets.shape == (width,)


def test_pairs_per_step_counts_every_pair_inside_each_episode():
    fast = RECIPES["fast"]
    size = fast.episode_size
    assert fast.sampling.pairs_per_step(SMOKE, fast) == size * (size - 1) // 2
    assert RECIPES["paper"].sampling.pairs_per_step(
        SMOKE, RECIPES["paper"]
    ) == (SMOKE.batch_size)


def _string_choices(path: pathlib.Path) -> list[str]:
    """``x.sampler == ...`` / ``x.loss == ...`` comparisons in one module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Compare):
            for side in (node.left, *node.comparators):
                if isinstance(side, ast.Attribute) and side.attr in (
                    "sampler",
                    "loss",
                    "training_loss",
                ):
                    found.append(f"{path.name}:{node.lineno}")
    return found


def test_no_module_chooses_a_training_path_by_comparing_names():
    # The recipe's own check of its fields and the chapter entry points' check of the
    # recipe they were given are validation, not choices of a path.
    allowed = {"recipe.py", "train.py"}
    modules = [
        *(ROOT / "siamese_utils").glob("*.py"),
        *(ROOT / "bench").glob("*.py"),
    ]
    found = [
        hit
        for path in modules
        if path.name not in allowed
        for hit in _string_choices(path)
    ]
    assert not found, f"choose by recipe.sampling / recipe.objective: {found}"


def test_a_fixed_pair_set_is_drawn_once_and_every_step_comes_from_it(
    background,
):
    recipe = dataclasses.replace(
        RECIPES["smoke"], pair_set=50, distortion_pool=0, distortions=None
    )
    first = epoch_batches(background, SMOKE, recipe, seed=4, epoch=0)
    later = epoch_batches(background, SMOKE, recipe, seed=4, epoch=3)
    fixed = samplers.fixed_pairs(background, 50, 4, SMOKE)
    members = set(zip(fixed.left.tolist(), fixed.right.tolist()))
    for left, right, *_ in (first, later):
        assert (
            set(zip(left.ravel().tolist(), right.ravel().tolist())) <= members
        )
    # Another seed draws another set.
    other = samplers.fixed_pairs(background, 50, 5, SMOKE)
    assert not np.array_equal(other.left, fixed.left)


def test_a_fixed_pair_set_is_refused_where_it_means_nothing():
    with pytest.raises(ValueError, match="pair_set"):
        dataclasses.replace(RECIPES["fast"], pair_set=100)
    with pytest.raises(ValueError, match="pair_set"):
        dataclasses.replace(RECIPES["paper"], pair_set=-1)
