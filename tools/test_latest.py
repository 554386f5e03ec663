"""An alarm for version drift: the book against the newest releases of what it depends on.

The book pins the versions it was tested with (requirements.txt). A reader who installs it a
month later gets newer ones, and the most common complaint about executable books is that
"the notebook no longer runs" after a library release. This command builds a separate
environment with the newest release of every direct dependency (Jupyter Book kept below 2,
which no longer reads _config.yml and _toc.yml), runs ruff, the unit tests and every notebook
through nbval in the smoke profile there, and prints which package moved from its pin and
what failed:

    python tools/test_latest.py              # builds .venv-latest and runs the checks
    python tools/test_latest.py --reuse      # reuses .venv-latest as it is
    make test-latest                         # the same

It exits with 0 when everything passes on the newest releases and 1 when something fails,
so a scheduled workflow (.github/workflows/latest.yml) turns red the week a release breaks
the book. The book build and the browser check are left out: they test the build tools,
whose versions the pins keep for the published book.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv-latest"
# A direct dependency's newest release, except where the book needs a major version.
CAPS = {"jupyter-book": "<2"}
# The checks, as make test runs them, without the book build and the browser.
CHECKS = {
    "ruff check": ["ruff", "check", "."],
    "unit tests": [
        "python",
        "-m",
        "pytest",
        "tests",
        "-q",
        "-x",
        "-p",
        "no:cacheprovider",
        "--ignore=tests/test_book_build.py",
        "--ignore=tests/test_browser.py",
    ],  # fmt: skip
    "notebooks (nbval, smoke)": [
        "python",
        "-m",
        "pytest",
        "book",
        "-q",
        "-p",
        "no:cacheprovider",
    ],  # fmt: skip
}


def pins(path: pathlib.Path = ROOT / "requirements.txt") -> dict[str, str]:
    """The pinned direct dependencies: name -> version."""
    found = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s#]+)", line.strip())
        if match:
            found[match.group(1).lower()] = match.group(2)
    return found


def unpinned(pinned: dict[str, str]) -> list[str]:
    """What pip is asked for: every direct dependency at its newest allowed release."""
    return [name + CAPS.get(name, "") for name in pinned]


def run(command: list[str], **options) -> subprocess.CompletedProcess:
    """A command in the latest environment, its output captured."""
    executable = VENV / "bin" / command[0]
    return subprocess.run(
        [str(executable), *command[1:]],
        cwd=ROOT,
        capture_output=True,
        text=True,
        **options,
    )


def build(pinned: dict[str, str]) -> None:
    """Make .venv-latest with the newest releases and the book's package."""
    subprocess.run(
        [sys.executable, "-m", "venv", "--clear", str(VENV)], check=True
    )
    for arguments in (
        ["-m", "pip", "install", "--quiet", "--upgrade", "pip"],
        ["-m", "pip", "install", "--quiet", "--upgrade", *unpinned(pinned)],
        ["-m", "pip", "install", "--quiet", "--no-deps", "-e", "."],
    ):
        done = run(["python", *arguments])
        if done.returncode:
            sys.exit(
                f"pip {' '.join(arguments[2:4])} failed:\n{done.stderr[-3000:]}"
            )


def installed(names) -> dict[str, str]:
    """The versions .venv-latest holds of ``names``."""
    listing = run(["python", "-m", "pip", "list", "--format=freeze"]).stdout
    versions = dict(
        line.lower().split("==", 1)
        for line in listing.splitlines()
        if "==" in line
    )
    return {
        name: versions.get(name.replace("_", "-"), versions.get(name))
        for name in names
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--reuse", action="store_true", help="reuse .venv-latest"
    )
    args = parser.parse_args(argv)
    pinned = pins()
    if not (args.reuse and (VENV / "bin" / "python").exists()):
        build(pinned)
    newest = installed(pinned)
    moved = {n: (pinned[n], v) for n, v in newest.items() if v != pinned[n]}
    print(
        "Upgraded from the pins:"
        if moved
        else "Every direct dependency is at its pin."
    )
    for name, (old, new) in sorted(moved.items()):
        print(f"  {name}: {old} -> {new}")
    environment = {
        **os.environ,
        "SIAMESE_PROFILE": "smoke",
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }
    failed = []
    for label, command in CHECKS.items():
        done = run(command, env=environment)
        print(f"{label}: {'passed' if done.returncode == 0 else 'FAILED'}")
        if done.returncode:
            failed.append(label)
            print(
                "\n".join(
                    f"    {line}" for line in done.stdout.splitlines()[-25:]
                )
            )
    if failed:
        print(
            f"Failed on the newest releases: {', '.join(failed)}. The upgrades above are "
            "the suspects; pin one back in a scratch copy of requirements.txt to find "
            "which."
        )
        return 1
    print("The book passes on the newest releases of its direct dependencies.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
