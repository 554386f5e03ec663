"""Benchmark 4: the whole book, executed the way the published build executes it.

Runs every chapter notebook of ``_toc.yml`` in a fresh kernel (profile from
``SIAMESE_PROFILE``, fast by default) and records its wall time and the kernel's peak
resident memory. The figures are the book's total time and its largest chapter's peak
memory as a share of this machine's memory. Each chapter's own time and peak go to
``bench/results/book.json``, which the chapters quote (``display.running_cost``).
"""

from __future__ import annotations

import json
import os
import pathlib
import time

from bench import common
from bench.common import Figure, choose
from siamese_utils.paths import RECORDS, ROOT
from siamese_utils.profiles import get_profile

CHAPTER_COSTS = RECORDS / "book.json"
# The kernel's own peak, or a process it started if that was larger (the appendix trains in
# subprocesses); ru_maxrss is in KiB on Linux and in bytes on macOS.
PEAK_MEMORY_PROBE = (
    "import resource, sys\n"
    "peak = max(resource.getrusage(who).ru_maxrss\n"
    "           for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))\n"
    "print('PEAK_BYTES', peak if sys.platform == 'darwin' else peak * 1024)"
)


def chapters() -> list[pathlib.Path]:
    """The notebooks listed in ``_toc.yml``, in reading order."""
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [
        entry["file"]
        for part in toc.get("parts", [])
        for entry in part.get("chapters", [])
    ]
    return [
        ROOT / f"{name}.ipynb"
        for name in files
        if (ROOT / f"{name}.ipynb").exists()
    ]


def machine_memory_bytes() -> int:
    """Physical memory of this machine."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def execute(path: pathlib.Path) -> tuple[float, int]:
    """Wall seconds and peak kernel memory (bytes) of executing one notebook."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(PEAK_MEMORY_PROBE))
    client = NotebookClient(
        notebook, timeout=-1, resources={"metadata": {"path": str(path.parent)}}
    )
    started = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - started
    text = "".join(
        output.get("text", "") for output in notebook.cells[-1].outputs
    )
    return seconds, int(text.split("PEAK_BYTES")[1].split()[0])


def record_chapters(
    timings: dict[str, tuple[float, int]],
    path: pathlib.Path = CHAPTER_COSTS,
    chapter_names=None,
) -> dict:
    """Record each timed chapter's wall seconds and peak bytes, with when and where.

    Chapters measured earlier keep their entries (a run of some chapters replaces only
    theirs); chapters no longer in the book (``chapter_names``, by default those of
    ``_toc.yml``) are dropped. Returns the whole record.
    """
    names = (
        [p.stem for p in chapters()] if chapter_names is None else chapter_names
    )
    earlier = json.loads(path.read_text())["chapters"] if path.exists() else {}
    measured = {
        "date": common.now(),
        "profile": get_profile().name,
        "machine": common.machine(system=True),
        "command": "python -m bench --only book",
    }
    merged = {
        **earlier,
        **{
            name: {"seconds": round(seconds, 1), "peak_bytes": peak, **measured}
            for name, (seconds, peak) in timings.items()
        },
    }
    record = {
        "chapters": {name: merged[name] for name in names if name in merged}
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2) + "\n")
    return record


def run(only=None) -> list[Figure]:
    """Total wall time of the book and the largest chapter's peak memory.

    Args:
        only: chapter names (e.g. ``["07-ranking-loss"]``) to measure instead of every
            chapter; the figures then sum each chapter's latest recorded measurement.
    """
    paths = chapters()
    if only:
        paths = choose(
            paths,
            only,
            lambda path: path.stem,
            lambda unknown, names: (
                f"No chapters {unknown} in _toc.yml; it has {', '.join(names)}."
            ),
        )
    timings = {path.stem: execute(path) for path in paths}
    for name, (seconds, peak) in timings.items():
        print(
            f"  {name}: {seconds:.0f} s, peak {peak / 2**30:.2f} GiB",
            flush=True,
        )
    recorded = record_chapters(timings)["chapters"].values()
    total = sum(entry["seconds"] for entry in recorded)
    peak = max(entry["peak_bytes"] for entry in recorded)
    return [
        Figure(
            "whole book",
            f"{len(recorded)} chapters, wall time",
            "60-minute CI budget",
            total / 60,
            60.0,
            "min",
            "< 1 (CI limit)",
        ),
        Figure(
            "whole book",
            "largest chapter peak memory",
            "machine memory",
            peak / 2**30,
            machine_memory_bytes() / 2**30,
            "GiB",
            "< 1",
        ),
    ]
