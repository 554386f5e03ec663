"""The package's shape: an import graph without circles, documented lazy imports, one module
list, custom objects registered on import, and a command line that nothing imports back."""

import ast
import os
import pathlib
import re
import subprocess
import sys

import siamese_utils
from siamese_utils import checkpoints, model, profiles
from siamese_utils.seeding import set_seed

PACKAGE = pathlib.Path(siamese_utils.__file__).parent
# Modules, and subpackages (plots) as one module each: what the package's docstring lists.
SOURCES = {
    path.stem: [path]
    for path in PACKAGE.glob("*.py")
    if not path.stem.startswith("__")
} | {
    path.parent.name: sorted(path.parent.glob("*.py"))
    for path in PACKAGE.glob("*/__init__.py")
}
MODULES = sorted(SOURCES)


def _source(name: str) -> str:
    return "\n".join(path.read_text() for path in SOURCES[name])


def _package_imports(tree: ast.AST) -> set[str]:
    """The package modules a module imports, anywhere in it."""
    found = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.startswith("siamese_utils")
        ):
            parts = node.module.split(".")
            if len(parts) > 1:
                found.add(parts[1])
            else:
                found.update(
                    alias.name for alias in node.names if alias.name in MODULES
                )
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("siamese_utils."):
                    found.add(alias.name.split(".")[1])
    return found


def _graph() -> dict[str, set[str]]:
    return {
        name: _package_imports(ast.parse(_source(name))) - {name}
        for name in MODULES
    }


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle of ``graph`` as a path, or ``None``."""
    state = {}

    def visit(node, path):
        state[node] = "open"
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                return path + [node, target]
            if target not in state:
                found = visit(target, path + [node])
                if found:
                    return found
        state[node] = "done"
        return None

    for start in graph:
        if start not in state:
            found = visit(start, [])
            if found:
                return found
    return None


def test_the_package_has_no_import_circle():
    assert _cycle(_graph()) is None, " -> ".join(_cycle(_graph()))


def test_the_circle_finder_finds_a_circle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) is not None
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_nothing_in_the_package_imports_the_command_line():
    importers = [name for name, imports in _graph().items() if "cli" in imports]
    assert importers == []


def test_every_import_inside_a_function_says_why_it_waits():
    # Imports belong at the top, where they show the dependency graph; one that must wait
    # (a backend or a slow library needed by one function only) carries a comment saying so.
    unexplained = []
    for name in MODULES:
        lines = _source(name).splitlines()
        for node in ast.walk(ast.parse("\n".join(lines))):
            if (
                isinstance(node, (ast.Import, ast.ImportFrom))
                and node.col_offset > 0
            ):
                nearby = lines[max(0, node.lineno - 4) : node.lineno]
                if not any("#" in line for line in nearby):
                    unexplained.append(
                        f"{name}.py:{node.lineno}: {lines[node.lineno - 1].strip()}"
                    )
    assert unexplained == []


def test_the_package_docstring_lists_every_module():
    listed = set(
        re.findall(r":mod:`siamese_utils\.(\w+)`", siamese_utils.__doc__)
    )
    assert listed == set(MODULES)


def _python(code: str, **environment) -> subprocess.CompletedProcess:
    env = {
        key: value
        for key, value in os.environ.items()
        if key != "TF_CPP_MIN_LOG_LEVEL"
    }
    env.update(environment)
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_keras_loads_a_saved_network_after_importing_the_package_alone(
    tmp_path,
):
    set_seed(4)
    network = model.siamese_network(
        **profiles.get_profile("smoke").network_kwargs()
    )
    checkpoints.save_network(network, tmp_path / "best.keras")
    finished = _python(
        "import siamese_utils, keras\n"
        f"net = keras.saving.load_model({str(tmp_path / 'best.keras')!r})\n"
        "print(type(net.get_layer(siamese_utils.model.DISTANCE_LAYER)).__name__)\n"
    )
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert finished.stdout.strip().splitlines()[-1] == "L1Distance"


def test_importing_the_package_leaves_tensorflows_log_level_to_the_user():
    # A GPU user must still see CUDA errors; only the book's build quiets TensorFlow.
    finished = _python(
        "import os, siamese_utils\nprint(os.environ.get('TF_CPP_MIN_LOG_LEVEL'))"
    )
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert finished.stdout.strip().splitlines()[-1] == "None"


def test_the_command_line_offers_training_throughput_and_export():
    finished = subprocess.run(
        [sys.executable, "-m", "siamese_utils", "--help"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert all(
        command in finished.stdout
        for command in ("train", "throughput", "export")
    )
    missing = subprocess.run(
        [sys.executable, "-m", "siamese_utils"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert missing.returncode == 2 and "COMMAND" in missing.stderr


def test_the_readme_is_a_newcomers_page_of_at_most_150_lines():
    readme = (PACKAGE.parent / "README.md").read_text().splitlines()
    assert len(readme) <= 150, (
        f"README.md has {len(readme)} lines; move detail to docs/"
    )
    text = "\n".join(readme)
    for must in (
        "make book",
        "make test",
        "_build/html",
        "SIAMESE_PROFILE",
        "Reproduction report",
    ):
        assert must in text
