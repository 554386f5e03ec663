"""A Sphinx extension with the book's two fixes to what Jupyter Book 1.0 writes into pages.

* **Each script tag once.** sphinx-thebe adds its inline configuration script (``const
  THEBE_JS_URL = ...``) twice to every page, and the second copy is a JavaScript error in
  the reader's console ("Identifier 'THEBE_JS_URL' has already been declared"). Exact
  repeats (same file, same inline body) are dropped; the first copy stays. (togglebutton's
  inline setting is repeated the same way, harmlessly.)
* **Launch buttons only with a repository.** ``_config.yml`` configures the Colab button,
  which opens a chapter from the book's GitHub repository. Until ``repository.url`` names
  that repository (``python tools/colab.py set URL``), there is nothing to open, and
  sphinx-book-theme would fail on the empty URL; the buttons are left out instead.
* **A favicon at the site's root.** The root ``index.html`` that Jupyter Book writes only
  redirects to the intro and names no icon, so a browser asks for ``/favicon.ico`` and logs
  a 404 in the console. The book's icon (``book/_static/favicon.ico``, the same picture as
  the pages' ``favicon.svg``) is copied there.
"""

import pathlib
import shutil

FAVICON = pathlib.Path(__file__).resolve().parents[1] / "book" / "_static" / "favicon.ico"

LAUNCH_KEYS = ("binderhub_url", "jupyterhub_url", "colab_url", "deepnote_url", "jupyterlite_url")


def _launch_only_with_a_repository(app, config):
    options = config.html_theme_options
    if not options.get("repository_url"):
        buttons = dict(options.get("launch_buttons") or {})
        for key in LAUNCH_KEYS:
            buttons.pop(key, None)
        options["launch_buttons"] = buttons


def _drop_repeated_scripts(app, pagename, templatename, context, doctree):
    seen, kept = set(), []
    for script in context.get("script_files", []):
        # The repeat is registered once with filename None and once with "" (both inline).
        filename = getattr(script, "filename", script) or ""
        attributes = tuple(sorted((getattr(script, "attributes", None) or {}).items()))
        key = (str(filename), attributes)
        if key not in seen:
            seen.add(key)
            kept.append(script)
    context["script_files"] = kept


def _favicon_at_the_root(app, exception):
    if exception is None and app.builder.format == "html":
        shutil.copyfile(FAVICON, pathlib.Path(app.outdir) / "favicon.ico")


def setup(app):
    app.connect("config-inited", _launch_only_with_a_repository)
    app.connect("build-finished", _favicon_at_the_root)
    app.connect("html-page-context", _drop_repeated_scripts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
