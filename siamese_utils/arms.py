"""The arms of each chapter's experiment: what chapters 2-6 each compare.

:func:`chapter_arms` gives an experiment's arms at a profile's sizes, the chapter's own
(the book's network) first; :mod:`siamese_utils.experiments` trains and scores them, and
``python -m bench.experiments NAME`` records them over seeds. Each experiment is one small
function below, so adding one is adding a function and its name to :data:`CHAPTER_ARMS`.
"""

from __future__ import annotations

from siamese_utils import model
from siamese_utils.data import ORIGINAL_IMAGE_SIZE
from siamese_utils.experiment_results import Arm


def fits(profile, kernel_sizes) -> bool:
    """Whether the profile's image is large enough for these kernel sizes."""
    try:
        model.feature_map_sizes(profile.image_size, kernel_sizes)
    except ValueError:
        return False
    return True


def twin_arms(profile) -> list[Arm]:
    """Chapter 2: the paper's initialisation against the design document's."""
    return [
        Arm("the paper's initialisation"),
        Arm(
            "the design document's initialisation",
            {"initialisation": "design-document"},
        ),
    ]


def stem_arms(profile) -> list[Arm]:
    """Chapter 3: the paper's 10x10 stem scaled to the profile's image (5x5 at 52 pixels)
    against 3x3 and 7x7, leaving out a kernel the image is too small for."""
    others = profile.kernel_sizes[1:]
    scaled = max(1, round(10 * profile.image_size / ORIGINAL_IMAGE_SIZE))
    kernels = [
        k for k in dict.fromkeys((scaled, 3, 7)) if fits(profile, (k, *others))
    ]
    return [
        Arm(
            f"{k}x{k} stem"
            + (" (the paper's 10x10, scaled)" if k == scaled else ""),
            {}
            if k == profile.kernel_sizes[0]
            else {"kernel_sizes": (k, *others)},
        )
        for k in kernels
    ]


def block_arms(profile) -> list[Arm]:
    """Chapter 4: the profile's widths against half of them and batch normalisation."""
    return [
        Arm("the profile's widths"),
        Arm(
            "half the widths",
            {"filters": tuple(max(1, f // 2) for f in profile.filters)},
        ),
        Arm("with batch normalisation", {"batch_norm": True}),
    ]


def encoder_arms(profile) -> list[Arm]:
    """Chapter 5: embeddings of 256, 1,024 and 4,096 units, the profile's own first, and
    the profile's own without the sigmoid."""
    widths = [profile.embedding_units] + [
        w for w in (256, 1024, 4096) if w != profile.embedding_units
    ]
    return [
        Arm(
            f"{w:,} units",
            {} if w == profile.embedding_units else {"embedding_units": w},
        )
        for w in widths
    ] + [
        Arm(
            f"{profile.embedding_units:,} units, no sigmoid",
            {"embedding_activation": "linear"},
        )
    ]


def classifier_arms(profile) -> list[Arm]:
    """Chapter 6: the learned weighted L1 head against an unweighted L1 distance and the
    cosine similarity of the same embeddings."""
    return [
        Arm("the learned weighted L1 head"),
        Arm("unweighted L1 distance", scoring="l1"),
        Arm("cosine similarity", scoring="cosine"),
    ]


# The chapters' experiments, by the name bench.experiments records them under.
CHAPTER_ARMS = {
    "twin": twin_arms,
    "stem": stem_arms,
    "block": block_arms,
    "encoder": encoder_arms,
    "classifier": classifier_arms,
}
CHAPTER_EXPERIMENTS = tuple(CHAPTER_ARMS)


def chapter_arms(name: str, profile) -> list[Arm]:
    """The arms of a chapter's experiment at ``profile``'s sizes, the reference first.

    Raises:
        ValueError: for a name that is not one of :data:`CHAPTER_EXPERIMENTS`.
    """
    if name not in CHAPTER_ARMS:
        raise ValueError(
            f"Unknown experiment {name!r}; choose one of {', '.join(CHAPTER_EXPERIMENTS)}."
        )
    return CHAPTER_ARMS[name](profile)
