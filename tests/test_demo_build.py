"""What the book's build adds for the demo page: a pinned, checked runtime and the export."""

import json
import pathlib
import shutil
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import book_demo  # noqa: E402
import browser_runtime  # noqa: E402

from siamese_utils import paths  # noqa: E402


@pytest.fixture(scope="module")
def runtime_cache(tmp_path_factory):
    """The pinned package, fetched by npm into a fresh cache (the registry is reachable
    wherever the book builds, CI included)."""
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed")
    cache = tmp_path_factory.mktemp("runtime")
    browser_runtime.tarball(cache)
    return cache


def test_the_runtime_is_fetched_by_version_and_matches_its_pinned_checksum(
    runtime_cache,
):
    path = browser_runtime.tarball(runtime_cache)
    assert path.name == f"onnxruntime-web-{browser_runtime.VERSION}.tgz"
    assert browser_runtime.integrity_of(path) == browser_runtime.INTEGRITY


def test_a_runtime_file_that_is_not_the_pinned_one_fails_and_says_so(tmp_path):
    (tmp_path / f"onnxruntime-web-{browser_runtime.VERSION}.tgz").write_bytes(
        b"not the package"
    )
    with pytest.raises(RuntimeError, match="is not the pinned onnxruntime-web"):
        browser_runtime.tarball(tmp_path)


def test_without_npm_the_build_says_how_to_get_the_runtime(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(browser_runtime.shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="npm is not installed"):
        browser_runtime.tarball(tmp_path)


def test_the_page_gets_the_wasm_runtime_and_the_export_beside_it(
    runtime_cache, tmp_path, monkeypatch
):
    monkeypatch.setattr(browser_runtime, "CACHE", runtime_cache)
    export = tmp_path / "export"
    export.mkdir()
    for name in book_demo.REQUIRED:
        (export / name).write_text(json.dumps({"name": name}))
    html = tmp_path / "html"
    sizes = book_demo.copy_demo(html, export)
    runtime = {
        f"ort/{pathlib.PurePosixPath(f).name}" for f in browser_runtime.FILES
    }
    assert runtime <= set(sizes)
    assert sizes["ort/ort-wasm-simd-threaded.wasm"] > 1e6
    for name in book_demo.REQUIRED:
        assert (html / "_static" / "demo" / name).read_text() == json.dumps(
            {"name": name}
        )
    # The runtime is no more than what the page loads: 15 MB with the model.
    assert sum(v for k, v in sizes.items() if k.startswith("ort/")) < 12e6


def test_a_missing_export_fails_the_build_and_names_what_makes_it(tmp_path):
    with pytest.raises(
        FileNotFoundError, match=r"twin\.onnx.*book/demo\.ipynb"
    ):
        book_demo.copy_demo(tmp_path / "html", tmp_path / "nothing")


def test_the_extension_reads_the_packages_own_export_folder():
    assert book_demo.demo_export() == paths.DEMO_EXPORT
