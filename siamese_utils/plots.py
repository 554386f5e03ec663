"""The book's figures, and its matplotlib defaults (set once, on import).

Figures get an opaque white background (the book's stylesheet inverts them in the theme's
dark mode), text of at least 9 points, and, inside a notebook, SVG output: sharp at any
zoom, with its text at its point size whatever the column width.
"""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

from siamese_utils import anatomy
from siamese_utils.data import alphabet_name
from siamese_utils.samplers import loss_named

BOOK_STYLE = {
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "savefig.transparent": False,
    # The resolution of the raster parts (images) of a figure, and of any PNG made from it.
    "figure.dpi": 150,
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "image.cmap": "gray_r",
}


# The backend a Jupyter kernel draws with; elsewhere (scripts, tests) nothing is displayed.
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
# No text in a figure is smaller than this (points).
SMALLEST_FONT = 9


def use_book_style() -> None:
    """Apply the book's matplotlib defaults (called once when this module is imported)."""
    mpl.rcParams.update(BOOK_STYLE)
    if mpl.get_backend() == INLINE_BACKEND:
        # Only inside a kernel, where matplotlib has already imported the inline backend.
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        set_matplotlib_formats("svg")


use_book_style()


def _glyph(ax, image, title=None, color="black"):
    ax.imshow(np.squeeze(image), cmap="gray_r", vmin=0.0, vmax=1.0)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(True)
        spine.set_color(color)
    if title:
        ax.set_title(title, fontsize=SMALLEST_FONT, color=color)


def _row_label(ax, text: str) -> None:
    """A row's name, written level to the left of its first panel."""
    ax.set_ylabel(
        text, rotation=0, ha="right", va="center", fontsize=SMALLEST_FONT
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
            _glyph(axes[row, column], split.images[image])
        _row_label(axes[row, 0], alphabet_name(name))
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
        _glyph(
            axes[0, column],
            split.images[pairs.left[column]],
            "same" if same else "different",
            color,
        )
        _glyph(axes[1, column], split.images[pairs.right[column]], None, color)
    fig.tight_layout()
    return fig


def accuracy_bars(rows, reference: dict | None = None):
    """Horizontal bars of 20-way accuracies (ours, and optionally the paper's Table 2)."""
    labels = [label for label, _ in rows]
    values = [100 * value for _, value in rows]
    colors = ["tab:blue"] * len(rows)
    if reference:
        labels += [f"paper: {name}" for name in reference]
        values += list(reference.values())
        colors += ["tab:grey"] * len(reference)
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(labels) + 0.8))
    positions = np.arange(len(labels))[::-1]
    ax.barh(positions, values, color=colors)
    for y, value in zip(positions, values):
        ax.text(
            value + 0.8, y, f"{value:.1f}", va="center", fontsize=SMALLEST_FONT
        )
    ax.set_yticks(positions, labels, fontsize=SMALLEST_FONT)
    ax.axvline(5.0, color="grey", lw=0.8, ls=":")
    ax.set(xlabel="20-way one-shot accuracy (%)", xlim=(0, 105))
    fig.tight_layout()
    return fig


def _plain_log_ticks(axis) -> None:
    """Tick labels of a log axis as plain numbers (0.6, 2) instead of 6x10^-1.

    A loss that spans less than a decade gets only minor ticks, which matplotlib would
    label in scientific notation.
    """
    formatter = mpl.ticker.FuncFormatter(lambda value, _: f"{value:g}")
    axis.set_major_formatter(formatter)
    axis.set_minor_formatter(formatter)


def compare_runs(histories: dict, steps_per_epoch: int):
    """Training loss and validation accuracy of several runs, one line each."""
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(9, 3.2))
    for label, history in histories.items():
        steps = np.arange(1, len(history["loss"]) + 1) * steps_per_epoch
        loss_ax.plot(steps, history["loss"], "-o", markersize=3, label=label)
        acc_ax.plot(
            steps, history["val_accuracy"], "-o", markersize=3, label=label
        )
    loss_ax.set(
        xlabel="training step",
        ylabel="training loss (log scale)",
        yscale="log",
        title="Loss",
    )
    _plain_log_ticks(loss_ax.yaxis)
    acc_ax.set(
        xlabel="training step",
        ylabel="accuracy",
        title="Validation verification accuracy",
    )
    acc_ax.axhline(0.5, color="grey", lw=0.8, ls=":")
    acc_ax.legend(frameon=False)
    fig.tight_layout()
    return fig


def activation_profile(stats_by_label: dict, embeddings_by_label: dict):
    """Per-layer output spread and dead share, and the embedding histogram, per initialisation."""
    fig, (spread_ax, dead_ax, hist_ax) = plt.subplots(1, 3, figsize=(9.6, 3.3))
    for label, stats in stats_by_label.items():
        names = [s.name for s in stats]
        spread_ax.plot(
            names, [s.std for s in stats], "-o", markersize=4, label=label
        )
        # Only a ReLU's output can be dead (exactly 0); the encoder's sigmoid never is.
        relu = [s for s in stats if s.activation == "relu"]
        dead_ax.plot(
            [s.name for s in relu],
            [100 * s.dead for s in relu],
            "-o",
            markersize=4,
            label=label,
        )
        hist_ax.hist(
            np.ravel(embeddings_by_label[label]),
            bins=50,
            range=(0, 1),
            alpha=0.6,
            label=label,
        )
    spread_ax.set(
        yscale="log",
        ylabel="std of outputs",
        title="Spread of each layer's outputs",
    )
    dead_ax.set(ylabel="% exactly zero", title="Inactive (dead) ReLU outputs")
    hist_ax.set(
        xlabel="embedding value (sigmoid)",
        ylabel="count",
        title="Embedding values",
    )
    for ax in (spread_ax, dead_ax):
        ax.tick_params(axis="x", rotation=45, labelsize=SMALLEST_FONT)
    spread_ax.legend(frameon=False)
    hist_ax.legend(frameon=False, title="initialisation")
    fig.tight_layout()
    return fig


def _layer_bars(
    rows, values, axis_label: str, log: bool, unit: str = "", decimals: int = 0
):
    """Horizontal bars of one positive quantity per layer, labelled with its share."""
    kept = [(row.name, value) for row, value in zip(rows, values) if value > 0]
    total = sum(value for _, value in kept)
    fig, ax = plt.subplots(figsize=(7, 0.4 * len(kept) + 0.8))
    positions = np.arange(len(kept))[::-1]
    ax.barh(positions, [value for _, value in kept], color="tab:blue")
    largest = max(value for _, value in kept)
    for y, (_, value) in zip(positions, kept):
        x = value * 1.15 if log else value + 0.01 * largest
        ax.text(
            x,
            y,
            f"{value:,.{decimals}f}{unit} ({100 * value / total:.1f}%)",
            va="center",
            fontsize=SMALLEST_FONT,
        )
    ax.set_yticks(positions, [name for name, _ in kept], fontsize=SMALLEST_FONT)
    if log:
        smallest = min(value for _, value in kept)
        ax.set(
            xscale="log",
            xlabel=f"{axis_label} (log scale)",
            xlim=(smallest / 2, total * 20),
        )
    else:
        ax.set(xlabel=axis_label, xlim=(0, largest * 1.35))
    fig.tight_layout()
    return fig


def parameter_bars(rows):
    """Parameters per layer (of :func:`siamese_utils.anatomy.layer_table`) on a log axis."""
    return _layer_bars(
        rows, [row.parameters for row in rows], "parameters", log=True
    )


def compute_bars(rows):
    """Millions of multiply-adds per layer for one image (the head: one pair), linear axis."""
    values = [row.multiply_adds / 1e6 for row in rows]
    return _layer_bars(
        rows, values, "million multiply-adds", log=False, unit=" M", decimals=1
    )


def _square_grid(count: int) -> tuple[int, int]:
    columns = int(np.ceil(np.sqrt(count)))
    return int(np.ceil(count / columns)), columns


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
        rows, columns = _square_grid(len(filters))
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
    rows, columns = _square_grid(count)
    fig = plt.figure(figsize=(columns * 0.8 + 3.0, rows * 0.8))
    grid = fig.add_gridspec(
        rows, columns + 4, width_ratios=[1] * (columns + 3) + [0.25]
    )
    image_ax = fig.add_subplot(grid[: min(rows, 3), :3])
    _glyph(image_ax, image, "input")
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
        _glyph(axes[row, 0], image)
        _row_label(axes[row, 0], f"{name}\n{maps.shape[0]}x{maps.shape[1]}")
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
            _glyph(axes[row, column], images[responses.images[row, column]])
        _row_label(axes[row, 0], f"channel {channel}")
    fig.tight_layout()
    return fig


def distortion_grid(image, distorted):
    """One character and its distortions side by side (the original framed in blue)."""
    fig, axes = plt.subplots(
        1, 1 + len(distorted), figsize=(1.2 * (1 + len(distorted)), 1.5)
    )
    _glyph(axes[0], image, "original", color="tab:blue")
    for position, (ax, warped) in enumerate(zip(axes[1:], distorted), start=1):
        _glyph(ax, warped, f"#{position}")
    fig.tight_layout()
    return fig


def _merge_equal_curves(curves: dict) -> dict:
    """Curves that are equal point by point, as one entry labelled with all their names."""
    merged = {}
    for name, values in curves.items():
        for label, kept in list(merged.items()):
            if np.allclose(kept, values):
                merged[f"{label}, {name}"] = merged.pop(label)
                break
        else:
            merged[name] = values
    return merged


def schedule_plot(epochs, rates: dict, momenta: dict):
    """Per-layer learning rate and momentum against the epoch.

    Layers whose schedules are equal share one line, labelled with every layer it stands
    for, so that no layer hides behind another.
    """
    fig, (rate_ax, momentum_ax) = plt.subplots(1, 2, figsize=(9, 3.3))
    for ax, curves in ((rate_ax, rates), (momentum_ax, momenta)):
        for label, values in _merge_equal_curves(curves).items():
            ax.plot(epochs, values, label=label, lw=1.8)
        ax.legend(frameon=False, fontsize=SMALLEST_FONT)
    rate_ax.set(
        xlabel="epoch",
        ylabel="learning rate",
        title="Learning rate (x0.99 per epoch)",
    )
    momentum_ax.set(
        xlabel="epoch",
        ylabel="momentum",
        title="Momentum (0.5 rising to the final value)",
    )
    fig.tight_layout()
    return fig


def training_curves(
    history: dict,
    steps_per_epoch: int,
    training_loss: str,
    best_epoch: int | None = None,
):
    """The training loss, the validation cross-entropy, the L2 penalty and the accuracies.

    Each loss gets its own panel and axis, since they measure different things on different
    scales: the training loss (``training_loss`` names it: a key of
    :data:`siamese_utils.samplers.LOSSES`; it includes the penalty), the cross-entropy of the
    fixed validation pairs and the L2 penalty summed over the layers. Histories recorded
    before the book logged those two apart (no ``val_cross_entropy``) show their sum in one
    panel instead. The accuracy panel shows verification on the validation pairs, and
    20-way one-shot accuracy where the history has it (``val_one_shot``). A dotted line
    marks ``best_epoch``, when given.
    """
    steps = np.arange(1, len(history["loss"]) + 1) * steps_per_epoch
    apart = "val_cross_entropy" in history and "l2_penalty" in history
    if apart:
        fig, grid = plt.subplots(2, 2, figsize=(7.6, 5.6))
        train_ax, penalty_ax, val_ax, acc_ax = grid.ravel()
        penalty_ax.plot(
            steps, history["l2_penalty"], "-o", markersize=3, color="tab:green"
        )
        penalty_ax.set(ylabel="sum of the layers' L2 terms", title="L2 penalty")
        val_ax.plot(
            steps,
            history["val_cross_entropy"],
            "--s",
            markersize=3,
            color="tab:orange",
        )
        val_ax.set(ylabel="cross-entropy", title="Validation pairs")
        axes = (train_ax, penalty_ax, val_ax, acc_ax)
    else:
        fig, axes = plt.subplots(1, 3, figsize=(9, 3.3))
        train_ax, val_ax, acc_ax = axes
        val_ax.plot(
            steps, history["val_loss"], "--s", markersize=3, color="tab:orange"
        )
        val_ax.set(ylabel="cross-entropy + L2", title="Validation pairs")
    train_ax.plot(steps, history["loss"], "-o", markersize=3, color="tab:blue")
    train_ax.set(ylabel=loss_named(training_loss).label, title="Training loss")
    acc_ax.plot(
        steps,
        history["val_accuracy"],
        "-o",
        markersize=3,
        label="verification (pairs)",
    )
    if "val_one_shot" in history:
        acc_ax.plot(
            steps,
            history["val_one_shot"],
            "-s",
            markersize=3,
            label="20-way one-shot",
        )
    for ax in axes:
        if best_epoch is not None:
            ax.axvline(
                best_epoch * steps_per_epoch, color="grey", lw=0.8, ls=":"
            )
        ax.set_xlabel("training step")
    acc_ax.set(ylabel="accuracy", ylim=(0, 1), title="Validation accuracy")
    acc_ax.legend(frameon=False)
    fig.tight_layout()
    return fig


def step_curves(log: dict, chance: float | None = None):
    """A hand-written training loop's record: each loss on its own axis, then the accuracy.

    ``log`` maps ``"step"`` to the steps recorded and every other key to one value per
    step; keys ending in ``"one-shot"`` (accuracies in [0, 1]) share the last panel, the
    others (losses) get a panel each, since they live on different scales. ``chance``
    draws a dotted line in the accuracy panel.
    """
    steps = log["step"]
    losses = [k for k in log if k != "step" and not k.endswith("one-shot")]
    accuracies = [k for k in log if k.endswith("one-shot")]
    fig, axes = plt.subplots(
        1, len(losses) + 1, figsize=(3.0 * (len(losses) + 1), 3.2)
    )
    for ax, key in zip(axes, losses):
        ax.plot(steps, log[key], "-o", markersize=3)
        ax.set(title=key[:1].upper() + key[1:], ylabel=key)
    accuracy_ax = axes[-1]
    for key in accuracies:
        accuracy_ax.plot(steps, log[key], "-s", markersize=3, label=key)
    if chance is not None:
        accuracy_ax.axhline(chance, color="grey", lw=0.8, ls=":")
    accuracy_ax.set(
        title="20-way one-shot, validation", ylabel="accuracy", ylim=(0, 1)
    )
    for ax in axes:
        ax.set_xlabel("training step")
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
        _glyph(
            axes[row, 0],
            trials.images[trials.queries[trial]],
            "query" if row == 0 else None,
        )
        _glyph(
            axes[row, 1],
            trials.images[trials.candidates[trial, chosen]],
            f"chosen {scores[chosen]:.1f}",
            color=colour,
        )
        _glyph(
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
    _glyph(axes[0, 0], trials.images[trials.queries[trial]], "query")
    frames = {answer: "tab:green" if chosen == answer else "tab:blue"}
    if chosen != answer:
        frames[chosen] = "tab:red"
    for position, score in enumerate(scores):
        row, column = divmod(position, columns)
        ax = axes[row, column + 1]
        image = trials.images[trials.candidates[trial, position]]
        _glyph(ax, image, color=frames.get(position, "0.75"))
        label = f"{score:.2f}" + (" true" if position == answer else "")
        ax.set_title(
            label, fontsize=SMALLEST_FONT, color=frames.get(position, "black")
        )
    for position in range(len(scores), rows * columns):
        row, column = divmod(position, columns)
        axes[row, column + 1].axis("off")
    fig.tight_layout()
    return fig


def embedding_scatter(projection, labels, explained, names=None):
    """2-D projection of embeddings, one colour per character."""
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    unique = np.unique(labels)
    colours = plt.get_cmap("tab20")(np.linspace(0, 1, max(len(unique), 2)))
    for colour, label in zip(colours, unique):
        chosen = labels == label
        ax.scatter(
            projection[chosen, 0],
            projection[chosen, 1],
            s=14,
            color=colour,
            label=names[label] if names else str(label),
        )
    ax.set(
        xlabel=f"component 1 ({100 * explained[0]:.0f}% of variance)",
        ylabel=f"component 2 ({100 * explained[1]:.0f}% of variance)",
    )
    if len(unique) <= 20:
        ax.legend(
            frameon=False,
            fontsize=SMALLEST_FONT,
            ncol=2,
            bbox_to_anchor=(1.0, 1.0),
            loc="upper left",
        )
    fig.tight_layout()
    return fig


def neighbour_grid(images, characters, neighbours):
    """Each query (blue frame) and its nearest neighbours (green: same character, red: not)."""
    rows, k = neighbours.neighbours.shape
    fig, axes = plt.subplots(rows, k + 1, figsize=(1.1 * (k + 1), 1.25 * rows))
    axes = np.atleast_2d(axes)
    for row, query in enumerate(neighbours.queries):
        _glyph(
            axes[row, 0],
            images[query],
            "query" if row == 0 else None,
            color="tab:blue",
        )
        for column, (other, score) in enumerate(
            zip(neighbours.neighbours[row], neighbours.scores[row]), 1
        ):
            same = characters[other] == characters[query]
            _glyph(
                axes[row, column],
                images[other],
                f"{score:.2f}",
                color="tab:green" if same else "tab:red",
            )
    fig.tight_layout()
    return fig


def distance_histograms(distances: dict, same: np.ndarray):
    """Histograms of a distance for same- and different-character pairs, one panel per distance."""
    fig, axes = plt.subplots(
        1, len(distances), figsize=(4.5 * len(distances), 3.0)
    )
    for ax, (title, values) in zip(np.atleast_1d(axes), distances.items()):
        bins = np.linspace(values.min(), values.max(), 40)
        ax.hist(
            values[same],
            bins=bins,
            alpha=0.6,
            label="same character",
            color="tab:green",
        )
        ax.hist(
            values[~same],
            bins=bins,
            alpha=0.6,
            label="different characters",
            color="tab:red",
        )
        ax.set(xlabel=title, ylabel="pairs")
        ax.legend(frameon=False, fontsize=SMALLEST_FONT)
    fig.tight_layout()
    return fig


# One colour per part of the network, the same in every chapter's picture.
PART_COLOURS = {
    "input": "tab:gray",
    "stem": "tab:blue",
    "block": "tab:orange",
    "encoder": "tab:green",
    "classifier": "tab:purple",
}


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
    layers = anatomy.diagram_layers(network)
    references = (
        {layer.name: layer for layer in anatomy.diagram_layers(reference)}
        if reference
        else {}
    )
    chosen = (
        set(anatomy.TWIN_PARTS)
        if highlight == "twin"
        else {highlight}
        if highlight
        else None
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
        for layer in layers
    ]
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
    for row, (part, text, shape, shown, reference_shown) in enumerate(rows):
        y = top - 1 - row
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
    # The second image takes the same path through the same twin, and the two embeddings
    # meet at the distance, the first layer that sees the pair.
    parts = [part for part, *_ in rows]
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
    return fig


def score_matrix(
    scores, images_per_character: int, characters_per_alphabet: int
):
    """An episode's scores ``(n, n)`` as a picture, images grouped by alphabet and character.

    Lines separate the alphabets, so the small squares on the diagonal hold the positive
    pairs, the rest of each alphabet's square its same-alphabet negatives, and everything
    outside them the negatives from other alphabets. The colours turn at score 0 (where
    the calibrated sigmoid says one half); the diagonal (an image with itself) is blank.
    """
    scores = np.array(scores, dtype=float)
    np.fill_diagonal(scores, np.nan)
    n = len(scores)
    low, high = np.nanmin(scores), np.nanmax(scores)
    norm = mpl.colors.TwoSlopeNorm(
        vcenter=0.0, vmin=min(low, -1e-3), vmax=max(high, 1e-3)
    )
    fig, ax = plt.subplots(figsize=(6.4, 5.4))
    image = ax.imshow(scores, cmap="RdBu_r", norm=norm)
    alphabet = images_per_character * characters_per_alphabet
    for edge in range(alphabet, n, alphabet):
        for line in (ax.axhline, ax.axvline):
            line(edge - 0.5, color="black", linewidth=1.2)
    ticks = np.arange(alphabet / 2 - 0.5, n, alphabet)
    labels = [f"alphabet {k + 1}" for k in range(len(ticks))]
    ax.set_xticks(ticks, labels)
    ax.set_yticks(ticks, labels, rotation=90, va="center")
    ax.tick_params(length=0)
    ax.set_xlabel("image j (candidate)")
    ax.set_ylabel("image i (anchor)")
    fig.colorbar(image, ax=ax, shrink=0.85, label="score $s_{ij}$ (logit)")
    fig.tight_layout()
    return fig


def negative_weights(weights, same_alphabet, top: int = 20):
    """How an anchor's loss divides its push among its negatives, largest share first.

    ``weights`` ``(anchors, negatives)`` are each row's softmax shares (rows sum to at most
    one); ``same_alphabet`` marks the negatives drawn from the anchor's own alphabet. Bar
    k is the mean share of each anchor's k-th largest negative, for the ``top`` largest,
    split into what negatives from the anchor's own alphabet took and what the others took.
    """
    weights = np.asarray(weights, dtype=float)
    order = np.argsort(-weights, axis=1)[:, :top]
    ranked = np.take_along_axis(weights, order, axis=1)
    own = np.take_along_axis(
        np.asarray(same_alphabet, dtype=float), order, axis=1
    )
    from_own = (ranked * own).mean(axis=0)
    from_others = (ranked * (1.0 - own)).mean(axis=0)
    ranks = np.arange(1, len(from_own) + 1)
    fig, ax = plt.subplots(figsize=(6.4, 3.0))
    ax.bar(
        ranks, from_own, color="tab:purple", label="from the anchor's alphabet"
    )
    ax.bar(
        ranks,
        from_others,
        bottom=from_own,
        color="tab:olive",
        label="from another alphabet",
    )
    ax.set_xticks([1, *range(5, len(ranks) + 1, 5)])
    ax.set_xlabel(
        f"the {len(ranks)} highest-scoring of each anchor's {weights.shape[1]} "
        "negatives, by rank"
    )
    ax.set_ylabel("mean share of the push")
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig
