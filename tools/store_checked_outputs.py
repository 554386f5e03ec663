"""Store notebooks the way nbval and the book expect them.

Usage: SIAMESE_PROFILE=smoke python tools/store_checked_outputs.py book/*.ipynb

Executes each notebook, then keeps the outputs and execution counts of the cells tagged
``nbval-check-output`` (nbval compares only cells stored with both) and strips every
other cell. Checked cells must print the same in every profile (split sizes, parameter
counts), because the stored output comes from the smoke profile.
"""

from __future__ import annotations

import os
import sys

import nbformat
from nbclient import NotebookClient

# nbval reads this cell tag like its comment marker; a tag keeps test plumbing out of the
# code a reader sees.
TAG = "nbval-check-output"


def is_checked(cell) -> bool:
    """Is ``cell`` a code cell whose output nbval compares?"""
    return cell.cell_type == "code" and TAG in cell.metadata.get("tags", [])


def strip_unchecked(notebook) -> None:
    """Remove outputs and execution counts from every cell nbval does not check."""
    for cell in notebook.cells:
        if cell.cell_type == "code" and not is_checked(cell):
            cell.outputs = []
            cell.execution_count = None
        cell.metadata.pop("execution", None)


def store(path: str) -> None:
    notebook = nbformat.read(path, as_version=4)
    directory = os.path.dirname(os.path.abspath(path))
    NotebookClient(
        notebook, timeout=-1, resources={"metadata": {"path": directory}}
    ).execute()
    strip_unchecked(notebook)
    nbformat.write(notebook, path)
    print(
        f"stored {path}: {sum(map(is_checked, notebook.cells))} checked cells"
    )


if __name__ == "__main__":
    os.environ.setdefault("SIAMESE_PROFILE", "smoke")
    for notebook_path in sys.argv[1:]:
        store(notebook_path)
