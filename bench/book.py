"""Benchmark 4: the whole book, executed the way the published build executes it.

Runs every chapter notebook of ``_toc.yml`` in a fresh kernel (profile from
``SIAMESE_PROFILE``, fast by default) and records its wall time and the kernel's peak
resident memory. The figures are the book's total time and its largest chapter's peak
memory as a share of this machine's memory.
"""

from __future__ import annotations

import os
import pathlib
import time

from bench.common import Figure

ROOT = pathlib.Path(__file__).resolve().parent.parent
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


def run() -> list[Figure]:
    """Total wall time of the book and the largest chapter's peak memory."""
    timings = {path.stem: execute(path) for path in chapters()}
    for name, (seconds, peak) in timings.items():
        print(
            f"  {name}: {seconds:.0f} s, peak {peak / 2**30:.2f} GiB",
            flush=True,
        )
    total = sum(seconds for seconds, _ in timings.values())
    peak = max(peak for _, peak in timings.values())
    return [
        Figure(
            "whole book",
            f"{len(timings)} chapters, wall time",
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
