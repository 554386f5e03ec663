"""Build the HTML book, executing every notebook, and check that every page landed.

Usage: python tools/build_book.py   (the profile comes from SIAMESE_PROFILE, default fast)

Runs ``jupyter-book build . --all -W -n --keep-going`` (every page rebuilt, warnings are
errors, nitpicky references)
with notebook execution forced by _config.yml, then fails unless ``_build/html/index.html``
and one page per entry of ``_toc.yml`` exist.
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import time

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
HTML = ROOT / "_build" / "html"


def toc_files(toc_path: pathlib.Path = ROOT / "_toc.yml") -> list[str]:
    """Every document named in ``_toc.yml`` (root first), without extension."""
    toc = yaml.safe_load(toc_path.read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        for chapter in part.get("chapters", []):
            files.append(chapter["file"])
            files += [
                section["file"] for section in chapter.get("sections", [])
            ]
    return files


def expected_pages() -> list[str]:
    """The HTML pages a build must write: the index and one per entry of ``_toc.yml``."""
    return ["index.html"] + [f"{name}.html" for name in toc_files()]


def missing_pages(html: pathlib.Path = HTML) -> list[str]:
    """Expected HTML pages that the build did not produce."""
    return [page for page in expected_pages() if not (html / page).is_file()]


def build() -> int:
    """Build the book; return a process exit code."""
    profile = os.environ.setdefault("SIAMESE_PROFILE", "fast")
    # The kernels that execute the chapters inherit this: TensorFlow's C++ start-up notices
    # (oneDNN, CPU features, no CUDA driver on a CPU machine) would otherwise be printed into
    # the pages. Only the book's build sets it; the package leaves TensorFlow's logging to
    # its users, whose CUDA errors must stay visible.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    jupyter_book = pathlib.Path(sys.executable).with_name("jupyter-book")
    # --all: rebuild every page, so every notebook is executed again even when an earlier
    # build left its pages in _build (Sphinx only re-reads changed sources otherwise).
    command = [
        str(jupyter_book),
        "build",
        str(ROOT),
        "--all",
        "-W",
        "-n",
        "--keep-going",
    ]
    print(
        f"Building the book with profile {profile!r}: {' '.join(command)}",
        flush=True,
    )
    started = time.perf_counter()
    status = subprocess.call(command, cwd=ROOT)
    minutes = (time.perf_counter() - started) / 60
    if status != 0:
        print(
            f"The book build failed (exit status {status}) after {minutes:.1f} min."
        )
        return status
    missing = missing_pages()
    if missing:
        print(
            f"The build reported success but these pages are missing: {missing}"
        )
        return 1
    print(f"\nBuilt in {minutes:.1f} min. The HTML book is in {HTML}/")
    print(f"Open {HTML / 'index.html'} in a browser, or serve it with:")
    print(
        f"  python -m http.server --directory {HTML} 8000   (then visit http://127.0.0.1:8000)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(build())
