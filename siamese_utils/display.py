"""Rich notebook output: source listings and result tables rendered as Markdown."""

from __future__ import annotations

import inspect
import json
import os
import pathlib

from IPython.display import Markdown

from siamese_utils.evaluate import PAPER_TABLE_2_COLUMN
from siamese_utils.records import RESULTS_FOLDER


def show_source(obj) -> Markdown:
    """The source code of a helper, shown as a highlighted Python listing.

    Chapters use it so that the code a reader studies is the code the helpers run.
    """
    return Markdown(f"```python\n{inspect.getsource(obj).rstrip()}\n```")


def listed(names) -> str:
    """Names in prose: ``a``, ``a and b``, ``a, b and c``."""
    names = list(names)
    return " and ".join(filter(None, [", ".join(names[:-1]), names[-1]]))


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
        results: row label -> one accuracy per column (a string, such as a mean and
            spread already formatted in %, is shown as it is).
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
        + [
            value if isinstance(value, str) else f"{100 * value:.1f}"
            for value in values
        ]
        + ["-"] * len(extra)
        for label, values in results.items()
    ]
    for label, percent in (reference or {}).items():
        rows.append(
            [f"{label} (paper)"] + ["-"] * len(columns) + [f"{percent:.1f}"]
        )
    return markdown_table(["model"] + list(columns) + extra, rows, caption)


# Where ``python -m bench --only book`` records each chapter's time and memory, seen
# from a chapter.
CHAPTER_COSTS = RESULTS_FOLDER / "book.json"


def running_cost(
    chapter: str, record: pathlib.Path = CHAPTER_COSTS
) -> Markdown:
    """A sentence with a chapter's measured run time and peak memory.

    The figures are read from the record of the book benchmark, never measured
    while the page runs, so the page states what a reader should expect before
    running it.

    Args:
        chapter: the notebook's name without extension, e.g. ``"03-stem"``.
        record: the JSON file ``python -m bench --only book`` writes.
    """
    command = f"python -m bench --only book --chapters {chapter}"
    measured = (
        json.loads(record.read_text())["chapters"] if record.exists() else {}
    )
    if chapter not in measured:
        # A new chapter, or a copy of the book without its benchmark records.
        return Markdown(
            "*Time and memory:* no measurement of this page is recorded here; "
            f"`{command}` from the repository root measures it."
        )
    cost = measured[chapter]
    return Markdown(
        f"*Time and memory:* the book benchmark (`{cost['command']}`, "
        f"{cost['date'][:10]}) executed this page in the `{cost['profile']}` profile "
        f"in {cost['seconds'] / 60:.1f} min, with at most "
        f"{cost['peak_bytes'] / 2**30:.1f} GiB of memory, on {cost['machine']}. "
        "Times the page prints below come from this build's own run, on its own "
        "machine."
    )


def run_downloads(folder: pathlib.Path, files=("best.keras", "results.json")):
    """Download links for the files of a finished run, built into the book.

    Sphinx copies every file named by a ``{download}`` role into the site, so the
    HTML book offers the trained network and its results beside the page.
    """
    missing = [name for name in files if not (folder / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"{folder} has no {', '.join(missing)}: the run has not finished"
        )
    # Sphinx reads a path starting with "/" from the book's source root, so the link is
    # written relative to the page's folder, where the notebook runs.
    relative = pathlib.Path(os.path.relpath(folder, pathlib.Path.cwd()))
    links = [
        f"{{download}}`{name} <{(relative / name).as_posix()}>` "
        f"({(folder / name).stat().st_size / 1e6:.1f} MB)"
        for name in files
    ]
    return Markdown("Download this run: " + " and ".join(links) + ".")
