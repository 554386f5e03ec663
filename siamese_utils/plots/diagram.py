"""The whole network in one picture, drawn from the Keras model itself."""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt

from siamese_utils import anatomy
from siamese_utils.plots.style import SMALLEST_FONT

# One colour per part of the network, the same in every chapter's picture.
PART_COLOURS = dict(
    zip(
        ("input", *anatomy.PARTS),
        ("tab:gray", "tab:blue", "tab:orange", "tab:green", "tab:purple"),
        strict=True,
    )
)


def network_diagram(
    network, reference=None, labels=("this network", "paper"), highlight=None
):
    """The whole Siamese network in one picture, drawn from the Keras model itself.

    One row per layer, input to output, each a box as wide as its feature map is tall (the
    vectors of the encoder and the classifier as thin bars), coloured by part, with what the
    layer computes and its output shape read from ``network``; a second shape column comes
    from ``reference`` (for example the paper's sizes beside a profile's).

    Args:
        network: the Siamese network whose layers and shapes are drawn.
        reference: another Siamese network of the same layers, shown in the second column.
        labels: the headings of the two shape columns.
        highlight: a part (``"stem"``, ``"block"``, ``"encoder"``, ``"classifier"``) or
            ``"twin"`` (its three parts) to draw in colour, the rest in grey; None colours all.
    """
    chosen = (
        set(anatomy.TWIN_PARTS)
        if highlight == "twin"
        else {highlight}
        if highlight
        else None
    )

    rows = diagram_rows(network, reference)
    side = max(float(shape[1]) for _, _, shape, _, _ in rows if len(shape) == 4)

    fig, ax = plt.subplots(figsize=(9.5, 0.36 * len(rows) + 1.2))
    top = len(rows)
    # The boxes' centre line and the input's width, in axis units.
    centre, widest = (21, 24)
    ax.set(xlim=(0, 100), ylim=(-0.7, top + 0.5))
    ax.axis("off")
    ax.text(centre, top, "layer", ha="center", va="center", fontweight="bold")
    ax.text(37, top, "what it computes", va="center", fontweight="bold")
    ax.text(81, top, labels[0], ha="right", va="center", fontweight="bold")
    if reference is not None:
        ax.text(100, top, labels[1], ha="right", va="center", fontweight="bold")
    # The data's path.
    ax.plot([centre, centre], [0, top - 1], color="0.75", lw=1, zorder=0)
    for row, values in enumerate(rows):
        draw_row(ax, top - 1 - row, *values, chosen, centre, widest, side)
    parts = [part for part, *_ in rows]
    draw_second_image(ax, parts, top, centre, widest)
    draw_legend(fig, chosen)
    draw_halves(ax, parts, top)
    return fig


def diagram_rows(network, reference) -> list[tuple]:
    """One row per layer, the input first: (part, what it computes, output shape, the
    shape as text, the reference network's shape as text or ``None``)."""
    references = (
        {layer.name: layer for layer in anatomy.diagram_layers(reference)}
        if reference
        else {}
    )

    rows = [
        (
            "input",
            "one image at a time",
            network.inputs[0].shape,
            anatomy.shape_text(network.inputs[0].shape),
            anatomy.shape_text(reference.inputs[0].shape)
            if reference
            else None,
        )
    ]
    rows += [
        (
            anatomy.part_of(layer.name),
            anatomy.describe(layer),
            layer.output.shape,
            anatomy.output_text(layer),
            anatomy.output_text(references[layer.name])
            if layer.name in references
            else None,
        )
        for layer in anatomy.diagram_layers(network)
    ]
    return rows


def draw_row(
    ax,
    y,
    part,
    text,
    shape,
    shown,
    reference_shown,
    chosen,
    centre,
    widest,
    side,
):
    """One layer's box (as wide as its feature map), its text and its shapes."""
    lit = chosen is None or part in chosen or part == "input"
    colour = PART_COLOURS[part] if lit else "0.85"
    width = widest * float(shape[1]) / side if len(shape) == 4 else widest
    height = 0.7 if len(shape) == 4 else 0.25
    ax.add_patch(
        mpl.patches.FancyBboxPatch(
            (centre - width / 2, y - height / 2),
            width,
            height,
            boxstyle="round,pad=0.02,rounding_size=0.1",
            facecolor=colour,
            edgecolor="none",
            alpha=0.9,
        )
    )
    ink = "black" if lit else "0.55"
    ax.text(37, y, text, va="center", color=ink)
    ax.text(
        81, y, shown, ha="right", va="center", color=ink, family="monospace"
    )
    if reference_shown is not None:
        ax.text(
            100,
            y,
            reference_shown,
            ha="right",
            va="center",
            color=ink,
            family="monospace",
        )


def draw_second_image(ax, parts, top, centre, widest):
    """The other image's path: through the same twin, meeting the first at the head."""
    # The second image takes the same path through the same twin, and the two embeddings
    # meet at the distance, the first layer that sees the pair.
    meet = top - 1 - parts.index("classifier")
    side_path = centre + widest / 2 + 1.5
    ax.plot([side_path, side_path], [top - 1, meet], color="0.6", lw=1, ls="--")
    ax.annotate(
        "",
        xy=(centre + 1.5, meet),
        xytext=(side_path, meet),
        arrowprops={"arrowstyle": "->", "color": "0.45", "lw": 1},
    )
    ax.text(
        side_path + 0.3,
        (top - 1 + meet) / 2,
        "the other image, the same twin",
        fontsize=SMALLEST_FONT,
        color="0.4",
        rotation=90,
        ha="left",
        va="center",
    )


def draw_legend(fig, chosen):
    """What the colours mean: the parts, in the order an image meets them."""
    # What the colours mean: the parts, in the order an image meets them.
    handles = [
        mpl.patches.Patch(color=PART_COLOURS[part], label=part)
        for part in PART_COLOURS
        if chosen is None or part in chosen or part == "input"
    ]
    fig.legend(
        handles=handles,
        loc="lower center",
        ncol=len(handles),
        frameon=False,
        bbox_to_anchor=(0.5, 0.0),
    )


def draw_halves(ax, parts, top):
    """Brackets naming the two halves: the twin runs once per image, the head once per pair."""
    # Brackets naming the two halves: the twin runs once per image, the head once per pair.
    for label, members in (
        ("twin\n(both images)", anatomy.TWIN_PARTS),
        ("classifier\n(the pair)", ("classifier",)),
    ):
        ys = [
            top - 1 - row for row, part in enumerate(parts) if part in members
        ]
        ax.plot([5, 5], [min(ys) - 0.3, max(ys) + 0.3], color="0.4", lw=1.2)
        ax.text(
            4,
            (min(ys) + max(ys)) / 2,
            label,
            ha="right",
            va="center",
            rotation=90,
            color="0.3",
        )
