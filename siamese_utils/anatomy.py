"""Looking inside the network: layer tables, compute counts, activations and gradients.

These helpers measure a built model; they never change it. Chapters use them to show what
each part of the network does.
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np

from siamese_utils.model import (
    DISTANCE_LAYER,
    PROBABILITY_LAYER,
    SCORE_LAYER,
    L1Distance,
    twin_of,
)


@dataclasses.dataclass(frozen=True)
class LayerRow:
    """One layer of the twin: its name, kind, output shape, parameters and multiply-adds."""

    name: str
    kind: str
    output_shape: tuple[int, ...]
    parameters: int
    multiply_adds: int


def _multiply_adds(layer) -> int:
    """Multiply-accumulate operations of one forward pass of ``layer`` on one image."""
    if isinstance(layer, keras.layers.Conv2D):
        height, width, out_channels = layer.output.shape[1:]
        kernel_h, kernel_w, in_channels, _ = layer.kernel.shape
        return int(
            height * width * out_channels * kernel_h * kernel_w * in_channels
        )
    if isinstance(layer, keras.layers.Dense):
        return int(np.prod(layer.kernel.shape))
    return 0


# The parts of the network, as the chapters name them, by the prefix of their layer names.
PARTS = ("stem", "block", "encoder", "classifier")
TWIN_PARTS = ("stem", "block", "encoder")


def part_of(layer_name: str) -> str:
    """The part a layer belongs to (``stem``, ``block``, ``encoder``, ``classifier``).

    Raises:
        ValueError: the name does not start with a part's name, as the builders name layers.
    """
    for part in PARTS:
        if layer_name.startswith(part + "_"):
            return part
    raise ValueError(
        f"Layer {layer_name!r} belongs to no part; its name should start with one of {PARTS}."
    )


def describe(layer) -> str:
    """What a layer computes, in a few words; the sizes are left to :func:`output_text`."""
    activation = getattr(layer, "activation", None)
    activation = (
        getattr(activation, "__name__", "") if activation is not None else ""
    )
    if isinstance(layer, keras.layers.Conv2D):
        return f"convolution, {activation}"
    if isinstance(layer, keras.layers.MaxPooling2D):
        rows, columns = layer.pool_size
        return f"{rows}x{columns} max-pool"
    if isinstance(layer, keras.layers.BatchNormalization):
        return "batch normalisation"
    if isinstance(layer, keras.layers.Flatten):
        return "flatten"
    if isinstance(layer, L1Distance):
        return "|h1 - h2|, unit by unit"
    if isinstance(layer, keras.layers.Dense):
        if layer.units == 1 and activation == "linear":
            return "weighted sum: the score s (a logit)"
        return f"dense, {activation}" + (
            ": the embedding h" if layer.name.startswith("encoder") else ""
        )
    if isinstance(layer, keras.layers.Activation):
        return (
            f"{activation}: p(same)" if activation == "sigmoid" else activation
        )
    return type(layer).__name__


def shape_text(shape) -> str:
    """A shape without its batch axis, as ``48x48x64``."""
    return "x".join(str(int(d)) for d in shape[1:])


def output_text(layer) -> str:
    """A layer's output shape for one image (``48x48x64``), after its kernel for a convolution
    (``10x10: 96x96x64``)."""
    shape = shape_text(layer.output.shape)
    if isinstance(layer, keras.layers.Conv2D):
        rows, columns = layer.kernel_size
        return f"{rows}x{columns}: {shape}"
    return shape


def diagram_layers(network: keras.Model) -> list:
    """The layers a picture of ``network`` shows, input to output: the twin's, then the head's."""
    twin = twin_of(network)
    head = [
        network.get_layer(name)
        for name in (DISTANCE_LAYER, SCORE_LAYER, PROBABILITY_LAYER)
    ]
    return [
        layer
        for layer in twin.layers
        if not isinstance(layer, keras.layers.InputLayer)
    ] + head


def layer_table(network: keras.Model) -> list[LayerRow]:
    """Every layer of the twin, then the distance and classifier layers of the head.

    ``multiply_adds`` counts one image through the twin (the head: one pair).
    """
    # The picture's layers less the sigmoid, which has no weights and no cost.
    return [
        LayerRow(
            name=layer.name,
            kind=type(layer).__name__,
            output_shape=tuple(int(d) for d in layer.output.shape[1:]),
            parameters=int(layer.count_params()),
            multiply_adds=_multiply_adds(layer),
        )
        for layer in diagram_layers(network)
        if layer.name != PROBABILITY_LAYER
    ]


HEAD_LAYERS = (DISTANCE_LAYER, SCORE_LAYER)


def twin_multiply_adds(network: keras.Model) -> int:
    """Multiply-adds of one image through the twin (the head's layers left out)."""
    return sum(
        row.multiply_adds
        for row in layer_table(network)
        if row.name not in HEAD_LAYERS
    )


def format_layer_table(rows: list[LayerRow]) -> str:
    """The layer table as fixed-width text (stable, so nbval can compare it).

    The name column is as wide as the longest layer name, plus two spaces.
    """
    width = max([len("layer"), *(len(row.name) for row in rows)]) + 2
    lines = [
        f"{'layer':<{width}}{'kind':<14}{'output shape':>16}{'parameters':>13}"
    ]
    for row in rows:
        shape = "x".join(str(d) for d in row.output_shape)
        lines.append(
            f"{row.name:<{width}}{row.kind:<14}{shape:>16}{row.parameters:>13,}"
        )
    total = sum(row.parameters for row in rows)
    lines.append(f"{'total':<{width + 30}}{total:>13,}")
    return "\n".join(lines)


@dataclasses.dataclass(frozen=True)
class ActivationStats:
    """Summary of one layer's outputs on a batch of images."""

    name: str
    # "relu", "sigmoid", ...: which of the two shares below applies.
    activation: str
    mean: float
    std: float
    dead: float  # share of exact zeros of a ReLU layer (units that are off); 0 for others
    saturated: float  # share of sigmoid outputs within 0.01 of 0 or 1


def activation_statistics(
    network: keras.Model, images: np.ndarray
) -> list[ActivationStats]:
    """Mean, spread, dead and saturated shares of every convolution and dense output.

    Pooling and flattening only move values around, so they are left out.
    """
    twin = twin_of(network)
    watched = [
        layer
        for layer in twin.layers
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense))
    ]
    probe = keras.Model(twin.inputs, [layer.output for layer in watched])
    outputs = probe.predict(images, verbose=0, batch_size=128)
    stats = []
    for layer, values in zip(watched, outputs):
        values = np.asarray(values, np.float64)
        sigmoid = layer.activation is keras.activations.sigmoid
        relu = layer.activation is keras.activations.relu
        stats.append(
            ActivationStats(
                name=layer.name,
                activation=layer.activation.__name__,
                mean=float(values.mean()),
                std=float(values.std()),
                dead=float(np.mean(values == 0.0)) if relu else 0.0,
                saturated=float(np.mean((values < 0.01) | (values > 0.99)))
                if sigmoid
                else 0.0,
            )
        )
    return stats


def receptive_fields(network: keras.Model) -> dict[str, int]:
    """Side of the input window that one output unit of each twin layer can see, in pixels.

    A k x k convolution widens the window by (k - 1) steps of the current stride; a 2x2
    pooling by one step, and then doubles the stride.
    """
    fields, field, jump = {}, 1, 1
    for layer in twin_of(network).layers:
        if isinstance(layer, keras.layers.Conv2D):
            field += (layer.kernel_size[0] - 1) * jump
        elif isinstance(layer, keras.layers.MaxPooling2D):
            field += (layer.pool_size[0] - 1) * jump
            jump *= layer.strides[0]
        else:
            continue
        fields[layer.name] = field
    return fields


def feature_maps(
    network: keras.Model, images: np.ndarray, layer_name: str
) -> np.ndarray:
    """Outputs of one twin layer for ``images``: ``(n, height, width, channels)``."""
    twin = twin_of(network)
    probe = keras.Model(twin.inputs, twin.get_layer(layer_name).output)
    return np.asarray(probe.predict(images, verbose=0))


@dataclasses.dataclass(frozen=True)
class StrongestResponses:
    """For a few channels of one layer, the images that excite each channel most.

    ``images[i]`` lists indices (into the probed images) in decreasing order of channel
    ``channels[i]``'s peak response, whose values are ``peaks[i]``.
    """

    layer_name: str
    channels: list[int]
    images: np.ndarray  # (len(channels), per_channel) image indices
    peaks: np.ndarray  # (len(channels), per_channel) peak responses


def strongest_responses(
    network: keras.Model,
    images: np.ndarray,
    layer_name: str,
    channels: int = 6,
    per_channel: int = 8,
) -> StrongestResponses:
    """The images that drive the most selective channels of a twin layer hardest.

    A channel's response to an image is its peak value over all positions: "does this
    pattern occur anywhere in the character?". The channels shown are those whose peak
    varies most across the images: a channel that fires equally for every character says
    nothing about which character it is.

    Raises:
        ValueError: when fewer images than ``per_channel`` are given, or the layer has fewer
            than ``channels`` channels.
    """
    if len(images) < per_channel:
        raise ValueError(
            f"Need at least per_channel={per_channel} images, got {len(images)}."
        )
    # (n, channels)
    peaks = feature_maps(network, images, layer_name).max(axis=(1, 2))
    if peaks.shape[1] < channels:
        raise ValueError(
            f"Layer {layer_name!r} has {peaks.shape[1]} channels; asked for {channels}."
        )
    # Stable sorts (and ties broken by index) keep the choice identical from run to run.
    chosen = np.argsort(-peaks.std(axis=0), kind="stable")[:channels]
    order = np.argsort(-peaks[:, chosen], axis=0, kind="stable")[:per_channel].T
    return StrongestResponses(
        layer_name=layer_name,
        channels=[int(c) for c in chosen],
        images=order,
        peaks=np.take_along_axis(peaks[:, chosen].T, order, axis=1),
    )
