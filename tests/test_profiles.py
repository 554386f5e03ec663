"""The profile switch: one place sizes every run."""

import pytest

from siamese_utils import profiles
from siamese_utils.model import feature_map_sizes
from siamese_utils.recipe import recipe_for


def test_fast_is_the_default_when_nothing_is_set(monkeypatch):
    monkeypatch.delenv("SIAMESE_PROFILE", raising=False)
    assert profiles.get_profile().name == "fast"


def test_environment_variable_selects_the_profile(monkeypatch):
    monkeypatch.setenv("SIAMESE_PROFILE", "smoke")
    assert profiles.get_profile().name == "smoke"
    monkeypatch.setenv("SIAMESE_PROFILE", " Paper ")
    assert profiles.get_profile().name == "paper"


def test_an_explicit_name_wins_over_the_environment(monkeypatch):
    monkeypatch.setenv("SIAMESE_PROFILE", "smoke")
    assert profiles.get_profile("fast").name == "fast"


def test_unknown_profile_is_an_error_that_lists_the_valid_ones(monkeypatch):
    monkeypatch.setenv("SIAMESE_PROFILE", "turbo")
    with pytest.raises(ValueError) as error:
        profiles.get_profile()
    message = str(error.value)
    assert "turbo" in message and "SIAMESE_PROFILE" in message
    for name in ("fast", "paper", "smoke"):
        assert name in message


def test_paper_profile_has_the_papers_architecture():
    paper = profiles.get_profile("paper")
    assert paper.input_shape == (105, 105, 1)
    assert paper.filters == (64, 128, 128, 256)
    assert paper.kernel_sizes == (10, 7, 4, 4)
    assert paper.embedding_units == 4096
    assert paper.batch_size == 128


@pytest.mark.parametrize("name", sorted(profiles.PROFILES))
def test_every_profile_gives_a_network_that_fits_its_images(name):
    profile = profiles.get_profile(name)
    assert min(feature_map_sizes(profile.image_size, profile.kernel_sizes)) >= 1


def test_profiles_grow_from_smoke_to_fast_to_paper():
    smoke, fast, paper = (
        profiles.get_profile(n) for n in ("smoke", "fast", "paper")
    )
    steps = [recipe_for(p, "chapter").max_steps for p in (smoke, fast, paper)]
    assert steps == sorted(steps) and len(set(steps)) == 3
    assert smoke.image_size < fast.image_size < paper.image_size


TRAINING_SETTINGS = (
    "learning_rate",
    "steps_per_epoch",
    "max_epochs",
    "episode",
    "sampler",
    "optimizer",
)


def test_a_profile_holds_sizes_and_every_training_setting_lives_in_a_recipe():
    # One owner per setting: a chapter's run and the reproduction may train differently,
    # and both read how from their recipe, never from the profile.
    fields = {
        field.name for field in profiles.Profile.__dataclass_fields__.values()
    }
    assert not fields & {
        *TRAINING_SETTINGS,
        "train_steps",
        "experiment_steps",
        "sweep_steps",
    }
    for name in profiles.PROFILES:
        for purpose in ("reproduction", "chapter", "sweep", "experiment"):
            recipe = recipe_for(profiles.get_profile(name), purpose)
            assert all(
                hasattr(recipe, setting) for setting in TRAINING_SETTINGS
            )


def test_an_unknown_purpose_names_the_valid_ones():
    with pytest.raises(
        ValueError, match="reproduction, chapter, sweep, experiment"
    ):
        recipe_for(profiles.get_profile("smoke"), "holiday")


def test_the_laptop_profile_trains_the_fast_network_longer():
    import dataclasses

    fast, laptop = (profiles.get_profile(n) for n in ("fast", "laptop"))
    assert dataclasses.replace(laptop, name="fast", recipe="fast") == fast
    assert recipe_for(laptop) == dataclasses.replace(
        recipe_for(fast), max_epochs=30, patience=30
    )
    for purpose in ("chapter", "sweep", "experiment"):
        assert recipe_for(laptop, purpose) == recipe_for(fast, purpose)


def test_batch_normalisation_is_the_cpu_recipes_choice_not_the_papers():
    for name in ("fast", "laptop"):
        profile = profiles.get_profile(name)
        assert recipe_for(profile).network_kwargs(profile)["batch_norm"]
    paper = profiles.get_profile("paper")
    assert not recipe_for(paper).network_kwargs(paper)["batch_norm"]
    # The chapters take the paper's network apart; their runs keep its block.
    for name in profiles.PROFILES:
        profile = profiles.get_profile(name)
        for purpose in ("chapter", "sweep", "experiment"):
            assert not recipe_for(profile, purpose).batch_norm
        assert "batch_norm" not in profile.network_kwargs()
