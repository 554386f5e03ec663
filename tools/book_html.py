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
"""

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


def setup(app):
    app.connect("config-inited", _launch_only_with_a_repository)
    app.connect("html-page-context", _drop_repeated_scripts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
