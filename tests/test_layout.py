"""The code's size rules (the repository's review, issue 33): no function in the package or
the benchmarks longer than 80 lines, no module longer than 500, and no private name (one
starting with ``_``) used outside the module that defines it."""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
FOLDERS = ("siamese_utils", "bench")
LONGEST_FUNCTION = 80
LONGEST_MODULE = 500
# Our own modules, by the names other modules import them under.
SOURCES = sorted(
    path for folder in FOLDERS for path in (ROOT / folder).rglob("*.py")
)
OURS = {path.stem for path in SOURCES} | {
    path.parent.name for path in SOURCES if path.stem == "__init__"
}


def functions_longer_than(limit: int, source: str) -> list[tuple[str, int]]:
    """(name, lines) of every function or method of ``source`` longer than ``limit``."""
    return [
        (node.name, node.end_lineno - node.lineno + 1)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and node.end_lineno - node.lineno + 1 > limit
    ]


def private_names_used_from_elsewhere(source: str) -> list[str]:
    """``module._name`` attributes and ``from module import _name`` of our modules."""
    tree = ast.parse(source)
    aliases, found = {}, []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.ImportFrom)
            and (node.module or "").split(".")[0] in FOLDERS
        ):
            for alias in node.names:
                if alias.name.startswith("_"):
                    found.append(f"from {node.module} import {alias.name}")
                if alias.name in OURS:
                    aliases[alias.asname or alias.name] = alias.name
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in FOLDERS:
                    aliases[alias.asname or alias.name.split(".")[-1]] = (
                        alias.name
                    )
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
        ):
            found.append(f"{node.value.id}.{node.attr}")
    return found


@pytest.mark.parametrize(
    "path", SOURCES, ids=lambda p: str(p.relative_to(ROOT))
)
def test_no_function_is_longer_than_80_lines(path):
    assert functions_longer_than(LONGEST_FUNCTION, path.read_text()) == []


@pytest.mark.parametrize(
    "path", SOURCES, ids=lambda p: str(p.relative_to(ROOT))
)
def test_no_module_is_longer_than_500_lines(path):
    assert len(path.read_text().splitlines()) <= LONGEST_MODULE


@pytest.mark.parametrize(
    "path",
    [*SOURCES, *sorted((ROOT / "tools").glob("*.py"))],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_no_private_name_is_used_outside_its_module(path):
    assert private_names_used_from_elsewhere(path.read_text()) == []


def test_the_rules_catch_what_they_forbid():
    long = "def f():\n" + "    x = 1\n" * 80
    assert functions_longer_than(80, long) == [("f", 81)]
    assert functions_longer_than(80, "def g():\n    return 1\n") == []
    assert private_names_used_from_elsewhere(
        "from siamese_utils import reproduce\nreproduce._distributed()\n"
    ) == ["reproduce._distributed"]
    assert private_names_used_from_elsewhere(
        "from siamese_utils.data import _read_only\n"
    ) == ["from siamese_utils.data import _read_only"]
    assert private_names_used_from_elsewhere("import os\nos._exit(0)\n") == []
