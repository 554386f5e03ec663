"""Figures of training: the learning-rate and momentum schedules, and the curves of a run."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from siamese_utils.plots.style import SMALLEST_FONT
from siamese_utils.samplers import loss_named


def merge_equal_curves(curves: dict) -> dict:
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
        for label, values in merge_equal_curves(curves).items():
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
