"""A Sphinx extension that puts the one-shot demo's files beside its page (``book/demo``).

The demo page runs the network chapter 6 trained in the reader's browser. It needs two sets
of files that are not in the book's sources:

* the network, exported by the page's own notebook on every build into
  ``siamese_utils.paths.DEMO_EXPORT`` (``_build/demo``), copied to ``_static/demo/``;
* onnxruntime-web, the runtime that runs it, vendored by :mod:`browser_runtime` from the npm
  registry's pinned package into ``_static/ort/``.

The runtime is fetched and checked when the build starts, so that a missing ``npm`` or a
bad download fails the build before any notebook runs; a missing export fails it at the
end. Neither is ever skipped silently. Only the demo page loads the runtime and the demo's
script and stylesheet (``_static/demo.js``, ``_static/demo.css``).
"""

from __future__ import annotations

import importlib.util
import pathlib
import shutil

import browser_runtime

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGE = "book/demo"
# What the page cannot start without (siamese_utils.browser_demo writes them all).
REQUIRED = ("twin.onnx", "head.json", "runs.json", "runs.bin.gz", "demo.json")


def demo_export() -> pathlib.Path:
    """Where the demo's notebook exports the network: ``siamese_utils.paths.DEMO_EXPORT``.

    Read from ``paths.py`` alone: importing the package would load TensorFlow into the
    process that builds the book, only to learn a path.
    """
    spec = importlib.util.spec_from_file_location(
        "siamese_utils_paths", ROOT / "siamese_utils" / "paths.py"
    )
    paths = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(paths)
    return paths.DEMO_EXPORT


def _runtime_first(app, config):
    browser_runtime.tarball()


def _demo_assets(app, pagename, templatename, context, doctree):
    # Deferred scripts run in order once the page is parsed: the runtime, then the demo.
    if pagename == PAGE:
        app.add_js_file("ort/ort.wasm.min.js", defer="defer")
        app.add_js_file("demo.js", defer="defer")
        app.add_css_file("demo.css")


def copy_demo(html: pathlib.Path, export: pathlib.Path) -> dict[str, int]:
    """Copy the runtime and the exported network into ``html/_static``; returns the bytes
    of each file copied, by path below ``_static``.

    Raises:
        FileNotFoundError: the export is missing or incomplete (the demo's notebook did
            not run); the message names the files.
    """
    missing = [name for name in REQUIRED if not (export / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"The demo page's export lacks {', '.join(missing)} in {export}: "
            "book/demo.ipynb writes it when the book is built (make book)."
        )
    static = html / "_static"
    sizes = {
        f"ort/{name}": size
        for name, size in browser_runtime.unpack(static / "ort").items()
    }
    target = static / "demo"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(export, target)
    sizes.update(
        {f"demo/{path.name}": path.stat().st_size for path in target.iterdir()}
    )
    return sizes


def _copy_after_build(app, exception):
    if exception is None and app.builder.format == "html":
        copy_demo(pathlib.Path(app.outdir), demo_export())


def setup(app):
    app.connect("config-inited", _runtime_first)
    # Before book_html's drop_repeated_scripts, which replaces the page's list of scripts.
    app.connect("html-page-context", _demo_assets, priority=400)
    app.connect("build-finished", _copy_after_build)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
