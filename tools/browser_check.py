"""Open the built book in headless Chromium and check what a reader would see.

Usage: python tools/browser_check.py   (after ``make book``; exit status 1 on any problem)

Serves ``_build/html`` on 127.0.0.1, opens the index and every page of ``_toc.yml`` in
Chromium (the Debian packages ``chromium`` and ``chromium-driver``, driven by Selenium; no
browser is downloaded), and reports, per page:

* console errors from the book itself (messages about resources on other hosts, such as
  MathJax from its CDN, are listed apart: offline they cannot load, online they do);
* images that did not load;
* links to pages or anchors of the book that do not exist;
* text that should never reach a reader (tracebacks, raw object reprs);
* equations MathJax left as raw LaTeX, or typeset as an error (the book serves MathJax
  itself, so this holds offline);
* code blocks wider than the content column, which the reader would have to scroll, and
  outputs (printed text, tables) cut off or scrolling for the same reason;
* colour-mapped figures (cells tagged ``true-colours``) inverted in dark mode, where their
  colour scale would read backwards;
* figures without alt text (or with a file name for it), and raster figures of fewer
  than 1.5 image pixels per displayed pixel (the book draws SVG).

Full-page screenshots of each page, in the theme's light and dark modes, land in
``_build/screenshots/`` (``<page>.png`` and ``<page>-dark.png``). The demo page then gets
its own check (:mod:`demo_check`).
"""

from __future__ import annotations

import dataclasses
import functools
import http.server
import os
import pathlib
import re
import shutil
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent
HTML = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "_build" / "screenshots"
# Debian's packages; CHROMIUM_BINARY and CHROMEDRIVER point elsewhere (another system's Chrome).
CHROMIUM = os.environ.get("CHROMIUM_BINARY", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
INSTALL_HINT = "apt-get install chromium chromium-driver (Debian/Ubuntu)"
# What a rendered page must not show: a notebook error, or an object's default repr
# where a figure or a table should be.
FORBIDDEN_TEXT = (
    "Traceback (most recent call last)",
    "<Figure size",
    "<matplotlib.",
    "<IPython.core",
)
# The tallest screenshot taken (pixels); longer pages are cut there.
MAX_HEIGHT = 16_000


@dataclasses.dataclass
class PageReport:
    """What the browser found on one page."""

    page: str
    console_errors: list[str] = dataclasses.field(default_factory=list)
    external_console_errors: list[str] = dataclasses.field(default_factory=list)
    broken_images: list[str] = dataclasses.field(default_factory=list)
    broken_links: list[str] = dataclasses.field(default_factory=list)
    forbidden_text: list[str] = dataclasses.field(default_factory=list)
    untypeset_math: list[str] = dataclasses.field(default_factory=list)
    clipped_code: list[str] = dataclasses.field(default_factory=list)
    clipped_outputs: list[str] = dataclasses.field(default_factory=list)
    inverted_colour_maps: list[str] = dataclasses.field(default_factory=list)
    poor_figures: list[str] = dataclasses.field(default_factory=list)
    # File names the page offers for download (Sphinx's _downloads folder).
    downloads: list[str] = dataclasses.field(default_factory=list)
    equations: int = 0
    code_blocks: int = 0
    images: int = 0
    links: int = 0
    screenshot: pathlib.Path | None = None
    dark_screenshot: pathlib.Path | None = None

    @property
    def problems(self) -> list[str]:
        """Every problem on the page, one line each (empty when the page is clean)."""
        return (
            [f"console error: {m}" for m in self.console_errors]
            + [f"broken image: {s}" for s in self.broken_images]
            + [f"broken link: {h}" for h in self.broken_links]
            + [f"shows {t!r}" for t in self.forbidden_text]
            + [f"equation not typeset: {m}" for m in self.untypeset_math]
            + [
                f"code block wider than the column: {c}"
                for c in self.clipped_code
            ]
            + [
                f"output wider than the column: {c}"
                for c in self.clipped_outputs
            ]
            + [
                f"colour-mapped figure inverted in dark mode: {c}"
                for c in self.inverted_colour_maps
            ]
            + [f"figure: {f}" for f in self.poor_figures]
        )


def browser_available() -> bool:
    """Whether Chromium and its driver are installed where this check looks for them."""
    return (
        pathlib.Path(CHROMIUM).is_file()
        and pathlib.Path(CHROMEDRIVER).is_file()
    )


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(
        self, format, *args
    ):  # the server's access log is not a result
        pass


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # The browser dropping a download when it leaves a page (the demo's runtime, still
        # loading) is how browsing works, not a fault of the book.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def serve(directory: pathlib.Path):
    """An HTTP server for ``directory`` on 127.0.0.1 (a free port), running in a thread."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = _Server(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def driver():
    """A headless Chromium (Selenium) that logs the console, at a 1280x900 window."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1280,900",
        "--hide-scrollbars",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(
        service=Service(executable_path=CHROMEDRIVER), options=options
    )


# Waits for MathJax's first typesetting pass; answers "absent" when MathJax never started.
_AWAIT_MATHJAX = """
const done = arguments[arguments.length - 1];
if (!(window.MathJax && MathJax.startup && MathJax.startup.promise)) { done("absent"); }
else { MathJax.startup.promise.then(() => done("typeset"), (e) => done("failed: " + e)); }
"""
# Sphinx wraps every equation in an element of class "math"; MathJax puts an mjx-container
# inside each one it typesets, and an mjx-merror where the TeX does not parse.
_UNTYPESET_MATH = """
return Array.from(document.querySelectorAll(".math")).filter(
  (m) => !m.querySelector("mjx-container") || m.querySelector("mjx-merror")
).map((m) => m.textContent.trim().slice(0, 80));
"""
# A code block (a cell's input or a listing) that is wider than its box scrolls sideways:
# part of each long line is hidden until the reader scrolls.
_CLIPPED_CODE = """
const blocks = Array.from(document.querySelectorAll("div.highlight pre"))
  .filter((pre) => !pre.closest(".cell_output"));
return [blocks.length, blocks.filter((pre) => pre.scrollWidth > pre.clientWidth + 1).map(
  (pre) => pre.textContent.split(String.fromCharCode(10)).reduce((a, b) => (b.length > a.length ? b : a)).slice(0, 100))];
"""

# An output (printed text or a table) wider than the column is cut off or scrolls: a table
# wider than its output box, a block of text whose lines run past its own box.
_CLIPPED_OUTPUTS = """
const wide = (el) => {
  if (el.tagName === "TABLE") {
    const box = el.closest(".cell_output") || el.parentElement;
    return el.getBoundingClientRect().width > box.getBoundingClientRect().width + 1;
  }
  return el.scrollWidth > el.clientWidth + 1;
};
return Array.from(document.querySelectorAll(".cell_output pre, .cell_output table"))
  .filter(wide)
  .map((el) => el.textContent.trim().replace(/\\s+/g, " ").slice(0, 100));
"""
# In dark mode, the figures of cells tagged true-colours keep their colours (book.css).
_INVERTED_COLOUR_MAPS = """
return Array.from(document.querySelectorAll(".tag_true-colours img"))
  .filter((img) => getComputedStyle(img).filter !== "none")
  .map((img) => (img.getAttribute("alt") || img.src).slice(0, 80));
"""

# A figure is a notebook output's image; its alt text should be words (the caption), and a
# raster one should carry at least 1.5 pixels per displayed pixel (about 150 dpi).
# How siamese_utils.plots draws (its SMALLEST_FONT and figure.dpi; a test keeps them
# equal), and the smallest text a reader should have to read in a figure, in CSS pixels.
SMALLEST_FONT_PT = 9
FIGURE_DPI = 150
SMALLEST_TEXT_PX = 8

_POOR_FIGURES = (
    f"""
const SMALLEST_FONT = {SMALLEST_FONT_PT}, FIGURE_DPI = {FIGURE_DPI};
const SMALLEST_TEXT_PX = {SMALLEST_TEXT_PX};
"""
    + """
const hashed = /^[0-9a-f]{16,}(\\.\\w+)?$/;
return Array.from(document.querySelectorAll(".cell_output img")).flatMap((img) => {
  const name = img.src.split("/").pop();
  const problems = [];
  const alt = (img.getAttribute("alt") || "").trim();
  if (!alt || hashed.test(alt)) problems.push(`${name}: alt text ${JSON.stringify(alt)}`);
  const shown = img.getBoundingClientRect().width;
  if (!name.endsWith(".svg") && shown > 0 && img.naturalWidth < 1.5 * shown)
    problems.push(`${name}: ${img.naturalWidth} pixels shown ${Math.round(shown)} wide`);
  // The figures are drawn at FIGURE_DPI with no text under SMALLEST_FONT points; a figure
  // drawn too wide is shrunk until that text is too small to read.
  const smallest = (SMALLEST_FONT / 72) * FIGURE_DPI * (shown / img.naturalWidth);
  if (!name.endsWith(".svg") && shown > 0 && smallest < SMALLEST_TEXT_PX)
    problems.push(`${name}: its smallest text is ${smallest.toFixed(1)} px at page width`);
  return problems;
});
"""
)

_ID = re.compile(r"""\bid=["']([^"']+)["']""")


@functools.cache
def _fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            body = response.read()
            kind = response.headers.get("Content-Type", "")
            return response.status, body.decode(
                "utf-8", "replace"
            ) if "html" in kind else ""
    except urllib.error.HTTPError as error:
        return error.code, ""


def _link_is_broken(url: str) -> bool:
    target, _, fragment = url.partition("#")
    status, body = _fetch(target)
    if status != 200:
        return True
    return bool(
        fragment
        and body
        and urllib.parse.unquote(fragment) not in _ID.findall(body)
    )


def check_page(
    driver, origin: str, page: str, screenshots: pathlib.Path
) -> PageReport:
    """Open ``origin/page`` and report its problems; saves its screenshot in ``screenshots``."""
    report = PageReport(page)
    driver.get(f"{origin}/{page}")
    driver.execute_script("return document.fonts ? document.fonts.ready : true")
    for entry in driver.get_log("browser"):
        if entry["level"] != "SEVERE":
            continue
        local = origin in entry["message"] or not re.search(
            r"https?://", entry["message"]
        )
        (
            report.console_errors if local else report.external_console_errors
        ).append(entry["message"])
    images = driver.execute_script(
        "return Array.from(document.images).map(i => [i.src, i.complete && i.naturalWidth > 0])"
    )
    report.images = len(images)
    report.broken_images = [
        src for src, ok in images if not ok and src.startswith(origin)
    ]
    links = driver.execute_script(
        "return Array.from(document.links).map(a => a.href)"
    )
    internal = sorted({href for href in links if href.startswith(origin)})
    report.links = len(internal)
    report.broken_links = [href for href in internal if _link_is_broken(href)]
    report.downloads = sorted(
        href.rsplit("/", 1)[-1] for href in internal if "/_downloads/" in href
    )
    text = driver.execute_script("return document.body.innerText")
    report.forbidden_text = [t for t in FORBIDDEN_TEXT if t in text]
    report.equations = driver.execute_script(
        'return document.querySelectorAll(".math").length'
    )
    if report.equations:
        state = driver.execute_async_script(_AWAIT_MATHJAX)
        if state != "typeset":
            report.untypeset_math.append(f"MathJax {state}")
        report.untypeset_math += driver.execute_script(_UNTYPESET_MATH)
    report.code_blocks, report.clipped_code = driver.execute_script(
        _CLIPPED_CODE
    )
    report.clipped_outputs = driver.execute_script(_CLIPPED_OUTPUTS)
    report.poor_figures = driver.execute_script(_POOR_FIGURES)

    name = page.replace("/", "_").removesuffix(".html")
    report.screenshot = _screenshot(driver, screenshots / f"{name}.png")
    # The theme's own switch: the same attribute its light/dark button sets.
    driver.execute_script("document.documentElement.dataset.theme = 'dark'")
    report.inverted_colour_maps = driver.execute_script(_INVERTED_COLOUR_MAPS)
    report.dark_screenshot = _screenshot(
        driver, screenshots / f"{name}-dark.png"
    )
    return report


def _screenshot(driver, path: pathlib.Path) -> pathlib.Path:
    """A full-page screenshot (up to MAX_HEIGHT pixels tall) saved at ``path``."""
    height = min(
        MAX_HEIGHT,
        driver.execute_script("return document.documentElement.scrollHeight"),
    )
    driver.set_window_size(1280, max(900, height))
    driver.save_screenshot(str(path))
    driver.set_window_size(1280, 900)
    return path


def check_book(
    pages: list[str],
    html: pathlib.Path = HTML,
    screenshots: pathlib.Path = SCREENSHOTS,
):
    """Check every page in ``pages`` (paths below ``html``); returns one report per page.

    Raises:
        FileNotFoundError: the book is not built, or Chromium is not installed.
    """
    if not (html / "index.html").is_file():
        raise FileNotFoundError(
            f"No built book in {html}; run `make book` first."
        )
    if not browser_available():
        raise FileNotFoundError(
            f"Chromium or chromedriver is missing; install them: {INSTALL_HINT}."
        )
    if screenshots.exists():
        shutil.rmtree(screenshots)
    screenshots.mkdir(parents=True)
    server = serve(html)
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    browser = driver()
    try:
        return [
            check_page(browser, origin, page, screenshots) for page in pages
        ]
    finally:
        browser.quit()
        server.shutdown()


def book_pages() -> list[str]:
    """The index and one page per entry of ``_toc.yml``."""
    sys.path.insert(0, str(ROOT / "tools"))
    import build_book

    return build_book.expected_pages()


def main() -> int:
    reports = check_book(book_pages())
    for report in reports:
        status = (
            "ok" if not report.problems else f"{len(report.problems)} problems"
        )
        print(
            f"{report.page:<36} {report.images:>3} images {report.links:>4} internal links "
            f"{report.equations:>3} equations {report.code_blocks:>3} code blocks  {status}"
        )
        for problem in report.problems:
            print(f"    {problem}")
        for message in report.external_console_errors:
            print(f"    (other host, not counted) {message[:160]}")
    print(f"screenshots: {SCREENSHOTS}")
    # The demo page's own check (it imports this module, so it is imported here).
    import demo_check

    print("\ndemo page (book/demo.html):")
    demo_status = demo_check.main()
    return 1 if demo_status or any(r.problems for r in reports) else 0


if __name__ == "__main__":
    sys.exit(main())
