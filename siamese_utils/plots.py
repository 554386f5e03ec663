"""The book's figures, and its matplotlib defaults (set once, on import).

Figures get an opaque white background so they stay readable in the theme's dark mode.
"""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

BOOK_STYLE = {
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "savefig.transparent": False,
    "figure.dpi": 100,
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "image.cmap": "gray_r",
}


def use_book_style() -> None:
    """Apply the book's matplotlib defaults (called once when this module is imported)."""
    mpl.rcParams.update(BOOK_STYLE)


use_book_style()


def _glyph(ax, image, title=None, color="black"):
    ax.imshow(np.squeeze(image), cmap="gray_r", vmin=0.0, vmax=1.0)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(True)
        spine.set_color(color)
    if title:
        ax.set_title(title, fontsize=8, color=color)


def character_grid(split, alphabets, characters_per_alphabet: int = 8, seed: int = 0):
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
        alphabet_row = list(index.alphabet_ids).index(split.alphabet_names.index(name))
        members = index.alphabet_characters[alphabet_row, : index.alphabet_sizes[alphabet_row]]
        chosen = rng.choice(members, size=characters_per_alphabet, replace=False)
        for column, character in enumerate(chosen):
            image = index.character_images[character, rng.integers(index.image_counts[character])]
            _glyph(axes[row, column], split.images[image])
        axes[row, 0].set_ylabel(name.replace("_", " "), rotation=0, ha="right", va="center", fontsize=8)
    fig.tight_layout()
    return fig


def pair_grid(split, pairs, columns: int = 8):
    """Image pairs stacked vertically, titled 'same' or 'different'."""
    count = min(columns, len(pairs))
    fig, axes = plt.subplots(2, count, figsize=(count * 1.0, 2.4), squeeze=False)
    for column in range(count):
        same = bool(pairs.same[column])
        color = "tab:green" if same else "tab:red"
        _glyph(axes[0, column], split.images[pairs.left[column]], "same" if same else "different", color)
        _glyph(axes[1, column], split.images[pairs.right[column]], None, color)
    fig.tight_layout()
    return fig


def training_curves(history: dict, steps_per_epoch: int):
    """Loss and verification accuracy per epoch, training against validation pairs."""
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(9, 3.2))
    steps = np.arange(1, len(history["loss"]) + 1) * steps_per_epoch
    for key, label, style in (("", "training pairs", "-o"), ("val_", "validation pairs", "--s")):
        loss_ax.plot(steps, history[f"{key}loss"], style, label=label, markersize=3)
        acc_ax.plot(steps, history[f"{key}accuracy"], style, label=label, markersize=3)
    loss_ax.set(xlabel="training step", ylabel="loss (cross-entropy + L2)", title="Loss")
    acc_ax.set(xlabel="training step", ylabel="accuracy", title="Verification accuracy")
    acc_ax.axhline(0.5, color="grey", lw=0.8, ls=":")
    acc_ax.legend(frameon=False)
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
        ax.text(value + 0.8, y, f"{value:.1f}", va="center", fontsize=8)
    ax.set_yticks(positions, labels, fontsize=8)
    ax.axvline(5.0, color="grey", lw=0.8, ls=":")
    ax.set(xlabel="20-way one-shot accuracy (%)", xlim=(0, 105))
    fig.tight_layout()
    return fig


def compare_runs(histories: dict, steps_per_epoch: int):
    """Training loss and validation accuracy of several runs, one line each."""
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(9, 3.2))
    for label, history in histories.items():
        steps = np.arange(1, len(history["loss"]) + 1) * steps_per_epoch
        loss_ax.plot(steps, history["loss"], "-o", markersize=3, label=label)
        acc_ax.plot(steps, history["val_accuracy"], "-o", markersize=3, label=label)
    loss_ax.set(xlabel="training step", ylabel="training loss (log scale)", yscale="log", title="Loss")
    acc_ax.set(xlabel="training step", ylabel="accuracy", title="Validation verification accuracy")
    acc_ax.axhline(0.5, color="grey", lw=0.8, ls=":")
    acc_ax.legend(frameon=False)
    fig.tight_layout()
    return fig


def activation_profile(stats_by_label: dict, embeddings_by_label: dict):
    """Per-layer output spread and dead share, and the embedding histogram, per initialisation."""
    fig, (spread_ax, dead_ax, hist_ax) = plt.subplots(1, 3, figsize=(11, 3.2))
    for label, stats in stats_by_label.items():
        names = [s.name for s in stats]
        spread_ax.plot(names, [s.std for s in stats], "-o", markersize=4, label=label)
        dead_ax.plot(names, [100 * s.dead for s in stats], "-o", markersize=4, label=label)
        hist_ax.hist(np.ravel(embeddings_by_label[label]), bins=50, range=(0, 1), alpha=0.6, label=label)
    spread_ax.set(yscale="log", ylabel="std of outputs", title="Spread of each layer's outputs")
    dead_ax.set(ylabel="% exactly zero", title="Inactive (dead) ReLU outputs")
    hist_ax.set(xlabel="embedding value", ylabel="count", title="Embedding values")
    for ax in (spread_ax, dead_ax):
        ax.tick_params(axis="x", rotation=45, labelsize=8)
    spread_ax.legend(frameon=False)
    fig.tight_layout()
    return fig


def _layer_bars(rows, values, axis_label: str, log: bool, unit: str = "", decimals: int = 0):
    """Horizontal bars of one positive quantity per layer, labelled with its share."""
    kept = [(row.name, value) for row, value in zip(rows, values) if value > 0]
    total = sum(value for _, value in kept)
    fig, ax = plt.subplots(figsize=(7, 0.4 * len(kept) + 0.8))
    positions = np.arange(len(kept))[::-1]
    ax.barh(positions, [value for _, value in kept], color="tab:blue")
    largest = max(value for _, value in kept)
    for y, (_, value) in zip(positions, kept):
        x = value * 1.15 if log else value + 0.01 * largest
        ax.text(x, y, f"{value:,.{decimals}f}{unit} ({100 * value / total:.1f}%)", va="center", fontsize=8)
    ax.set_yticks(positions, [name for name, _ in kept], fontsize=8)
    if log:
        smallest = min(value for _, value in kept)
        ax.set(xscale="log", xlabel=f"{axis_label} (log scale)", xlim=(smallest / 2, total * 20))
    else:
        ax.set(xlabel=axis_label, xlim=(0, largest * 1.35))
    fig.tight_layout()
    return fig


def parameter_bars(rows):
    """Parameters per layer (of :func:`siamese_utils.anatomy.layer_table`) on a log axis."""
    return _layer_bars(rows, [row.parameters for row in rows], "parameters", log=True)


def compute_bars(rows):
    """Millions of multiply-adds per layer for one image (the head: one pair), linear axis."""
    values = [row.multiply_adds / 1e6 for row in rows]
    return _layer_bars(rows, values, "million multiply-adds", log=False, unit=" M", decimals=1)


def _square_grid(count: int) -> tuple[int, int]:
    columns = int(np.ceil(np.sqrt(count)))
    return int(np.ceil(count / columns)), columns


def filter_grid(kernels_by_title: dict):
    """First-layer filters (``(k, k, 1, filters)`` arrays), one panel of tiles per title.

    Each filter is scaled on its own (white = 0, red = positive, blue = negative), so
    the pattern shows even when the weights are tiny.
    """
    fig, panels = plt.subplots(1, len(kernels_by_title), figsize=(4.2 * len(kernels_by_title), 4.4), squeeze=False)
    for panel, (title, kernel) in zip(panels[0], kernels_by_title.items()):
        filters = np.moveaxis(np.asarray(kernel)[:, :, 0, :], -1, 0)
        rows, columns = _square_grid(len(filters))
        size = filters.shape[1]
        mosaic = np.full((rows * (size + 1), columns * (size + 1)), np.nan)
        for i, f in enumerate(filters):
            scale = np.abs(f).max() or 1.0
            r, c = divmod(i, columns)
            mosaic[r * (size + 1) : r * (size + 1) + size, c * (size + 1) : c * (size + 1) + size] = f / scale
        panel.imshow(mosaic, cmap="RdBu_r", vmin=-1, vmax=1)
        panel.set_title(title)
        panel.axis("off")
    fig.tight_layout()
    return fig


def feature_map_grid(image, maps, title: str = ""):
    """One input image and every channel of a layer's output for it."""
    maps = np.asarray(maps)
    count = maps.shape[-1]
    rows, columns = _square_grid(count)
    fig = plt.figure(figsize=(columns * 0.8 + 2.2, rows * 0.8))
    grid = fig.add_gridspec(rows, columns + 3)
    image_ax = fig.add_subplot(grid[: min(rows, 3), :3])
    _glyph(image_ax, image, "input")
    for channel in range(count):
        r, c = divmod(channel, columns)
        ax = fig.add_subplot(grid[r, c + 3])
        ax.imshow(maps[:, :, channel], cmap="magma")
        ax.axis("off")
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def maps_by_depth(image, maps_by_layer: dict, channels: int = 8):
    """One character, and for each layer the ``channels`` maps with the strongest mean response.

    Each row is one depth of the network; the maps shrink and grow abstract from row to row.
    """
    fig, axes = plt.subplots(
        len(maps_by_layer), channels + 1, figsize=(0.95 * (channels + 1), 1.05 * len(maps_by_layer)), squeeze=False
    )
    for row, (name, maps) in enumerate(maps_by_layer.items()):
        maps = np.asarray(maps)
        strongest = np.argsort(-maps.mean(axis=(0, 1)), kind="stable")[:channels]
        _glyph(axes[row, 0], image)
        axes[row, 0].set_ylabel(f"{name}\n{maps.shape[0]}x{maps.shape[1]}", rotation=0, ha="right", va="center", fontsize=8)
        for column, channel in enumerate(strongest, start=1):
            axes[row, column].imshow(maps[:, :, channel], cmap="magma")
            axes[row, column].set_title(f"#{channel}", fontsize=7)
            axes[row, column].axis("off")
    fig.tight_layout()
    return fig


def response_gallery(images, responses):
    """For each channel of a :class:`siamese_utils.anatomy.StrongestResponses`, its top images."""
    rows, columns = responses.images.shape
    fig, axes = plt.subplots(rows, columns, figsize=(0.9 * columns + 0.8, 0.95 * rows), squeeze=False)
    for row, channel in enumerate(responses.channels):
        for column in range(columns):
            _glyph(axes[row, column], images[responses.images[row, column]])
        axes[row, 0].set_ylabel(f"channel {channel}", rotation=0, ha="right", va="center", fontsize=8)
    fig.tight_layout()
    return fig


def distortion_grid(image, distorted):
    """One character and its distortions side by side (the original framed in blue)."""
    fig, axes = plt.subplots(1, 1 + len(distorted), figsize=(1.2 * (1 + len(distorted)), 1.5))
    _glyph(axes[0], image, "original", color="tab:blue")
    for position, (ax, warped) in enumerate(zip(axes[1:], distorted), start=1):
        _glyph(ax, warped, f"#{position}")
    fig.tight_layout()
    return fig


def schedule_plot(epochs, rates: dict, momenta: dict):
    """Per-layer learning rate and momentum against the epoch (one line per layer)."""
    fig, (rate_ax, momentum_ax) = plt.subplots(1, 2, figsize=(9, 3.0))
    # Layers with equal settings draw over each other; dashes keep each line visible.
    styles = ["-", "--", ":", "-."]
    for position, (label, values) in enumerate(rates.items()):
        rate_ax.plot(epochs, values, styles[position % 4], label=label, lw=1.6)
    for position, (label, values) in enumerate(momenta.items()):
        momentum_ax.plot(epochs, values, styles[position % 4], label=label, lw=1.6)
    rate_ax.set(xlabel="epoch", ylabel="learning rate", title="Learning rate (x0.99 per epoch)")
    momentum_ax.set(xlabel="epoch", ylabel="momentum", title="Momentum (0.5 rising to the final value)")
    rate_ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


TRAINING_LOSS_LABELS = {
    "balanced-bce": "balanced cross-entropy + L2",
    "binary-cross-entropy": "cross-entropy + L2",
    "ranking": "ranking loss + L2",
}


def reproduction_curves(history: dict, steps_per_epoch: int, best_epoch: int, training_loss: str):
    """The training loss, the validation cross-entropy and the validation accuracies.

    Each loss gets its own panel and axis: the training loss (``training_loss`` names it:
    a key of :data:`TRAINING_LOSS_LABELS`) and the cross-entropy of the fixed validation
    pairs measure different things on different scales. The dotted line marks the best epoch.
    """
    fig, (train_ax, val_ax, acc_ax) = plt.subplots(1, 3, figsize=(10, 3.2))
    steps = np.arange(1, len(history["loss"]) + 1) * steps_per_epoch
    train_ax.plot(steps, history["loss"], "-o", markersize=3, color="tab:blue")
    val_ax.plot(steps, history["val_loss"], "--s", markersize=3, color="tab:orange")
    acc_ax.plot(steps, history["val_accuracy"], "-o", markersize=3, label="verification (pairs)")
    acc_ax.plot(steps, history["val_one_shot"], "-s", markersize=3, label="20-way one-shot")
    for ax in (train_ax, val_ax, acc_ax):
        ax.axvline(best_epoch * steps_per_epoch, color="grey", lw=0.8, ls=":")
        ax.set_xlabel("training step")
    train_ax.set(ylabel=TRAINING_LOSS_LABELS[training_loss], title="Training loss")
    val_ax.set(ylabel="cross-entropy + L2", title="Validation pairs")
    acc_ax.set(ylabel="accuracy", ylim=(0, 1), title="Validation accuracy")
    acc_ax.legend(frameon=False)
    fig.tight_layout()
    return fig


def trial_gallery(result, trials_to_show):
    """One row per trial: the query, the candidate chosen and the true match, with scores.

    The scores are the result's own (for a Siamese network, the similarity score before
    the sigmoid). A chosen candidate is framed green when it is the true match, red otherwise.
    """
    trials = result.trials
    fig, axes = plt.subplots(len(trials_to_show), 3, figsize=(3.6, 1.25 * len(trials_to_show)))
    axes = np.atleast_2d(axes)
    for row, trial in enumerate(trials_to_show):
        chosen, answer = result.choices[trial], trials.answers[trial]
        colour = "tab:green" if chosen == answer else "tab:red"
        scores = result.scores[trial]
        _glyph(axes[row, 0], trials.images[trials.queries[trial]], "query" if row == 0 else None)
        _glyph(axes[row, 1], trials.images[trials.candidates[trial, chosen]],
               f"chosen {scores[chosen]:.1f}", color=colour)
        _glyph(axes[row, 2], trials.images[trials.candidates[trial, answer]],
               f"true {scores[answer]:.1f}", color="tab:blue")
    fig.tight_layout()
    return fig


def embedding_scatter(projection, labels, explained, names=None):
    """2-D projection of embeddings, one colour per character."""
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    unique = np.unique(labels)
    colours = plt.get_cmap("tab20")(np.linspace(0, 1, max(len(unique), 2)))
    for colour, label in zip(colours, unique):
        chosen = labels == label
        ax.scatter(projection[chosen, 0], projection[chosen, 1], s=14, color=colour,
                   label=names[label] if names else str(label))
    ax.set(xlabel=f"component 1 ({100 * explained[0]:.0f}% of variance)",
           ylabel=f"component 2 ({100 * explained[1]:.0f}% of variance)")
    if len(unique) <= 20:
        ax.legend(frameon=False, fontsize=7, ncol=2, bbox_to_anchor=(1.0, 1.0), loc="upper left")
    fig.tight_layout()
    return fig


def neighbour_grid(images, characters, neighbours):
    """Each query (blue frame) and its nearest neighbours (green: same character, red: not)."""
    rows, k = neighbours.neighbours.shape
    fig, axes = plt.subplots(rows, k + 1, figsize=(1.1 * (k + 1), 1.25 * rows))
    axes = np.atleast_2d(axes)
    for row, query in enumerate(neighbours.queries):
        _glyph(axes[row, 0], images[query], "query" if row == 0 else None, color="tab:blue")
        for column, (other, score) in enumerate(zip(neighbours.neighbours[row], neighbours.scores[row]), 1):
            same = characters[other] == characters[query]
            _glyph(axes[row, column], images[other], f"{score:.2f}",
                   color="tab:green" if same else "tab:red")
    fig.tight_layout()
    return fig


def distance_histograms(distances: dict, same: np.ndarray):
    """Histograms of a distance for same- and different-character pairs, one panel per distance."""
    fig, axes = plt.subplots(1, len(distances), figsize=(4.5 * len(distances), 3.0))
    for ax, (title, values) in zip(np.atleast_1d(axes), distances.items()):
        bins = np.linspace(values.min(), values.max(), 40)
        ax.hist(values[same], bins=bins, alpha=0.6, label="same character", color="tab:green")
        ax.hist(values[~same], bins=bins, alpha=0.6, label="different characters", color="tab:red")
        ax.set(xlabel=title, ylabel="pairs")
        ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig
