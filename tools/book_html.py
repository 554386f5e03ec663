"""A Sphinx extension with the book's fixes to what Jupyter Book 1.0 writes into pages.

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
* **Equations without the internet.** Sphinx loads MathJax from a CDN by default, so a reader
  offline (or behind a firewall) sees raw LaTeX. The book serves MathJax 3 from its own
  ``_static/mathjax`` folder instead, copied at build time from the ``mathjax`` package that
  ``django-static-mathjax`` installs (a plain copy of MathJax's release files; Django is not
  needed). Only what TeX input and HTML output use is copied: the combined ``tex-chtml.js``,
  the TeX extensions it loads on demand, the CommonHTML fonts, and the menu and
  accessibility components.
* **Figures for every reader.** Each figure's image gets its caption as alt text (myst-nb
  leaves the output's file name), and ``book/_static/book.css`` turns the figures' white
  ground dark in the theme's dark mode.
* **One citation style.** The text cites by author and year ("Koch et al. [2015]"), and the
  reference list labels each work the same way ("[Koch et al., 2015]") instead of pybtex's
  default alpha labels ("[KZS15]"), which a reader could not match to the text. The
  formatting style ``book`` (``bibtex_default_style`` in ``_config.yml``) is pybtex's plain
  style (sorted by author) with those labels.
"""

import collections
import importlib.util
import pathlib
import shutil

from docutils import nodes
from pybtex.plugin import register_plugin
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.labels import BaseLabelStyle

STATIC = pathlib.Path(__file__).resolve().parents[1] / "book" / "_static"
FAVICON = STATIC / "favicon.ico"

# The parts of MathJax's es5 release the pages load (the rest, SVG output, MathML input and the
# speech engine, is never requested by tex-chtml.js with the default settings).
MATHJAX_PARTS = (
    "tex-chtml.js",
    "input/tex/extensions",
    "output/chtml",
    "ui",
    "a11y",
    "adaptors",
)
MATHJAX_PATH = (
    "mathjax/tex-chtml.js"  # relative to _static, as Sphinx reads mathjax_path
)

LAUNCH_KEYS = (
    "binderhub_url",
    "jupyterhub_url",
    "colab_url",
    "deepnote_url",
    "jupyterlite_url",
)


def _launch_only_with_a_repository(app, config):
    options = config.html_theme_options
    if not options.get("repository_url"):
        buttons = dict(options.get("launch_buttons") or {})
        for key in LAUNCH_KEYS:
            buttons.pop(key, None)
        options["launch_buttons"] = buttons


def drop_repeated_scripts(app, pagename, templatename, context, doctree):
    """Write each script once into a page (Sphinx's ``html-page-context`` event): a script
    is its file name (inline ones have none) and its attributes, the values Sphinx's
    script entries carry."""
    seen, kept = set(), []
    for script in context.get("script_files", []):
        # The repeat is registered once with filename None and once with "" (both inline).
        filename = getattr(script, "filename", script) or ""
        attributes = tuple(
            sorted((getattr(script, "attributes", None) or {}).items())
        )
        key = (str(filename), attributes)
        if key not in seen:
            seen.add(key)
            kept.append(script)
    context["script_files"] = kept


def _favicon_at_the_root(app, exception):
    if exception is None and app.builder.format == "html":
        shutil.copyfile(FAVICON, pathlib.Path(app.outdir) / "favicon.ico")


def mathjax_release() -> pathlib.Path:
    """The folder of MathJax's es5 release files, from the installed ``mathjax`` package.

    Raises:
        ModuleNotFoundError: the package is missing; says which requirement installs it.
    """
    spec = importlib.util.find_spec("mathjax")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "MathJax's files are missing: install django-static-mathjax (it is in "
            "requirements.txt; `make setup` installs it), which provides the `mathjax` package."
        )
    return (
        pathlib.Path(next(iter(spec.submodule_search_locations)))
        / "static"
        / "mathjax"
        / "es5"
    )


def _mathjax_from_the_book(app, config):
    mathjax_release()  # fail at the start of the build, not after executing every notebook
    config.mathjax_path = MATHJAX_PATH


def _copy_mathjax(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    release = mathjax_release()
    target = pathlib.Path(app.outdir) / "_static" / "mathjax"
    for part in MATHJAX_PARTS:
        source = release / part
        if source.is_dir():
            shutil.copytree(source, target / part, dirs_exist_ok=True)
        else:
            (target / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target / part)
    shutil.copyfile(release.parent / "LICENSE", target / "LICENSE")


def _book_stylesheet(app, config):
    config.html_static_path.append(str(STATIC))
    app.add_css_file("book.css")


def _alt_text_from_captions(app, doctree, docname):
    for figure in doctree.findall(nodes.figure):
        caption = next(iter(figure.findall(nodes.caption)), None)
        if caption is None:
            continue
        for image in figure.findall(nodes.image):
            image["alt"] = " ".join(caption.astext().split())


def _surname(person) -> str:
    # BibTeX accents ({\"a}) are spelt out by pybtex's rich text; the braces are dropped.
    return (
        " ".join(person.prelast_names + person.last_names)
        .replace("{", "")
        .replace("}", "")
    )


class AuthorYearLabels(BaseLabelStyle):
    """Labels like "Koch et al., 2015", "Glorot and Bengio, 2010"; repeats get 2015a, 2015b."""

    def format_labels(self, sorted_entries):
        entries = list(sorted_entries)
        labels = []
        for entry in entries:
            names = [_surname(p) for p in entry.persons.get("author", [])]
            if len(names) > 2:
                authors = f"{names[0]} et al."
            else:
                authors = " and ".join(names) or entry.fields.get(
                    "title", entry.key
                )
            labels.append(f"{authors}, {entry.fields.get('year', 'n.d.')}")
        counts = collections.Counter(labels)
        suffixes = collections.defaultdict(int)
        for label in labels:
            if counts[label] > 1:
                suffixes[label] += 1
                yield label + "abcdefghijklmnopqrstuvwxyz"[suffixes[label] - 1]
            else:
                yield label


class BookStyle(PlainStyle):
    """pybtex's plain style (entries sorted by author) with author-year labels."""

    default_label_style = "book_author_year"


def setup(app):
    register_plugin("pybtex.style.labels", "book_author_year", AuthorYearLabels)
    register_plugin("pybtex.style.formatting", "book", BookStyle)
    app.connect("config-inited", _launch_only_with_a_repository)
    app.connect("config-inited", _mathjax_from_the_book)
    app.connect("config-inited", _book_stylesheet)
    app.connect("doctree-resolved", _alt_text_from_captions)
    app.connect("build-finished", _favicon_at_the_root)
    app.connect("build-finished", _copy_mathjax)
    app.connect("html-page-context", drop_repeated_scripts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
