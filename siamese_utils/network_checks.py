"""The network builders' argument checks, and the rules for swapping in a chapter's groups.

The chapters write the network's groups themselves (:mod:`siamese_utils.network` is made
from their cells). What a reader need not read to understand a layer, a clear error for a
wrong argument, lives here, so that the page's code stays the lesson.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Callable, Mapping, Sequence

# The group functions a builder can take from a chapter (``groups={"stem": stem}``).
GROUP_NAMES = ("twin", "stem", "block", "encoder", "classifier")
# The embedding's activation: the paper's sigmoid, or none (an unbounded embedding).
EMBEDDING_ACTIVATIONS = ("sigmoid", "linear")


def initialisation_scales(initialisation: str, schemes: Mapping) -> dict:
    """The scales of the initialisation scheme named ``initialisation`` in ``schemes``.

    Raises:
        ValueError: for a name ``schemes`` does not hold, listing those it does.
    """
    if initialisation not in schemes:
        raise ValueError(
            f"Unknown initialisation {initialisation!r}; choose one of "
            f"{', '.join(schemes)}."
        )
    return schemes[initialisation]


def layer_l2(l2: float | Mapping[str, float], layer_name: str) -> float:
    """The L2 weight of one layer: ``l2`` itself, or its entry for the layer.

    ``l2`` is one weight for every layer, or a mapping from layer name to weight (the
    paper's per-layer ``lambda_j``) in which the key ``"*"`` covers the layers not named.

    Raises:
        ValueError: when a mapping names neither the layer nor ``"*"``.
    """
    if not isinstance(l2, Mapping):
        return float(l2)
    if layer_name in l2:
        return float(l2[layer_name])
    if "*" in l2:
        return float(l2["*"])
    raise ValueError(
        f"The per-layer L2 weights name no weight for {layer_name!r} and have no "
        f"default under '*'; they name {sorted(l2)}."
    )


def check_input_shape(input_shape) -> tuple[int, int, int]:
    """``input_shape`` as a tuple, when it is ``(size, size, channels)`` of positive integers.

    Raises:
        ValueError: for any other shape, saying what Omniglot's images are.
    """
    shape = tuple(input_shape)
    if len(shape) != 3 or not all(isinstance(s, int) and s > 0 for s in shape):
        raise ValueError(
            f"input_shape must be (height, width, channels) of positive integers, "
            f"got {input_shape!r}; Omniglot images are (105, 105, 1)."
        )
    if shape[0] != shape[1]:
        raise ValueError(
            f"input_shape must be square, got {shape[0]}x{shape[1]}."
        )
    return shape


def feature_map_sizes(
    image_size: int, kernel_sizes: Sequence[int]
) -> list[int]:
    """Side of the feature maps after each convolution (and its pooling, except the last).

    Raises:
        ValueError: when the image is too small for the kernels, naming the layer where
            the map would vanish.
    """
    sizes, side = [], int(image_size)
    for position, kernel in enumerate(kernel_sizes):
        side = side - kernel + 1
        if side < 1:
            raise ValueError(
                f"An input of {image_size}x{image_size} pixels is too small for kernels "
                f"{tuple(kernel_sizes)}: convolution {position + 1} would leave no pixels. "
                "Use a larger image_size or smaller kernel_sizes."
            )
        sizes.append(side)
        if position < len(kernel_sizes) - 1:
            side //= 2
    return sizes


def check_network_arguments(
    input_shape, filters: Sequence[int], kernel_sizes: Sequence[int]
) -> tuple[int, int, int]:
    """The twin's input shape, once its shape and convolutions are known to fit together.

    Raises:
        ValueError: for a bad shape, filter and kernel lists of different lengths or
            fewer than two convolutions, or an image too small for the kernels.
    """
    shape = check_input_shape(input_shape)
    if len(filters) != len(kernel_sizes) or len(filters) < 2:
        raise ValueError(
            "filters and kernel_sizes need one entry per convolution, the stem's first and at "
            f"least one for the block (the paper has four); got {tuple(filters)} and "
            f"{tuple(kernel_sizes)}."
        )
    feature_map_sizes(shape[0], kernel_sizes)
    return shape


def check_block_sizes(
    filters: Sequence[int], kernel_sizes: Sequence[int]
) -> None:
    """Raise ``ValueError`` unless the block has one kernel size per filter count (>= 1)."""
    if len(filters) != len(kernel_sizes) or not filters:
        raise ValueError(
            "conv_block needs one kernel size per filter count (at least one "
            f"of each), got {len(filters)} filter counts and "
            f"{len(kernel_sizes)} kernel sizes."
        )


def check_embedding_activation(activation: str) -> None:
    """Raise ``ValueError`` for an embedding activation other than sigmoid or linear."""
    if activation not in EMBEDDING_ACTIVATIONS:
        raise ValueError(
            f"Unknown embedding activation {activation!r}; choose one of "
            f"{', '.join(EMBEDDING_ACTIVATIONS)}."
        )


def chosen_groups(groups: Mapping[str, Callable] | None) -> dict:
    """The group functions a builder was given (``{}`` for none), once they are known groups.

    Raises:
        ValueError: for a name not in :data:`GROUP_NAMES`.
        TypeError: for a group that is not a function.
    """
    groups = dict(groups or {})
    unknown = sorted(set(groups) - set(GROUP_NAMES))
    if unknown:
        raise ValueError(
            f"Unknown network group(s) {unknown}; a builder takes groups named "
            f"{', '.join(GROUP_NAMES)}, e.g. groups={{'stem': stem}}."
        )
    for name, function in groups.items():
        if not callable(function):
            raise TypeError(
                f"The group {name!r} must be a function that builds it, got "
                f"{type(function).__name__}."
            )
    return groups


def same_definition(function: Callable, reference: Callable) -> bool:
    """Whether two functions have the same code, comments and layout aside.

    Tells a chapter's own definition of a group, run unchanged, from one a reader has
    edited: the recorded runs describe the book's definitions only. A function whose
    source cannot be read counts as different.
    """
    try:
        sources = [inspect.getsource(f) for f in (function, reference)]
    except (OSError, TypeError):
        return False
    first, second = (ast.parse(textwrap.dedent(s)) for s in sources)
    return ast.dump(first) == ast.dump(second)
