"""tools/test_latest.py: what it asks pip for, read from the pins."""

import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import test_latest  # noqa: E402


def test_every_pinned_direct_dependency_is_asked_for_at_its_newest_release():
    pinned = test_latest.pins()
    assert {"tensorflow", "keras", "jupyter-book", "nbval", "numpy"} <= set(
        pinned
    )
    asked = test_latest.unpinned(pinned)
    assert "tensorflow" in asked and not any("==" in a for a in asked)


def test_jupyter_book_stays_below_2_which_no_longer_reads_the_books_config():
    assert "jupyter-book<2" in test_latest.unpinned({"jupyter-book": "1.0.4"})


def test_the_latest_checks_leave_out_only_the_build_and_the_browser():
    units = test_latest.CHECKS["unit tests"]
    assert "--ignore=tests/test_book_build.py" in units and "tests" in units
    assert "book" in test_latest.CHECKS["notebooks (nbval, smoke)"]
