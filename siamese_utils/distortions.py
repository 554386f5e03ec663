"""The paper's affine distortions (Koch et al., 2015, Section 4.1), seeded.

A distortion is ``T = (theta, rho_x, rho_y, s_x, s_y, t_x, t_y)``: a rotation, a shear along
each axis, a scale along each axis and a translation, all about the image centre. Each of
the seven components is used with probability 0.5 (otherwise it is the identity), and the
ranges are the paper's: theta in [-10, 10] degrees, rho in [-0.3, 0.3], s in [0.8, 1.2] and
t in [-2, 2] pixels.

The paper drew eight distortions per training pair up front, a fixed training set nine
times the size of its pairs. The ``paper`` recipe does the same per image:
:func:`warp_copies` warps every training image eight times once, before training, and
each pair then takes each of its images as drawn or as one of those eight. That leaves the
training steps only a lookup to do; the warps no longer compete with them for the CPU. The
``fast`` recipe instead gives every image of every step a fresh distortion. Either way the
distortions are drawn by NumPy from the run's seed, so the same seed gives the same
distortions, and the images are warped by ``keras.ops.image.affine_transform``, which runs
on every Keras backend and inside a ``tf.data`` pipeline.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from keras import ops

from siamese_utils.data import ORIGINAL_IMAGE_SIZE

PAPER_IMAGE_SIZE = (
    ORIGINAL_IMAGE_SIZE  # the size the paper's ranges are in pixels of
)
COMPONENTS = (
    "rotation",
    "shear_x",
    "shear_y",
    "scale_x",
    "scale_y",
    "shift_x",
    "shift_y",
)
IDENTITY = {
    "rotation": 0.0,
    "shear_x": 0.0,
    "shear_y": 0.0,
    "scale_x": 1.0,
    "scale_y": 1.0,
    "shift_x": 0.0,
    "shift_y": 0.0,
}


@dataclasses.dataclass(frozen=True)
class AffineRanges:
    """Ranges of the random affine distortion; the defaults are the paper's.

    Attributes:
        rotation_degrees: rotation drawn from ``[-rotation_degrees, rotation_degrees]``.
        shear: shear factors drawn from ``[-shear, shear]`` (each axis separately).
        scale: scale factors drawn from ``[scale[0], scale[1]]`` (each axis separately).
        shift_pixels: translation drawn from ``[-shift_pixels, shift_pixels]`` pixels of a
            105x105 image; it is scaled with the image, so a 52x52 image moves half as many
            pixels and every profile sees the same distortion relative to the character.
        probability: chance that each component is used at all.
    """

    rotation_degrees: float = 10.0
    shear: float = 0.3
    scale: tuple[float, float] = (0.8, 1.2)
    shift_pixels: float = 2.0
    probability: float = 0.5

    def __post_init__(self):
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError(
                f"probability must lie in [0, 1], got {self.probability!r}."
            )
        low, high = self.scale
        if not 0.0 < low <= high:
            raise ValueError(
                f"scale must be (low, high) with 0 < low <= high, got {self.scale!r}."
            )
        if min(self.rotation_degrees, self.shear, self.shift_pixels) < 0:
            raise ValueError(
                "rotation_degrees, shear and shift_pixels are half-widths; use values >= 0."
            )


PAPER_RANGES = AffineRanges()


def sample_parameters(
    count: int, rng: np.random.Generator, ranges: AffineRanges = PAPER_RANGES
) -> dict[str, np.ndarray]:
    """Draw ``count`` distortions; returns one ``(count,)`` array per component.

    Rotation is in degrees, shifts in pixels of a 105x105 image. A component that is not
    used in a distortion holds its identity value (0, or 1 for the scales).
    """
    low, high = ranges.scale
    drawn = {
        "rotation": rng.uniform(
            -ranges.rotation_degrees, ranges.rotation_degrees, count
        ),
        "shear_x": rng.uniform(-ranges.shear, ranges.shear, count),
        "shear_y": rng.uniform(-ranges.shear, ranges.shear, count),
        "scale_x": rng.uniform(low, high, count),
        "scale_y": rng.uniform(low, high, count),
        "shift_x": rng.uniform(
            -ranges.shift_pixels, ranges.shift_pixels, count
        ),
        "shift_y": rng.uniform(
            -ranges.shift_pixels, ranges.shift_pixels, count
        ),
    }
    used = rng.random((len(COMPONENTS), count)) < ranges.probability
    return {
        name: np.where(used[row], drawn[name], IDENTITY[name])
        for row, name in enumerate(COMPONENTS)
    }


def transforms_from_parameters(
    parameters: dict[str, np.ndarray], image_size: int
) -> np.ndarray:
    """Turn distortion parameters into ``keras.ops.image.affine_transform`` rows, ``(n, 8)``.

    The distortion maps an input point to ``centre + shift + R S_h S (point - centre)``;
    ``affine_transform`` wants the opposite direction (for every output pixel, where to
    read in the input), so each row is the inverse matrix's first two rows.
    """
    theta = np.deg2rad(parameters["rotation"])
    count = len(theta)
    rotation = np.zeros((count, 3, 3))
    rotation[:, 0, 0], rotation[:, 0, 1] = np.cos(theta), -np.sin(theta)
    rotation[:, 1, 0], rotation[:, 1, 1] = np.sin(theta), np.cos(theta)
    rotation[:, 2, 2] = 1.0
    shear = np.tile(np.eye(3), (count, 1, 1))
    shear[:, 0, 1], shear[:, 1, 0] = (
        parameters["shear_x"],
        parameters["shear_y"],
    )
    scale = np.tile(np.eye(3), (count, 1, 1))
    scale[:, 0, 0], scale[:, 1, 1] = (
        parameters["scale_x"],
        parameters["scale_y"],
    )
    centre = (image_size - 1) / 2.0
    pixels_per_paper_pixel = image_size / PAPER_IMAGE_SIZE
    to_centre = np.tile(np.eye(3), (count, 1, 1))
    to_centre[:, :2, 2] = -centre
    back = np.tile(np.eye(3), (count, 1, 1))
    back[:, 0, 2] = centre + parameters["shift_x"] * pixels_per_paper_pixel
    back[:, 1, 2] = centre + parameters["shift_y"] * pixels_per_paper_pixel
    forward = back @ rotation @ shear @ scale @ to_centre
    inverse = np.linalg.inv(forward)
    inverse /= inverse[:, 2:3, 2:3]
    return inverse.reshape(count, 9)[:, :8].astype(np.float32)


def sample_transforms(
    count: int,
    image_size: int,
    seed: int | np.random.Generator,
    ranges: AffineRanges = PAPER_RANGES,
) -> np.ndarray:
    """``count`` random distortions as ``affine_transform`` rows ``(count, 8)``, seeded."""
    rng = (
        seed
        if isinstance(seed, np.random.Generator)
        else np.random.default_rng(seed)
    )
    return transforms_from_parameters(
        sample_parameters(count, rng, ranges), image_size
    )


def identity_transforms(count: int) -> np.ndarray:
    """Rows that leave the images as they are, ``(count, 8)``."""
    rows = np.zeros((count, 8), np.float32)
    rows[:, 0] = rows[:, 4] = 1.0
    return rows


def distort(images, transforms):
    """Warp ``images`` ``(n, size, size, 1)`` by ``transforms`` ``(n, 8)``.

    Bilinear sampling; what comes in from outside the image is background (0), which is
    why the book stores ink as 1.
    """
    return ops.image.affine_transform(
        images,
        transforms,
        interpolation="bilinear",
        fill_mode="constant",
        fill_value=0,
    )


# Pool images are stored as bytes: a quarter of float32's memory (1.2 GB for the paper's
# 105-pixel training set with eight distortions each, instead of 4.6 GB), and a step of
# 1/255 is far below what bilinear resampling already blurs.
POOL_LEVELS = 255


def warp_copies(
    images: np.ndarray,
    copies: int,
    rng: np.random.Generator,
    ranges: AffineRanges = PAPER_RANGES,
    batch: int = 1024,
) -> np.ndarray:
    """Each image and ``copies`` fixed distortions of it, drawn and warped once.

    Args:
        images: ``(n, size, size, 1)`` float images with values in [0, 1].
        copies: distortions per image (the paper: 8).
        rng: draws the distortions (image 0's first, then image 1's, ...).
        ranges: the distortion ranges.
        batch: images warped at a time, which bounds the memory the warp needs.

    Returns:
        ``(n, copies + 1, size, size, 1)`` uint8, ink 255: version 0 is the image itself,
        versions 1 to ``copies`` its distortions. Divide by :data:`POOL_LEVELS` to get
        floats in [0, 1] back.
    """
    if copies < 1:
        raise ValueError(
            f"A pool needs at least one distortion per image, got {copies}."
        )
    images = np.asarray(images, np.float32)
    low, high = float(images.min()), float(images.max())
    if low < 0.0 or high > 1.0:
        raise ValueError(
            f"Pool images must lie in [0, 1] (ink 1), got values in [{low}, {high}]."
        )
    count, size = len(images), images.shape[1]
    transforms = sample_transforms(count * copies, size, rng, ranges)
    pool = np.empty((count, copies + 1, *images.shape[1:]), np.uint8)
    pool[:, 0] = np.rint(images * POOL_LEVELS)
    for start in range(0, count * copies, batch):
        # Distortion k is version k % copies + 1 of image k // copies.
        k = np.arange(start, min(start + batch, count * copies))
        result = ops.convert_to_numpy(
            distort(images[k // copies], transforms[k])
        )
        # Bilinear weights and the background (0) keep every value inside [0, 1].
        pool[k // copies, k % copies + 1] = np.rint(result * POOL_LEVELS)
    return pool
