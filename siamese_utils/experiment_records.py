"""The chapters' experiments as recorded: ``bench/results/experiments.jsonl``.

Several seeds of every arm take longer than a chapter may run, so ``python -m
bench.experiments`` trains them and appends one row per arm and seed
(:meth:`siamese_utils.experiments.Experiment.rows`). A chapter trains one seed live, and
:func:`recorded_table` shows the recorded seeds beside it after :func:`check_live` has
checked that the live run lands where those seeds predict.
"""

from __future__ import annotations

import pathlib

from siamese_utils import records
from siamese_utils.display import Markdown
from siamese_utils.experiment_results import ArmResult, Experiment

# Where ``python -m bench.experiments`` records its rows.
RECORDED_ROWS = records.RESULTS_FOLDER / "experiments.jsonl"


def from_rows(rows: list[dict], name: str) -> Experiment:
    """The :class:`Experiment` that recorded rows of experiment ``name`` describe.

    A later row for the same arm and seed replaces an earlier one.
    """
    mine = [row for row in rows if row["experiment"] == name]
    if not mine:
        raise KeyError(
            f"No recorded rows of experiment {name!r}; run "
            f"`python -m bench.experiments {name}` to record them."
        )
    labels = list(dict.fromkeys(row["arm"] for row in mine))
    accuracies = {label: {} for label in labels}
    seconds = {label: {} for label in labels}
    for row in mine:
        accuracies[row["arm"]][row["seed"]] = row["validation_one_shot"]
        seconds[row["arm"]][row["seed"]] = row["train_seconds"]
    last = mine[-1]
    return Experiment(
        name=name,
        arms=tuple(
            ArmResult(label, accuracies[label], seconds[label])
            for label in labels
        ),
        chance=last["chance"],
        pixels=last["pixels"],
        tasks=last["tasks"],
        steps=last["steps"],
        profile=last["profile"],
    )


# Where ``python -m bench.experiments`` records its rows, seen from a chapter.
RECORDED_ROWS = records.RESULTS_FOLDER / "experiments.jsonl"


def recorded(
    name: str, path: pathlib.Path = RECORDED_ROWS
) -> Experiment | None:
    """Experiment ``name`` as recorded (:func:`from_rows`), or ``None`` if it never was."""
    rows = [row for row in records.read_rows(path) if row["experiment"] == name]
    return from_rows(rows, name) if rows else None


def check_live(live: Experiment, recorded: Experiment) -> None:
    """Fail when a live run of an arm falls outside what the recorded seeds predict.

    Compared only when both ran in the same profile for the same steps; each live arm's
    accuracy must lie inside its recorded 95% prediction interval for one more seed.

    Raises:
        AssertionError: naming the arm, its live accuracy and the interval.
    """
    if (live.profile, live.steps) != (recorded.profile, recorded.steps):
        return
    for arm in live.arms:
        predicted = recorded.arm(arm.label).prediction_interval()
        if predicted is None:
            continue
        low, high = predicted
        value = arm.mean
        if not low <= value <= high:
            raise AssertionError(
                f"The live run of {arm.label!r} scored {100 * value:.1f}%, outside "
                f"the {100 * low:.1f}% to {100 * high:.1f}% the recorded seeds "
                f"predict; record the experiment again (python -m bench.experiments "
                f"{recorded.name}) if the code changed."
            )


def recorded_table(
    live: Experiment, path: pathlib.Path = RECORDED_ROWS
) -> tuple[Experiment | None, Markdown]:
    """What a chapter shows beside its live run: the recorded seeds of the same experiment.

    The live run is checked first (:func:`check_live`), so a page whose run lands outside
    what the records predict fails instead of showing a table it contradicts.

    Returns:
        The recorded :class:`Experiment` and its table; without a record, ``None`` and a
        note naming the command that makes one.
    """
    record = recorded(live.name, path)
    if record is None:
        return None, Markdown(
            "No record of this experiment is here: `python -m "
            f"bench.experiments {live.name}` makes one."
        )
    if live.edited:
        # A reader's own group: the records are of the book's, so they neither check
        # this run nor describe it, and the page says so above them.
        note = Markdown(
            f"This page's {' and '.join(live.edited)} differs from the book's, so "
            "the recorded seeds below describe the book's network, not the one this "
            "page trained.\n\n" + record.table().data
        )
        return record, note
    check_live(live, record)
    return record, record.table()
