"""How each run trains: the reproduction's recipes (the paper's and the fast one) and the
chapters' shorter runs.

A :class:`Recipe` owns every training setting (sampler, optimiser, learning rate, steps,
episode, distortions); a :class:`siamese_utils.profiles.Profile` owns the sizes (network,
batch, evaluation). :func:`recipe_for` gives the recipe of a profile for one purpose:
``"reproduction"`` (:data:`RECIPES`, what ``python -m siamese_utils train`` runs),
``"chapter"`` (a chapter's main run), ``"sweep"`` (a chapter's all-pairs run) or
``"experiment"`` (each arm
of a chapter's experiment over seeds, :mod:`siamese_utils.experiments`),
:data:`CHAPTER_RECIPES`.

The paper (Koch et al., 2015, Sections 3.2 and 4) trains on pairs of background images from
12 of the 20 drawers, with affine distortions, by SGD with a learning rate and momentum per
layer (:class:`siamese_utils.optimizers.LayerwiseSGD`), and stops early on one-shot accuracy
over 320 validation tasks. :data:`RECIPES` holds that recipe for the ``paper`` profile, and
for ``fast`` the changes that make a laptop CPU learn in minutes: every pair inside an
episode scored at once and ranked (:class:`siamese_utils.train.AllPairsTrainer`), Adam, and
batch normalisation in the convolutional block; it keeps the paper's distortions. The
ablation in ``bench/ablation.py`` measured those changes; chapter 6 shows the table.

The paper did not publish its per-layer learning rates and momenta (they came out of a
Bayesian search over eta in [1e-4, 1e-1] and mu in [0, 1]); the values below are choices
inside those ranges, stated as such.
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np

from siamese_utils.data import require_positive_integers
from siamese_utils.distortions import PAPER_RANGES, AffineRanges
from siamese_utils.model import SCORE_LAYER, siamese_network
from siamese_utils.optimizers import LayerwiseSGD
from siamese_utils.samplers import (
    SAMPLERS,
    Sampler,
    TrainingLoss,
    sampler_named,
)

OPTIMIZERS = ("layerwise-sgd", "adam")
QUARTER_TURNS = (0, 1, 2, 3)  # the values of Recipe.quarter_turns
# The range of learning rates the paper's Bayesian search explored (Section 3.2).
PAPER_LEARNING_RATE_RANGE = (1e-4, 1e-1)
# How a recipe is written into the records (:meth:`Recipe.as_dict`). Version 1 (rows without
# ``record_version``) wrote ``distortion_pool`` and ``batch_norm`` only when set (here at the
# value it meant); version 2 wrote every field; version 3 left out the evaluation's sizes,
# which the profile owns now; later versions added the settings of ADDED_IN_VERSION.
RECORD_VERSION = 6
VERSION_1_DEFAULTS = {"distortion_pool": 0, "batch_norm": False}
# version -> the settings it added -> the value every older run had.
ADDED_IN_VERSION = {
    4: {"pair_set": 0},
    5: {"weight_average": 0.0},
    6: {"quarter_turns": 0},
}
# What versions 1 and 2 wrote that the profile now owns (the evaluation's sizes).
MOVED_TO_THE_PROFILE = (
    "validation_trials",
    "test_trials",
    "verification_pairs",
)


def recorded_recipe(values: dict) -> dict:
    """A recipe as recorded, in the current version's form, to compare with
    :meth:`Recipe.as_dict` (a record of any version describes the run that made it)."""
    values = dict(values)
    if "record_version" not in values:
        values = {**VERSION_1_DEFAULTS, **values}
    version = values.get("record_version", 1)
    if version < 3:
        for key in MOVED_TO_THE_PROFILE:
            values.pop(key, None)
    for added, defaults in ADDED_IN_VERSION.items():
        if version < added:
            values = {**defaults, **values}
    values["record_version"] = RECORD_VERSION
    return values


@dataclasses.dataclass(frozen=True)
class Recipe:
    """Everything about how the reproduction trains, beyond the network's size.

    Attributes:
        sampler: ``"pairs"`` (the paper: one label per image pair) or ``"all-pairs"``
            (every pair inside an episode, :func:`siamese_utils.train.train_all_pairs`).
        optimizer: ``"layerwise-sgd"`` (the paper) or ``"adam"``.
        loss: the loss of ``all-pairs`` training, ``"balanced-bce"`` (the paper's binary
            cross-entropy) or ``"ranking"`` (each positive pair against its anchor's
            negatives, :class:`siamese_utils.train.AllPairsTrainer`); ``pairs`` training
            always uses the paper's binary cross-entropy.
        learning_rate: Adam's rate, or the SGD rate of layers not in ``layer_rates``.
        cosine_decay: let Adam's rate fall along a half cosine to zero over ``max_steps``
            (ignored by the per-layer SGD, which has the paper's 1% per epoch).
        layer_rates: per-layer SGD learning rates (layer name -> eta_j).
        final_momentum: per-layer final momenta (layer name -> mu_j; ``"*"`` for the rest).
        momentum_epochs: epochs the momentum takes to rise from 0.5 to ``mu_j``.
        l2: one L2 weight for every layer, or layer name -> lambda_j.
        batch_norm: train the network with batch normalisation before the block's ReLUs
            (not in the paper; :func:`siamese_utils.model.siamese_network`). Like ``l2``, a
            setting of how the network learns rather than of its size, so the recipe owns it;
            the chapters' experiments leave it off and chapter 4 measures it as an arm.
        distortions: the affine distortion ranges, or ``None`` for undistorted images.
        distortion_pool: fixed distortions per training image, drawn and warped once
            before training (:func:`siamese_utils.epoch_data.pooled_distortions`; the paper's eight per pair); each
            image of a pair is then the original or one of them, with equal chances.
            ``0`` draws a fresh distortion for every image of every step instead.
        pair_set: ``pairs`` training on a fixed set of this many pairs, drawn once from the
            run's seed, each step a random batch of them (the paper's Table 1 trained on
            sets of 30,000, 90,000 and 150,000 pairs); ``0`` draws fresh pairs every step.
        episode: ``(alphabets, characters, images per character)`` of one episode of
            ``all-pairs`` training (:func:`siamese_utils.sampling.sample_episodes`).
        episodes_per_step: episodes in one training step of ``all-pairs`` training; the
            step's loss is their mean. Data-parallel training gives each replica whole
            episodes, so it needs a multiple of the replica count.
        steps_per_epoch: training steps between two validations.
        max_epochs: the most epochs a run trains (the paper: 200); the chapters' runs
            always train all of them (they do not stop early).
        patience: epochs without a better validation one-shot accuracy before stopping
            (the paper: 20).
        weight_average: the momentum of an exponential moving average of the weights,
            updated after every step (Adam's ``use_ema``), or ``0.0`` for none (not in the
            paper). With it, every validation scores the averaged weights, and the epoch
            kept is an average's: a momentum of 0.998 averages over about 500 steps.
        quarter_turns: add each training character turned by 90 degrees, 180, ... (1 to 3
            turns) as new characters, or ``0`` for none (not in the paper; :mod:`siamese_utils.run_data`).
    """

    sampler: str
    optimizer: str
    learning_rate: float
    loss: str = "balanced-bce"
    cosine_decay: bool = False
    layer_rates: dict = dataclasses.field(default_factory=dict)
    final_momentum: dict = dataclasses.field(default_factory=lambda: {"*": 0.9})
    momentum_epochs: int = 10
    l2: float | dict = 2e-4
    batch_norm: bool = False
    distortions: AffineRanges | None = PAPER_RANGES
    distortion_pool: int = 0
    pair_set: int = 0
    episode: tuple[int, int, int] = (4, 8, 4)
    episodes_per_step: int = 1
    steps_per_epoch: int = 100
    max_epochs: int = 10
    patience: int = 5
    weight_average: float = 0.0
    quarter_turns: int = 0

    def __post_init__(self):
        sampling = sampler_named(self.sampler)
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(
                f"Unknown optimizer {self.optimizer!r}; choose one of {OPTIMIZERS}."
            )
        if self.loss not in sampling.losses():
            known = sorted(
                {name for s in SAMPLERS.values() for name in s.losses()}
            )
            if self.loss not in known:
                raise ValueError(
                    f"Unknown loss {self.loss!r}; choose one of {known}."
                )
            raise ValueError(
                f"The {self.loss!r} loss compares pairs that share an image, which only "
                "all-pairs training has; use sampler='all-pairs' or loss='balanced-bce'."
            )
        require_positive_integers(
            steps_per_epoch=self.steps_per_epoch,
            max_epochs=self.max_epochs,
            patience=self.patience,
            momentum_epochs=self.momentum_epochs,
            episodes_per_step=self.episodes_per_step,
        )
        if not 0.0 <= self.weight_average < 1.0 or (
            self.weight_average and self.optimizer != "adam"
        ):
            raise ValueError(
                f"weight_average={self.weight_average!r}: a momentum in (0, 1) of Adam's "
                "moving average of the weights, or 0.0 for none; the paper's per-layer "
                "SGD keeps no average."
            )
        if self.quarter_turns not in QUARTER_TURNS:
            raise ValueError(
                f"quarter_turns={self.quarter_turns!r}: 1, 2 or 3 turns of each training "
                "character as new characters, or 0 for none."
            )
        if self.distortion_pool < 0 or (
            self.distortion_pool and self.distortions is None
        ):
            raise ValueError(
                f"distortion_pool={self.distortion_pool!r}: a pool holds 1 or more "
                "distortions per image and needs distortion ranges; use 0 for fresh "
                "distortions (or none, with distortions=None)."
            )
        if self.pair_set < 0 or (self.pair_set and self.sampler != "pairs"):
            raise ValueError(
                f"pair_set={self.pair_set!r}: a fixed set of pairs is a positive count, "
                "for sampler='pairs' only; use 0 for fresh pairs every step."
            )
        if len(self.episode) != 3:
            raise ValueError(
                f"episode is (alphabets, characters, images per character), got {self.episode!r}."
            )
        parts = ("alphabets", "characters", "images per character")
        require_positive_integers(**dict(zip(parts, self.episode)))

    @property
    def sampling(self) -> Sampler:
        """The sampler object this recipe's ``sampler`` names."""
        return sampler_named(self.sampler)

    @property
    def objective(self) -> TrainingLoss:
        """The loss a training step minimises (for pairs, the plain cross-entropy)."""
        return self.sampling.training_loss(self)

    @property
    def training_loss(self) -> str:
        """The name of :attr:`objective`."""
        return self.objective.name

    @property
    def episode_size(self) -> int:
        """Images in one episode of ``all-pairs`` training."""
        return int(np.prod(self.episode))

    @property
    def images_per_step(self) -> int | None:
        """Images of one ``all-pairs`` step (``None`` for pairs, whose batch the profile sizes)."""
        return self.sampling.images_per_step(self)

    @property
    def max_steps(self) -> int:
        """Training steps of a run that never stops early."""
        return self.steps_per_epoch * self.max_epochs

    def as_dict(self) -> dict:
        """The recipe as plain JSON-ready values, every field, with its record version."""
        values = dataclasses.asdict(self)
        if self.distortions is not None:
            values["distortions"] = dataclasses.asdict(self.distortions)
        values["record_version"] = RECORD_VERSION
        return values

    def network_kwargs(self, profile) -> dict:
        """Keyword arguments of :func:`siamese_utils.model.siamese_network` for the network
        this recipe trains at ``profile``'s sizes (its L2 penalty is the recipe's ``l2``)."""
        return {**profile.network_kwargs(), "batch_norm": self.batch_norm}

    def build_network(self, profile, *, groups=None, **changes) -> keras.Model:
        """A fresh, untrained network that this recipe trains at ``profile``'s sizes.

        The one place a network is built for training: the reproduction, the chapters'
        experiments, data-parallel training and the benchmarks all call it, so each trains
        the network it draws. Its layers are :meth:`network_kwargs` (what a run records)
        and its L2 penalty is the recipe's ``l2``.

        Args:
            groups: group functions to use instead of the book's, by name (``{"stem":
                stem}``: a chapter's own definition; see
                :func:`siamese_utils.network.twin`).
            changes: keyword changes to the network (an experiment's arm, e.g.
                ``kernel_sizes=...``), applied last.
        """
        arguments = {"l2": self.l2, **self.network_kwargs(profile), **changes}
        return siamese_network(groups=groups, **arguments)


RECIPES: dict[str, Recipe] = {
    # Koch et al. (2015): pairs, distortions, per-layer SGD, early stopping on 320 tasks.
    # Epochs of 1,000 steps of 128 pairs (128,000 pairs, near the paper's 150,000-pair set),
    # each image the original or one of its eight distortions, warped before training.
    "paper": Recipe(
        sampler="pairs",
        optimizer="layerwise-sgd",
        learning_rate=1e-2,
        layer_rates={"encoder_dense": 5e-3, SCORE_LAYER: 5e-3},
        final_momentum={"*": 0.9},
        momentum_epochs=10,
        l2=2e-4,
        distortion_pool=8,
        steps_per_epoch=1_000,
        max_epochs=200,
        patience=20,
    ),
    # Minutes on a 2-core CPU: all pairs of each 128-image episode, ranked (each positive
    # against its anchor's negatives), Adam at 3e-3 falling along a half cosine over 24
    # epochs, the paper's distortions, and batch normalisation before the block's ReLUs. It
    # trains all 24 epochs and keeps the epoch with the best validation one-shot accuracy.
    # Chosen on validation tasks (chapter 6): the ablation rows of
    # bench/results/ablation.jsonl chose everything but batch normalisation and the epoch
    # count on RECIPES["fast-no-batch-norm"]; batch normalisation beat that recipe on
    # validation over three seeds, and 24 of its epochs take about the training time of 30
    # without it (bench/results/seeds.jsonl).
    "fast": Recipe(
        sampler="all-pairs",
        optimizer="adam",
        learning_rate=3e-3,
        cosine_decay=True,
        loss="ranking",
        batch_norm=True,
        steps_per_epoch=100,
        max_epochs=24,
        patience=24,
    ),
    # Seconds: the paper's path (pairs, a distortion pool, per-layer SGD) at a toy size.
    "smoke": Recipe(
        sampler="pairs",
        optimizer="layerwise-sgd",
        learning_rate=1e-2,
        distortion_pool=8,
        steps_per_epoch=2,
        max_epochs=3,
        patience=2,
    ),
}
# The fast recipe as first chosen: no batch normalisation, 30 epochs. The ablation's recipe
# variants (bench/ablation.py) change this one, and chapter 6 compares the fast recipe with it.
RECIPES["fast-no-batch-norm"] = dataclasses.replace(
    RECIPES["fast"], batch_norm=False, max_epochs=30, patience=30
)
# The laptop profile trains the fast recipe for 30 epochs instead of 24 (about ten minutes
# on two cores).
RECIPES["laptop"] = dataclasses.replace(
    RECIPES["fast"], max_epochs=30, patience=30
)
# Seconds: the fast recipe's path (two all-pairs episodes a step, ranking loss) at the smoke
# recipe's toy size; what the data-parallel tests split by whole episodes. It keeps the
# paper's SGD so that several replicas can be checked against one device to the last bits:
# Adam divides each step by the root of its running squared gradient, so a weight whose
# gradient is nearly zero, and whose last bits depend on the order the replicas' gradients
# are added in, can move by up to the learning rate either way.
RECIPES["smoke-episodes"] = dataclasses.replace(
    RECIPES["smoke"],
    sampler="all-pairs",
    loss="ranking",
    episode=(2, 4, 2),
    episodes_per_step=2,
    distortion_pool=0,
)


def _chapter_recipes(
    rate: float,
    steps: tuple[int, int],
    sweep: tuple[int, int],
    sweep_rate: float,
    sweep_episode: tuple[int, int, int],
    experiment: tuple[int, int],
    experiment_episode: tuple[int, int, int],
) -> dict[str, Recipe]:
    """A profile's chapter runs: ``(steps per epoch, epochs)`` of each, undistorted Adam."""
    adam = {"optimizer": "adam", "distortions": None}
    return {
        # Each arm of a chapter's experiment (siamese_utils.experiments): the fast recipe's
        # training (all pairs of an episode, ranking loss, Adam at 3e-3 along a half cosine)
        # in a shorter run, and without distortions, so that arms differ only in the network.
        "experiment": Recipe(
            sampler="all-pairs",
            loss="ranking",
            learning_rate=3e-3,
            cosine_decay=True,
            steps_per_epoch=experiment[0],
            max_epochs=experiment[1],
            episode=experiment_episode,
            **adam,
        ),
        "chapter": Recipe(
            sampler="pairs",
            learning_rate=rate,
            steps_per_epoch=steps[0],
            max_epochs=steps[1],
            **adam,
        ),
        # All pairs of episodes with half the images per character (a quarter of the pairs),
        # which keeps wide heads affordable; all-pairs training takes a higher rate than pairs
        # (the ablation in chapter 6).
        "sweep": Recipe(
            sampler="all-pairs",
            learning_rate=sweep_rate,
            steps_per_epoch=sweep[0],
            max_epochs=sweep[1],
            episode=sweep_episode,
            **adam,
        ),
    }


# Profile name -> purpose -> recipe of the chapters' own runs (see recipe_for).
CHAPTER_RECIPES: dict[str, dict[str, Recipe]] = {
    # Minutes on a laptop CPU: 900 steps for a chapter's main run, 500 for each arm of an
    # experiment.
    "fast": _chapter_recipes(
        3e-4,
        steps=(150, 6),
        sweep=(50, 5),
        sweep_rate=1e-3,
        sweep_episode=(4, 8, 2),
        experiment=(100, 5),
        experiment_episode=(4, 8, 4),
    ),
    "paper": _chapter_recipes(
        6e-5,
        steps=(1_000, 30),
        sweep=(500, 5),
        sweep_rate=1e-3,
        sweep_episode=(4, 8, 2),
        experiment=(1_000, 5),
        experiment_episode=(4, 8, 4),
    ),
    "smoke": _chapter_recipes(
        1e-3,
        steps=(2, 2),
        sweep=(1, 4),
        sweep_rate=1e-3,
        sweep_episode=(2, 4, 2),
        experiment=(2, 2),
        experiment_episode=(2, 4, 2),
    ),
}
# The laptop profile's chapters run the fast profile's (only its reproduction is longer).
CHAPTER_RECIPES["laptop"] = CHAPTER_RECIPES["fast"]
PURPOSES = ("reproduction", "chapter", "sweep", "experiment")


def recipe_for(profile, purpose: str = "reproduction") -> Recipe:
    """The recipe a :class:`siamese_utils.profiles.Profile` names for ``purpose``.

    The reproduction's recipe is the one :data:`RECIPES` holds under the profile's
    ``recipe``; the command line's ``--recipe`` can train a profile's network by another.

    Raises:
        ValueError: for a purpose not in :data:`PURPOSES`.
    """
    if purpose == "reproduction":
        return RECIPES[profile.recipe]
    if purpose not in PURPOSES:
        raise ValueError(
            f"Unknown purpose {purpose!r}; choose one of {', '.join(PURPOSES)}."
        )
    return CHAPTER_RECIPES[profile.recipe][purpose]


def pairs_per_step(profile, recipe: Recipe) -> int:
    """Image pairs one training step learns from: the batch (pairs), or every pair of an episode."""
    return recipe.sampling.pairs_per_step(profile, recipe)


def make_optimizer(recipe: Recipe):
    """The Keras optimiser the recipe asks for."""
    if recipe.optimizer == "adam":
        rate = recipe.learning_rate
        if recipe.cosine_decay:
            rate = keras.optimizers.schedules.CosineDecay(
                rate, decay_steps=recipe.max_steps
            )
        if recipe.weight_average:
            return keras.optimizers.Adam(
                rate, use_ema=True, ema_momentum=recipe.weight_average
            )
        return keras.optimizers.Adam(rate)
    return LayerwiseSGD(
        learning_rates={"*": recipe.learning_rate, **recipe.layer_rates},
        momenta=dict(recipe.final_momentum),
        steps_per_epoch=recipe.steps_per_epoch,
        momentum_epochs=recipe.momentum_epochs,
    )


# The tf.distribute strategies a run can train under (siamese_utils.distributed), named
# here, apart from TensorFlow, so that the command line can list them on any backend.
STRATEGIES = ("default", "mirrored", "multi-worker")


def check_distributable(recipe: Recipe, replicas: int) -> None:
    """Refuse a recipe whose steps cannot be cut into ``replicas`` equal slices.

    A slice of an ``all-pairs`` step must hold whole episodes (a cut episode would lose the
    pairs between its halves), so the step's episodes must divide among the replicas.

    A recipe that averages its weights is refused too: the average is swapped in by a
    callback of Keras' ``fit`` on one device, which the strategies' custom loop does not run.

    Raises:
        ValueError: for an ``all-pairs`` recipe whose ``episodes_per_step`` is not a multiple
            of ``replicas``, or a recipe with ``weight_average``.
    """
    if recipe.weight_average:
        raise ValueError(
            "weight_average is Keras' fit on one device (Adam's use_ema with "
            "SwapEMAWeights); train this recipe without --strategy."
        )
    recipe.sampling.check_replicas(recipe, replicas)
