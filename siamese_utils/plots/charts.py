"""Charts of measurements: accuracies, activations, layer costs, embeddings, distances and
the score matrix of an episode."""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

from siamese_utils.plots.style import SMALLEST_FONT


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


def layer_bars(
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
    return layer_bars(
        rows, [row.parameters for row in rows], "parameters", log=True
    )


def compute_bars(rows):
    """Millions of multiply-adds per layer for one image (the head: one pair), linear axis."""
    values = [row.multiply_adds / 1e6 for row in rows]
    return layer_bars(
        rows, values, "million multiply-adds", log=False, unit=" M", decimals=1
    )


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


# The scale curve's two axes: colour, marker, how a point is labelled and where its labels
# sit, taken in turn along the line. The axes share one point, so one axis labels above
# and the other below; neighbouring sizes can lie close in time, so their labels take two
# heights in turn.
SCALE_STYLES = {
    "size": ("tab:blue", "o", "{} px", ((4, 5), (4, 16))),
    "epochs": ("tab:orange", "s", "{} ep", ((4, -13),)),
}


def _scale_line(ax, line, x, key, halves=None):
    """One axis's points at ``x``: filled with interval bars from ``halves`` when given,
    open and dotted (a reference line) when not."""
    color, marker, _, _ = SCALE_STYLES[line[0].axis]
    errors = (
        [100 * (halves.get((p.axis, p.value)) or 0) for p in line]
        if halves
        else None
    )
    drawn = ax.errorbar(
        x,
        [100 * p.estimate(key).mean for p in line],
        yerr=errors if errors and any(errors) else None,
        color=color,
        marker=marker,
        markersize=5,
        capsize=3,
        lw=1.2 if halves is not None else 0.8,
        ls="-" if halves is not None else ":",
        markerfacecolor=color if halves is not None else "white",
        elinewidth=0.8,
    )
    for bars in drawn[2]:
        bars.set_alpha(
            0.45
        )  # the intervals are wide; the line must stay legible


def _scale_legend(fig, paper: float, with_fuller: bool):
    """The scale curve's legend under both panels (two rows when it holds the fuller
    points' diamonds)."""
    line = mpl.lines.Line2D
    handles = [
        line(
            [], [], color="tab:blue", marker="o", label="image size: protocol"
        ),
        line(
            [],
            [],
            color="tab:blue",
            marker="o",
            ls=":",
            markerfacecolor="white",
            label="image size: official runs",
        ),
        line([], [], color="tab:orange", marker="s", label="epochs: protocol"),
        *(
            [
                line(
                    [],
                    [],
                    color="black",
                    marker="D",
                    ls="none",
                    label="more seeds (mean): protocol",
                )
            ]
            if with_fuller
            else []
        ),
        line(
            [],
            [],
            color="grey",
            lw=0.8,
            ls="--",
            label=f"paper, its protocol: {paper:.1f}",
        ),
    ]
    fig.legend(
        handles=handles,
        loc="lower center",
        ncol=3 if len(handles) > 4 else 4,
        fontsize=SMALLEST_FONT,
        frameon=False,
    )
    fig.tight_layout(rect=(0, 0.14 if len(handles) > 4 else 0.08, 1, 1))


def _fuller_points(size_ax, time_ax, fuller: dict, halves: dict):
    """Points trained with more seeds than the curve's, as black diamonds with their own
    intervals: by image side on the left (size points), by minutes on the right."""
    style = dict(
        color="black",
        marker="D",
        markersize=5,
        ls="none",
        capsize=3,
        elinewidth=0.8,
    )
    # Dodged a little to the right, so the curve's own point at the same place stays visible.
    dodge = {size_ax: 2.0, time_ax: 0.5}
    for p in (p for line in fuller.values() for p in line):
        error = 100 * (halves.get((p.axis, p.value)) or 0) or None
        mean = 100 * p.estimate().mean
        time_ax.errorbar(
            [p.minutes + dodge[time_ax]], [mean], yerr=error, **style
        )
        if p.axis == "size":
            size_ax.errorbar(
                [p.value + dodge[size_ax]], [mean], yerr=error, **style
            )


def scale_curve(
    points: dict,
    halves: dict,
    paper: float,
    fuller: dict | None = None,
    fuller_halves: dict | None = None,
):
    """The paper protocol's score against image size (left) and minutes of training
    (right), from :func:`siamese_utils.scale_curve.scale_points`.

    ``halves`` maps ``(axis, value)`` to half the 95% interval of that point (a fraction, or
    ``None``), drawn as bars. The right panel draws both axes' points by their training
    time, each labelled with its pixels or epochs, so the two ways of spending time can be
    compared. The official runs' scores of the size axis are drawn open, for reference;
    ``paper``, the paper's score on its protocol in percent, is a dashed line. ``fuller``
    (by axis, as ``points``, each point once) holds points trained with more seeds than the
    curve's, drawn as black diamonds with ``fuller_halves`` as their intervals
    (:func:`siamese_utils.scale_curve.split_by_seeds`).
    """
    protocol, official = "one_shot_paper_protocol", "one_shot_official_runs"
    fig, (size_ax, time_ax) = plt.subplots(
        1, 2, figsize=(9.6, 3.6), sharey=True
    )
    sizes = points.get("size", [])
    if sizes:
        xs = [p.value for p in sizes]
        _scale_line(size_ax, sizes, xs, protocol, halves)
        _scale_line(size_ax, sizes, xs, official)
        size_ax.set_xticks(xs)
    size_ax.set(
        xlabel="image side (pixels)", ylabel="20-way one-shot accuracy (%)"
    )
    for axis, line in points.items():
        if not line:
            continue
        color, _, tag, offsets = SCALE_STYLES[axis]
        _scale_line(time_ax, line, [p.minutes for p in line], protocol, halves)
        for index, p in enumerate(line):
            time_ax.annotate(
                tag.format(p.value),
                (p.minutes, 100 * p.estimate().mean),
                textcoords="offset points",
                xytext=offsets[index % len(offsets)],
                fontsize=SMALLEST_FONT,
                color=color,
            )
    time_ax.set(xlabel="minutes of training")
    with_fuller = bool(fuller and any(fuller.values()))
    if with_fuller:
        _fuller_points(size_ax, time_ax, fuller, fuller_halves or {})
    for ax in (size_ax, time_ax):
        ax.axhline(paper, color="grey", lw=0.8, ls="--")
    _scale_legend(fig, paper, with_fuller)
    return fig


def agreement_bars(agreement):
    """Validation tasks by how many of an ensemble's networks answered them correctly on
    their own (bars), and the part the ensemble's mean score answered correctly (dark),
    from :func:`siamese_utils.protocol_levers.ensemble_agreement`."""
    tasks, answered = np.asarray(agreement.table).T
    counts = np.arange(len(tasks))
    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.bar(counts, tasks, color="tab:blue", alpha=0.3, label="tasks")
    ax.bar(counts, answered, color="tab:blue", label="answered by the ensemble")
    # The ensemble's majority line: left of it most networks were wrong.
    ax.axvline(agreement.members / 2, color="grey", lw=0.8, ls="--")
    ax.set_xticks(counts)
    ax.set(
        xlabel=f"networks right on their own (of {agreement.members})",
        ylabel="validation tasks",
        yscale="log",
    )
    ax.legend(frameon=False, fontsize=SMALLEST_FONT, loc="upper left")
    fig.tight_layout()
    return fig
