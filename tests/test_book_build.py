"""The book builds warning-free with every notebook executed, and every page exists.

This runs the same script as ``make book`` (with the profile in BOOK_PROFILE, default
``fast``: the published book), so it takes minutes.
"""

import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import build_book  # noqa: E402


def test_toc_lists_the_intro_and_the_chapters_in_order():
    files = build_book.toc_files()
    assert files[0] == "book/intro"
    chapters = [f for f in files if f.split("/")[-1][:2].isdigit()]
    assert (
        chapters == sorted(chapters)
        and chapters[0] == "book/01-macro-architecture"
    )
    for name in files:
        assert any(
            (ROOT / f"{name}{ext}").is_file() for ext in (".md", ".ipynb")
        ), name


def test_book_builds_without_warnings_and_every_page_exists():
    env = {
        **os.environ,
        "SIAMESE_PROFILE": os.environ.get("BOOK_PROFILE", "fast"),
    }
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "build_book.py")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    assert build_book.missing_pages() == []
    chapter = (
        build_book.HTML / "book" / "01-macro-architecture.html"
    ).read_text()
    assert "Traceback" not in chapter and "Could not find cuda" not in chapter
    # The root index.html only redirects and names no icon: browsers ask for /favicon.ico.
    assert (build_book.HTML / "favicon.ico").read_bytes()[
        :4
    ] == b"\x00\x00\x01\x00"
    # Chapter 6's reproduction left its run folder: a separate program that scores every
    # (query, candidate) pair of all_runs.zip with the whole saved network must agree
    # with the accuracy the book printed, within half a point.
    profile = env["SIAMESE_PROFILE"]
    check = subprocess.run(
        [
            sys.executable,
            str(ROOT / "tools" / "check_official_runs.py"),
            str(ROOT / "results" / f"{profile}-seed2015"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    print(check.stdout)
    assert check.returncode == 0, check.stdout + check.stderr[-3000:]
