"""One switch that sizes every run in the book: the ``SIAMESE_PROFILE`` profile.

Notebooks never hard-code image sizes, widths or step counts; they ask
:func:`get_profile` and use what it returns. A profile holds sizes: the network's, a
batch's and the evaluation's. How long and how fast each run trains (steps, learning
rate, sampler) is a :class:`siamese_utils.recipe.Recipe`, one per purpose and profile
(:func:`siamese_utils.recipe.recipe_for`), so every training setting has one owner.
Four profiles exist:

``fast`` (the default)
    What the published book executes: a narrower network on 52x52 images that trains
    in minutes on a laptop CPU and still learns a one-shot classifier worth reading about.
``laptop``
    The fast sizes, trained by the fast recipe for 30 epochs instead of 24: about ten
    minutes on two cores (chapter 6 compares it with the paper on the paper's protocol).
``paper``
    The scale of Koch et al. (2015): 105x105 images and the full 38.9M-parameter network.
    Meant for a GPU; on a CPU one epoch takes hours.
``smoke``
    A toy size that proves every cell runs in seconds (used by nbval in CI). Its numbers
    mean nothing.
"""

from __future__ import annotations

import dataclasses
import os

from siamese_utils.data import ORIGINAL_IMAGE_SIZE

# The paper's evaluation (Koch et al., 2015, Section 4): 320 validation tasks chose its
# networks; 400 test trials and 10,000 verification pairs scored them.
PAPER_VALIDATION_TRIALS = 320
PAPER_TEST_TRIALS = 400
PAPER_VERIFICATION_PAIRS = 10_000

PROFILE_ENVIRONMENT_VARIABLE = "SIAMESE_PROFILE"
DEFAULT_PROFILE = "fast"


@dataclasses.dataclass(frozen=True)
class Profile:
    """Every size a chapter needs, for one profile.

    Attributes:
        name: the profile's name (``fast``, ``laptop``, ``paper`` or ``smoke``).
        image_size: side of the square input images, in pixels.
        filters: filter counts of the four convolutional layers (stem, then the block).
        kernel_sizes: kernel sides of the same four layers.
        embedding_units: width of the encoder's dense layer (the embedding).
        batch_size: image pairs per training step of pair training.
        same_alphabet_negatives: share of different-character pairs drawn from one alphabet.
        validation_pairs: verification pairs scored after every epoch.
        validation_trials: N-way validation trials that choose the best epoch (the paper:
            320).
        test_trials: N-way test trials of the paper's protocol (the paper: 400).
        verification_pairs: test pairs of the verification accuracy (the paper: 10,000).
        recipe: the name of the reproduction's recipe in
            :data:`siamese_utils.recipe.RECIPES`, and of the chapters' recipes in
            :data:`siamese_utils.recipe.CHAPTER_RECIPES`.
        n_way: classes per one-shot trial.
        distributed_steps: training steps each strategy is timed for in the appendix on
            data parallelism (:func:`siamese_utils.distributed.throughput`).
    """

    name: str
    image_size: int
    filters: tuple[int, int, int, int]
    kernel_sizes: tuple[int, int, int, int]
    embedding_units: int
    batch_size: int
    same_alphabet_negatives: float
    validation_pairs: int
    recipe: str
    validation_trials: int = PAPER_VALIDATION_TRIALS
    test_trials: int = PAPER_TEST_TRIALS
    verification_pairs: int = PAPER_VERIFICATION_PAIRS
    n_way: int = 20
    distributed_steps: int = 3

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """Shape of one input image: ``(image_size, image_size, 1)``."""
        return (self.image_size, self.image_size, 1)

    def network_kwargs(self) -> dict:
        """Keyword arguments for :func:`siamese_utils.model.siamese_network`."""
        return {
            "input_shape": self.input_shape,
            "filters": self.filters,
            "kernel_sizes": self.kernel_sizes,
            "embedding_units": self.embedding_units,
        }


PROFILES: dict[str, Profile] = {
    "fast": Profile(
        name="fast",
        recipe="fast",
        image_size=52,
        filters=(32, 64, 64, 128),
        kernel_sizes=(5, 3, 3, 3),
        embedding_units=1024,
        batch_size=64,
        same_alphabet_negatives=0.5,
        validation_pairs=2000,
        distributed_steps=30,
    ),
    "paper": Profile(
        name="paper",
        recipe="paper",
        image_size=ORIGINAL_IMAGE_SIZE,
        filters=(64, 128, 128, 256),
        kernel_sizes=(10, 7, 4, 4),
        embedding_units=4096,
        batch_size=128,
        same_alphabet_negatives=0.5,
        validation_pairs=10_000,
        distributed_steps=200,
    ),
    "smoke": Profile(
        name="smoke",
        image_size=32,
        filters=(16, 32, 32, 64),
        kernel_sizes=(5, 3, 3, 2),
        embedding_units=128,
        batch_size=32,
        same_alphabet_negatives=0.5,
        validation_pairs=32,
        recipe="smoke",
        validation_trials=40,
        test_trials=40,
        verification_pairs=64,
    ),
}


# The fast profile's sizes, trained by the laptop recipe: the fast one for 30 epochs
# instead of 24 (siamese_utils.recipe.RECIPES).
PROFILES["laptop"] = dataclasses.replace(
    PROFILES["fast"], name="laptop", recipe="laptop"
)


def get_profile(name: str | None = None) -> Profile:
    """Return the run sizes of profile ``name``.

    Args:
        name: ``fast``, ``laptop``, ``paper`` or ``smoke``. When omitted, the environment variable
            ``SIAMESE_PROFILE`` decides, and ``fast`` is used when it is unset or empty.

    Raises:
        ValueError: for a name that is not a profile; the message lists the valid ones.
    """
    source = "argument"
    if name is None:
        name = (
            os.environ.get(PROFILE_ENVIRONMENT_VARIABLE, "").strip()
            or DEFAULT_PROFILE
        )
        source = f"environment variable {PROFILE_ENVIRONMENT_VARIABLE}"
    key = name.strip().lower()
    if key not in PROFILES:
        valid = ", ".join(sorted(PROFILES))
        raise ValueError(
            f"Unknown profile {name!r} (from the {source}). Valid profiles: {valid}. "
            f"Set {PROFILE_ENVIRONMENT_VARIABLE} to one of them, or unset it for "
            f"{DEFAULT_PROFILE!r}."
        )
    return PROFILES[key]
