"""Launching on Colab: one repository setting, the set-up cell of every notebook, the buttons."""

import pathlib
import shutil
import sys
import types

import nbformat
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import book_html  # noqa: E402
import colab  # noqa: E402


def _first_code_cell(path):
    return next(
        c
        for c in nbformat.read(path, as_version=4).cells
        if c.cell_type == "code"
    )


@pytest.mark.parametrize("path", colab.notebooks(), ids=lambda p: p.name)
def test_every_notebook_opens_with_the_setup_cell_for_the_configured_repository(
    path,
):
    cell = _first_code_cell(path)
    assert (
        colab.SETUP_TAG in cell.metadata["tags"]
        and "remove-cell" in cell.metadata["tags"]
    )
    assert cell.source == colab.setup_cell_source(*colab.repository())
    cells = nbformat.read(path, as_version=4).cells
    assert (
        sum(colab.SETUP_TAG in c.metadata.get("tags", []) for c in cells) == 1
    )


def _run_setup_cell(url, on_colab):
    namespace = {}
    fake = {
        "google": types.ModuleType("google"),
        "google.colab": types.ModuleType("google.colab"),
    }
    saved = {name: sys.modules.get(name) for name in fake}
    if on_colab:
        sys.modules.update(fake)
    try:
        exec(colab.setup_cell_source(url, "main"), namespace)
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
    return namespace


def test_the_setup_cell_does_nothing_off_colab():
    namespace = _run_setup_cell("", on_colab=False)
    assert namespace["REPOSITORY"] == "" and "subprocess" not in namespace


def test_on_colab_without_a_repository_the_setup_cell_says_how_to_install_by_hand():
    with pytest.raises(
        RuntimeError, match="pip install git\\+https://github.com/OWNER/REPO"
    ):
        _run_setup_cell("", on_colab=True)


def test_setting_the_repository_writes_the_config_and_every_notebook(tmp_path):
    config = tmp_path / "_config.yml"
    shutil.copy(colab.CONFIG, config)
    books = [
        shutil.copy(path, tmp_path / path.name)
        for path in colab.notebooks()[:2]
    ]
    colab.set_repository(
        "https://github.com/someone/siamese-book.git",
        "trunk",
        config,
        [pathlib.Path(p) for p in books],
    )
    assert colab.repository(config) == (
        "https://github.com/someone/siamese-book",
        "trunk",
    )
    for path in books:
        source = _first_code_cell(path).source
        assert (
            'REPOSITORY, BRANCH = "https://github.com/someone/siamese-book", "trunk"'
            in source
        )
    # The rest of the notebook is untouched.
    original = nbformat.read(colab.notebooks()[0], as_version=4).cells
    rewritten = nbformat.read(books[0], as_version=4).cells
    assert [
        c.source
        for c in original
        if colab.SETUP_TAG not in c.metadata.get("tags", [])
    ] == [
        c.source
        for c in rewritten
        if colab.SETUP_TAG not in c.metadata.get("tags", [])
    ]


@pytest.mark.parametrize(
    "url", ["github.com/a/b", "https://gitlab.com/a/b", "https://github.com/a"]
)
def test_a_repository_colab_cannot_open_is_refused(url, tmp_path):
    config = tmp_path / "_config.yml"
    shutil.copy(colab.CONFIG, config)
    with pytest.raises(ValueError, match="https://github.com/OWNER/REPO"):
        colab.set_repository(url, "main", config, [])
    assert config.read_text() == colab.CONFIG.read_text()


def _theme_config(url):
    options = {
        "repository_url": url,
        "launch_buttons": {
            "colab_url": "https://colab.research.google.com",
            "notebook_interface": "classic",
        },
    }
    return types.SimpleNamespace(html_theme_options=options)


def test_launch_buttons_are_left_out_until_a_repository_is_named():
    unnamed = _theme_config("")
    book_html._launch_only_with_a_repository(None, unnamed)
    assert "colab_url" not in unnamed.html_theme_options["launch_buttons"]
    named = _theme_config("https://github.com/someone/siamese-book")
    book_html._launch_only_with_a_repository(None, named)
    assert (
        named.html_theme_options["launch_buttons"]["colab_url"]
        == "https://colab.research.google.com"
    )


def test_a_script_registered_twice_is_written_once():
    # Script entries as Sphinx's page context holds them: a file name (None or "" for an
    # inline script) and attributes (an inline script's body among them).
    def script(filename, **attributes):
        return types.SimpleNamespace(filename=filename, attributes=attributes)

    config = script(None, body="const THEBE_JS_URL = 1")
    again = script("", body="const THEBE_JS_URL = 1")
    other = script("_static/other.js")
    context = {"script_files": [config, other, again]}
    book_html.drop_repeated_scripts(None, "page", "page.html", context, None)
    assert context["script_files"] == [config, other]
