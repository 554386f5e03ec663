"""Chapters are stored as nbval and the book expect: outputs only where nbval checks them."""

import pathlib

import nbformat
import pytest

BOOK = pathlib.Path(__file__).resolve().parent.parent / "book"
NOTEBOOKS = sorted(BOOK.glob("*.ipynb"))
MARKER = "# NBVAL_CHECK_OUTPUT"


def test_there_are_chapter_notebooks():
    assert NOTEBOOKS, "no notebooks found in book/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_only_checked_cells_keep_outputs_and_each_of_them_does(path):
    notebook = nbformat.read(path, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    checked = [cell for cell in code if MARKER in cell.source]
    assert checked, f"{path.name} has no {MARKER} cell"
    for cell in code:
        if MARKER in cell.source:
            assert cell.outputs and cell.execution_count, f"checked cell stored without output: {cell.source[:60]!r}"
            assert not any(o.get("name") == "stderr" for o in cell.outputs), "stderr in a checked cell"
        else:
            assert not cell.outputs and cell.execution_count is None, f"unchecked cell with output: {cell.source[:60]!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_figure_cell_has_a_caption_and_a_label(path):
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code" and "fig = plots." in cell.source:
            figure = cell.metadata.get("mystnb", {}).get("figure", {})
            assert figure.get("caption") and figure.get("name", "").startswith("fig-"), cell.source[:60]
