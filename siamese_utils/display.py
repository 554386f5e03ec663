"""Rich notebook output: source listings and result tables rendered as Markdown."""

from __future__ import annotations

import inspect

from IPython.display import Markdown

from siamese_utils.evaluate import PAPER_TABLE_2_COLUMN


def show_source(obj) -> Markdown:
    """The source code of a helper, shown as a highlighted Python listing.

    Chapters use it so that the code a reader studies is the code the helpers run.
    """
    return Markdown(f"```python\n{inspect.getsource(obj).rstrip()}\n```")


def markdown_table(headers, rows, caption: str | None = None) -> Markdown:
    """A Markdown table (cells formatted with ``str``), with an optional caption line."""
    lines = [f"**{caption}**", ""] if caption else []
    lines.append("| " + " | ".join(headers) + " |")
    lines.append(
        "|" + "|".join([" --- "] + [" ---: "] * (len(headers) - 1)) + "|"
    )
    lines += [
        "| " + " | ".join(str(cell) for cell in row) + " |" for row in rows
    ]
    return Markdown("\n".join(lines))


def accuracy_table(
    results: dict, columns, caption: str | None = None, reference=None
) -> Markdown:
    """Accuracies in [0, 1] as percentages, our rows first, then the paper's for reference.

    Args:
        results: row label -> one accuracy per column.
        columns: the column names (sets of trials).
        caption: a line shown above the table.
        reference: optional row label -> percentage of the paper's Table 2
            (:data:`siamese_utils.evaluate.PAPER_TABLE_2`), shown in a column of its own,
            :data:`siamese_utils.evaluate.PAPER_TABLE_2_COLUMN`: those are the paper's
            trials, not ours.
    """
    extra = [PAPER_TABLE_2_COLUMN] if reference else []
    rows = [
        [label]
        + [f"{100 * value:.1f}" for value in values]
        + ["-"] * len(extra)
        for label, values in results.items()
    ]
    for label, percent in (reference or {}).items():
        rows.append(
            [f"{label} (paper)"] + ["-"] * len(columns) + [f"{percent:.1f}"]
        )
    return markdown_table(["model"] + list(columns) + extra, rows, caption)
