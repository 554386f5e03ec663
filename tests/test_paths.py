"""One owner for every path: the records and the runs are found from any folder."""

import ast
import pathlib
import subprocess
import sys

from siamese_utils import paths

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _folders_seen_from(cwd) -> str:
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "from siamese_utils import paths, records, experiments\n"
            "print(paths.RECORDS, paths.RUNS, records.SEED_ROWS, experiments.RECORDED_ROWS)",
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_the_records_are_the_same_folder_from_the_root_the_book_and_elsewhere(
    tmp_path,
):
    seen = {
        _folders_seen_from(folder) for folder in (ROOT, ROOT / "book", tmp_path)
    }
    assert len(seen) == 1
    assert (
        paths.RECORDS == ROOT / "bench" / "results" and paths.RECORDS.is_dir()
    )
    assert (
        paths.run_folder("fast-seed2015") == ROOT / "results" / "fast-seed2015"
    )


def test_no_module_builds_a_path_relative_to_the_working_folder():
    # A path built from "..", "results" or "bench" literals depends on where a command
    # runs; siamese_utils.paths owns them.
    found = []
    for path in [
        *(ROOT / "siamese_utils").glob("*.py"),
        *(ROOT / "bench").glob("*.py"),
    ]:
        if path.name == "paths.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "attr", getattr(node.func, "id", ""))
                in ("Path", "join")
                and any(
                    isinstance(a, ast.Constant)
                    and a.value in ("..", "results", "bench")
                    for a in node.args
                )
            ):
                found.append(f"{path.name}:{node.lineno}")
    assert found == []
