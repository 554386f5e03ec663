"""Figures of images: characters, pairs, filters, feature maps, distortions and trials."""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

from siamese_utils.data import alphabet_name
from siamese_utils.plots.style import (
    SMALLEST_FONT,
    glyph,
    row_label,
    square_grid,
)


def character_grid(
    split, alphabets, characters_per_alphabet: int = 8, seed: int = 0
):
    """One row per alphabet, one random image of each of a few of its characters."""
    rng = np.random.default_rng(seed)
    index = split.index()
    fig, axes = plt.subplots(
        len(alphabets),
        characters_per_alphabet,
        figsize=(characters_per_alphabet * 0.9, len(alphabets) * 1.0),
        squeeze=False,
    )
    for row, name in enumerate(alphabets):
        alphabet_row = list(index.alphabet_ids).index(
            split.alphabet_names.index(name)
        )
        members = index.alphabet_characters[
            alphabet_row, : index.alphabet_sizes[alphabet_row]
        ]
        chosen = rng.choice(
            members, size=characters_per_alphabet, replace=False
        )
        for column, character in enumerate(chosen):
            image = index.character_images[
                character, rng.integers(index.image_counts[character])
            ]
            glyph(axes[row, column], split.images[image])
        row_label(axes[row, 0], alphabet_name(name))
    fig.tight_layout()
    return fig


def pair_grid(split, pairs, columns: int = 8):
    """Image pairs stacked vertically, titled 'same' or 'different'."""
    count = min(columns, len(pairs))
    fig, axes = plt.subplots(
        2, count, figsize=(count * 1.0, 2.4), squeeze=False
    )
    for column in range(count):
        same = bool(pairs.same[column])
        color = "tab:green" if same else "tab:red"
        glyph(
            axes[0, column],
            split.images[pairs.left[column]],
            "same" if same else "different",
            color,
        )
        glyph(axes[1, column], split.images[pairs.right[column]], None, color)
    fig.tight_layout()
    return fig


def filter_grid(kernels_by_title: dict):
    """First-layer filters (``(k, k, 1, filters)`` arrays), one panel of tiles per title.

    Each filter is scaled on its own (white = 0, red = positive, blue = negative), so
    the pattern shows even when the weights are tiny.
    """
    fig, panels = plt.subplots(
        1,
        len(kernels_by_title),
        figsize=(4.2 * len(kernels_by_title), 4.4),
        squeeze=False,
    )
    for panel, (title, kernel) in zip(panels[0], kernels_by_title.items()):
        filters = np.moveaxis(np.asarray(kernel)[:, :, 0, :], -1, 0)
        rows, columns = square_grid(len(filters))
        size = filters.shape[1]
        mosaic = np.full((rows * (size + 1), columns * (size + 1)), np.nan)
        for i, f in enumerate(filters):
            scale = np.abs(f).max() or 1.0
            r, c = divmod(i, columns)
            mosaic[
                r * (size + 1) : r * (size + 1) + size,
                c * (size + 1) : c * (size + 1) + size,
            ] = f / scale
        image = panel.imshow(mosaic, cmap="RdBu_r", vmin=-1, vmax=1)
        panel.set_title(title)
        panel.axis("off")
    fig.tight_layout()
    fig.colorbar(
        image,
        ax=list(panels[0]),
        shrink=0.7,
        label="weight / largest |weight| of its filter",
    )
    return fig


def feature_map_grid(image, maps, title: str = ""):
    """One input image and every channel of a layer's output for it.

    Every map shares one colour scale, from 0 (a ReLU's floor) to the largest response
    of any channel, and a colour bar gives it, so maps compare with each other.
    """
    maps = np.asarray(maps)
    count = maps.shape[-1]
    rows, columns = square_grid(count)
    fig = plt.figure(figsize=(columns * 0.8 + 3.0, rows * 0.8))
    grid = fig.add_gridspec(
        rows, columns + 4, width_ratios=[1] * (columns + 3) + [0.25]
    )
    image_ax = fig.add_subplot(grid[: min(rows, 3), :3])
    glyph(image_ax, image, "input")
    scale = mpl.colors.Normalize(0.0, max(float(maps.max()), 1e-12))
    for channel in range(count):
        r, c = divmod(channel, columns)
        ax = fig.add_subplot(grid[r, c + 3])
        picture = ax.imshow(maps[:, :, channel], cmap="magma", norm=scale)
        ax.axis("off")
    if count:
        bar = fig.colorbar(picture, cax=fig.add_subplot(grid[:, -1]))
        bar.set_label("response (after ReLU)")
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def maps_by_depth(image, maps_by_layer: dict, channels: int = 8):
    """One character, and for each layer the ``channels`` maps with the strongest mean response.

    Each row is one depth of the network; the maps shrink and grow abstract from row to row.
    """
    fig, axes = plt.subplots(
        len(maps_by_layer),
        channels + 1,
        figsize=(0.95 * (channels + 1), 1.05 * len(maps_by_layer)),
        squeeze=False,
    )
    for row, (name, maps) in enumerate(maps_by_layer.items()):
        maps = np.asarray(maps)
        strongest = np.argsort(-maps.mean(axis=(0, 1)), kind="stable")[
            :channels
        ]
        glyph(axes[row, 0], image)
        row_label(axes[row, 0], f"{name}\n{maps.shape[0]}x{maps.shape[1]}")
        for column, channel in enumerate(strongest, start=1):
            axes[row, column].imshow(maps[:, :, channel], cmap="magma")
            axes[row, column].set_title(f"#{channel}", fontsize=SMALLEST_FONT)
            axes[row, column].axis("off")
    fig.tight_layout()
    return fig


def response_gallery(images, responses):
    """For each channel of a :class:`siamese_utils.anatomy.StrongestResponses`, its top images."""
    rows, columns = responses.images.shape
    fig, axes = plt.subplots(
        rows, columns, figsize=(0.9 * columns + 0.8, 0.95 * rows), squeeze=False
    )
    for row, channel in enumerate(responses.channels):
        for column in range(columns):
            glyph(axes[row, column], images[responses.images[row, column]])
        row_label(axes[row, 0], f"channel {channel}")
    fig.tight_layout()
    return fig


def distortion_grid(image, distorted):
    """One character and its distortions side by side (the original framed in blue)."""
    fig, axes = plt.subplots(
        1, 1 + len(distorted), figsize=(1.2 * (1 + len(distorted)), 1.5)
    )
    glyph(axes[0], image, "original", color="tab:blue")
    for position, (ax, warped) in enumerate(zip(axes[1:], distorted), start=1):
        glyph(ax, warped, f"#{position}")
    fig.tight_layout()
    return fig


def trial_gallery(result, trials_to_show):
    """One row per trial: the query, the candidate chosen and the true match, with scores.

    The scores are the result's own (for a Siamese network, the similarity score before
    the sigmoid). A chosen candidate is framed green when it is the true match, red otherwise.
    """
    trials = result.trials
    fig, axes = plt.subplots(
        len(trials_to_show), 3, figsize=(3.6, 1.25 * len(trials_to_show))
    )
    axes = np.atleast_2d(axes)
    for row, trial in enumerate(trials_to_show):
        chosen, answer = result.choices[trial], trials.answers[trial]
        colour = "tab:green" if chosen == answer else "tab:red"
        scores = result.scores[trial]
        glyph(
            axes[row, 0],
            trials.images[trials.queries[trial]],
            "query" if row == 0 else None,
        )
        glyph(
            axes[row, 1],
            trials.images[trials.candidates[trial, chosen]],
            f"chosen {scores[chosen]:.1f}",
            color=colour,
        )
        glyph(
            axes[row, 2],
            trials.images[trials.candidates[trial, answer]],
            f"true {scores[answer]:.1f}",
            color="tab:blue",
        )
    fig.tight_layout()
    return fig


def whole_trial(result, trial: int, columns: int = 10):
    """One complete N-way trial: the query, then every candidate with its score.

    The true match is framed blue, the chosen candidate green when it is the true match
    and red otherwise; each candidate is titled with its score (for a Siamese network, the
    logit), and the candidates keep the order the trial presented them in.
    """
    trials = result.trials
    scores, chosen = result.scores[trial], result.choices[trial]
    answer = trials.answers[trial]
    rows = -(-len(scores) // columns)
    fig, axes = plt.subplots(
        rows, columns + 1, figsize=(1.0 * (columns + 1), 1.3 * rows + 0.2)
    )
    axes = np.atleast_2d(axes)
    for ax in axes[1:, 0]:
        ax.axis("off")
    glyph(axes[0, 0], trials.images[trials.queries[trial]], "query")
    frames = {answer: "tab:green" if chosen == answer else "tab:blue"}
    if chosen != answer:
        frames[chosen] = "tab:red"
    for position, score in enumerate(scores):
        row, column = divmod(position, columns)
        ax = axes[row, column + 1]
        image = trials.images[trials.candidates[trial, position]]
        glyph(ax, image, color=frames.get(position, "0.75"))
        label = f"{score:.2f}" + (" true" if position == answer else "")
        ax.set_title(
            label, fontsize=SMALLEST_FONT, color=frames.get(position, "black")
        )
    for position in range(len(scores), rows * columns):
        row, column = divmod(position, columns)
        axes[row, column + 1].axis("off")
    fig.tight_layout()
    return fig


def neighbour_grid(images, characters, neighbours):
    """Each query (blue frame) and its nearest neighbours (green: same character, red: not)."""
    rows, k = neighbours.neighbours.shape
    fig, axes = plt.subplots(rows, k + 1, figsize=(1.1 * (k + 1), 1.25 * rows))
    axes = np.atleast_2d(axes)
    for row, query in enumerate(neighbours.queries):
        glyph(
            axes[row, 0],
            images[query],
            "query" if row == 0 else None,
            color="tab:blue",
        )
        for column, (other, score) in enumerate(
            zip(neighbours.neighbours[row], neighbours.scores[row]), 1
        ):
            same = characters[other] == characters[query]
            glyph(
                axes[row, column],
                images[other],
                f"{score:.2f}",
                color="tab:green" if same else "tab:red",
            )
    fig.tight_layout()
    return fig
