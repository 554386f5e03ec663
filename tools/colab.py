"""The book's link to Google Colab: one repository setting, written where it is needed.

Usage:
    python tools/colab.py set https://github.com/OWNER/REPO [--branch main]
    python tools/colab.py cells        (put the set-up cell first in every notebook)

The launch buttons (``_config.yml``, ``repository``) and the first cell of every notebook
(which installs ``siamese_utils`` from that repository when the notebook runs on Colab)
must name the same repository. ``set`` writes it into both; until it is set, the book has
no launch buttons (``tools/build_book.py`` leaves them out) and the set-up cell explains on
Colab how to install the package by hand. Off Colab the cell does nothing.
"""

from __future__ import annotations

import argparse
import pathlib
import re
import sys

import nbformat
import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
CONFIG = ROOT / "_config.yml"
BOOK = ROOT / "book"
SETUP_TAG = "colab-setup"
_SETTING = re.compile(
    r'^REPOSITORY, BRANCH = "(?P<url>[^"]*)", "(?P<branch>[^"]*)"$',
    re.MULTILINE,
)
_GITHUB = re.compile(r"^https://github\.com/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")

SETUP_CELL = """\
# Colab set-up: on Google Colab, install this book's helper package
# (siamese_utils) from the book's repository. Anywhere else (a local clone,
# CI) this cell does nothing.
import sys

REPOSITORY, BRANCH = "{url}", "{branch}"
if "google.colab" in sys.modules:
    if not REPOSITORY:
        raise RuntimeError(
            "This copy of the book does not name its GitHub repository, so "
            "the package cannot be installed for you. Run: !pip install "
            "git+https://github.com/OWNER/REPO (the repository you opened "
            "this notebook from), then run the notebook again."
        )
    import subprocess

    package = f"git+{{REPOSITORY}}@{{BRANCH}}"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", package], check=True
    )"""


def repository(config_path: pathlib.Path = CONFIG) -> tuple[str, str]:
    """``(url, branch)`` of the book's repository from ``_config.yml`` (url empty when unset)."""
    settings = yaml.safe_load(config_path.read_text()).get("repository") or {}
    return str(settings.get("url") or ""), str(settings.get("branch") or "main")


def setup_cell_source(url: str, branch: str) -> str:
    """The first cell of every notebook, for this repository."""
    return SETUP_CELL.format(url=url, branch=branch)


def notebooks(book: pathlib.Path = BOOK) -> list[pathlib.Path]:
    """The book's notebooks."""
    return sorted(book.glob("*.ipynb"))


def write_setup_cells(url: str, branch: str, paths=None) -> None:
    """Make the set-up cell (tagged ``colab-setup``, hidden in the HTML) every notebook's first."""
    for path in paths or notebooks():
        notebook = nbformat.read(path, as_version=4)
        cells = [
            c
            for c in notebook.cells
            if SETUP_TAG not in c.metadata.get("tags", [])
        ]
        setup = nbformat.v4.new_code_cell(setup_cell_source(url, branch))
        setup.metadata["tags"] = [SETUP_TAG, "remove-cell"]
        # After the title cell, so the notebook still opens with its title.
        position = 1 if cells and cells[0].cell_type == "markdown" else 0
        cells.insert(position, setup)
        notebook.cells = cells
        nbformat.write(notebook, path)


def set_repository(
    url: str, branch: str, config_path: pathlib.Path = CONFIG, paths=None
) -> None:
    """Write the repository into ``_config.yml`` and every notebook's set-up cell.

    Raises:
        ValueError: ``url`` is not ``https://github.com/OWNER/REPO`` (Colab opens notebooks
            from GitHub), or ``branch`` is empty.
    """
    url = url.rstrip("/").removesuffix(".git")
    if not _GITHUB.match(url):
        raise ValueError(
            f"Expected https://github.com/OWNER/REPO, got {url!r}: Colab opens notebooks from GitHub."
        )
    if not branch:
        raise ValueError("The branch must not be empty.")
    text = config_path.read_text()
    text, count = re.subn(r"(?m)^(  url: ).*$", rf'\g<1>"{url}"', text, count=1)
    text, count_branch = re.subn(
        r"(?m)^(  branch: ).*$", rf'\g<1>"{branch}"', text, count=1
    )
    if not (count and count_branch):
        raise ValueError(
            f"{config_path} has no repository url/branch lines to set."
        )
    config_path.write_text(text)
    write_setup_cells(url, branch, paths)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python tools/colab.py", description=__doc__.split("\n\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    setter = commands.add_parser(
        "set", help="name the book's GitHub repository"
    )
    setter.add_argument("url")
    setter.add_argument("--branch", default="main")
    commands.add_parser(
        "cells",
        help="(re)write the set-up cell of every notebook from _config.yml",
    )
    args = parser.parse_args(argv)
    try:
        if args.command == "set":
            set_repository(args.url, args.branch)
        else:
            write_setup_cells(*repository())
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(
        f"repository {repository()[0] or '(unset)'}: {len(notebooks())} notebooks updated"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
