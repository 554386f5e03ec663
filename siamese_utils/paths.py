"""Where the book keeps its records and its runs: one owner for every path.

Everything is anchored at the repository's root, found from this file, so a command gives
the same paths from any folder (a notebook runs in ``book/``, the command lines and the
benchmarks from the root). A copy of the package installed without the repository (from
PyPI or ``pip install git+...``) has no root beside it; it then uses the folder it is run
from.
"""

from __future__ import annotations

import pathlib


def repository_root() -> pathlib.Path:
    """The repository's root folder, or the working folder for an installed package."""
    here = pathlib.Path(__file__).resolve().parent.parent
    return (
        here
        if (here / "bench").is_dir() and (here / "book").is_dir()
        else pathlib.Path.cwd()
    )


ROOT = repository_root()
# What the benchmarks and long runs recorded (python -m bench ...); the book reads them.
RECORDS = ROOT / "bench" / "results"
# Run folders (checkpoints, best.keras, results.json): made by training, never committed.
RUNS = ROOT / "results"
# What the demo page (book/demo.ipynb) exports for the browser: built from chapter 6's run on
# every build, never committed; the book's build copies it beside the pages (tools/book_demo.py).
DEMO_EXPORT = ROOT / "_build" / "demo"


def run_folder(name: str) -> pathlib.Path:
    """The folder of the run called ``name`` (``"fast-seed2015"``) under :data:`RUNS`."""
    return RUNS / name
