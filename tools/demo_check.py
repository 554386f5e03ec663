"""The demo page in a real browser: the same scores as Keras, and a reader's drawings ranked.

Usage: python tools/demo_check.py   (after ``make book``; exit status 1 on any problem)

Serves ``_build/html`` on 127.0.0.1 and opens ``book/demo.html`` in headless Chromium (see
:mod:`browser_check`). It then

* waits for the page's network to load, and scores every trial of the first official run in
  the browser; each score is compared with Keras' (``_static/demo/reference.json``, written
  by the build) and so is the candidate each query picks;
* draws three different characters on the pad with pointer actions, adds each to the
  reader's alphabet, draws the second one again and scores it as the query: a ranking must
  appear, and the redrawn character must rank first with a score above every other (a
  page that scored every drawing alike would keep the alphabet's order, and fail);
* reports the bytes of the model and the runtime, how long the model took to load and how
  long after loading the first ranking appeared (the page's own clock), and saves light
  and dark screenshots of the demo (``_build/screenshots/demo-light.png`` and
  ``demo-dark.png``).
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
import sys
import time

import browser_check

PAGE = "book/demo.html"
# What the page downloads to run the network: the twin and the runtime.
MODEL_AND_RUNTIME = (
    "demo/twin.onnx",
    "ort/ort.wasm.min.js",
    "ort/ort-wasm-simd-threaded.mjs",
    "ort/ort-wasm-simd-threaded.wasm",
)
# Three characters unlike each other, as pointer moves (pixels) from a start point given as
# a share of the pad's width and height: a loop, a cross and a zigzag.
CHARACTERS = (
    ((0.30, 0.30), [(60, 0), (0, 60), (-60, 0), (0, -60)]),
    ((0.20, 0.50), [(150, 0), (-75, -75), (0, 150)]),
    ((0.15, 0.25), [(40, 120), (40, -120), (40, 120), (40, -120)]),
)
REDRAWN = 1  # the character drawn again as the query: not the first, which ties would favour
_AWAIT_READY = """
const done = arguments[arguments.length - 1];
const wait = () => window.siameseDemo ? siameseDemo.ready.then(
  () => done(siameseDemo.timings), (e) => done({error: String(e)})) : setTimeout(wait, 50);
wait();
"""
_SCORES = """
const done = arguments[arguments.length - 1];
siameseDemo.officialScores(0).then((s) => done(s.map((row) => Array.from(row))));
"""
_AWAIT_RANKING = """
const done = arguments[arguments.length - 1];
siameseDemo.container.addEventListener("ranked", (e) => done(e.detail), {once: true});
document.getElementById("demo-score").click();
"""


@dataclasses.dataclass
class DemoReport:
    """What the browser check found on the demo page."""

    error: str = ""
    model_and_runtime_bytes: int = 0
    load_seconds: float = float("nan")
    first_ranking_seconds: float = float("nan")
    largest_relative_difference: float = float("nan")
    same_choices: bool = False
    drawn_ranking: list[int] = dataclasses.field(default_factory=list)
    drawn_scores: list[float] = dataclasses.field(default_factory=list)
    console_errors: list[str] = dataclasses.field(default_factory=list)
    screenshots: list[pathlib.Path] = dataclasses.field(default_factory=list)

    @property
    def redrawn_margin(self) -> float:
        """How far the redrawn character's score lies above the best of the others."""
        if not self.drawn_scores:
            return float("nan")
        others = [s for i, s in enumerate(self.drawn_scores) if i != REDRAWN]
        return self.drawn_scores[REDRAWN] - max(others)

    @property
    def problems(self) -> list[str]:
        """Every way the page failed the check, one line each (empty when it passed)."""
        if self.error:
            return [f"the demo did not start: {self.error}"]
        checks = [
            (
                self.same_choices,
                "a query picks another candidate than in Keras",
            ),
            (
                self.largest_relative_difference <= 1e-4,
                f"a score differs from Keras' by "
                f"{self.largest_relative_difference:.1e} (relative), over 1e-4",
            ),
            (
                self.drawn_ranking[:1] == [REDRAWN] and self.redrawn_margin > 0,
                f"the redrawn character {REDRAWN + 1} does not rank first: "
                f"{self.drawn_ranking} with scores {self.drawn_scores}",
            ),
        ]
        return [message for ok, message in checks if not ok] + [
            f"console error: {m}" for m in self.console_errors
        ]


def score_differences(scores, reference) -> tuple[float, bool]:
    """The largest difference between the browser's scores and Keras', relative to each
    score (or to the run's largest score, for scores near zero), and whether every query
    picks the same candidate."""
    worst, same = 0.0, True
    scale = max(abs(s) for row in reference for s in row)
    for row, keras_row in zip(scores, reference, strict=True):
        for s, k in zip(row, keras_row, strict=True):
            worst = max(worst, abs(s - k) / max(abs(k), 1e-3 * scale))
        same &= row.index(max(row)) == keras_row.index(max(keras_row))
    return worst, same


def _draw(driver, pad, start, moves) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    width, height = pad.size["width"], pad.size["height"]
    # Selenium offsets are from the element's centre.
    x, y = start[0] * width - width / 2, start[1] * height - height / 2
    actions = ActionChains(driver, duration=20)
    actions.move_to_element_with_offset(pad, int(x), int(y)).click_and_hold()
    for dx, dy in moves:
        # Each stroke in short steps, as a hand's pointer reports it.
        for _ in range(6):
            actions.move_by_offset(dx // 6, dy // 6)
    actions.release().perform()


def check_demo(
    driver, origin: str, html: pathlib.Path, screenshots: pathlib.Path
):
    """Open the demo page at ``origin`` and check it (see the module's docstring)."""
    from selenium.webdriver.common.by import By

    report = DemoReport()
    report.model_and_runtime_bytes = sum(
        (html / "_static" / name).stat().st_size for name in MODEL_AND_RUNTIME
    )
    driver.set_script_timeout(120)
    driver.get(f"{origin}/{PAGE}")
    timings = driver.execute_async_script(_AWAIT_READY)
    if "error" in timings:
        report.error = timings["error"]
        return report
    report.load_seconds = timings["loadMs"] / 1000
    report.first_ranking_seconds = timings["firstRankingMs"] / 1000
    reference = json.loads(
        (html / "_static" / "demo" / "reference.json").read_text()
    )["scores"]
    scores = driver.execute_async_script(_SCORES)
    report.largest_relative_difference, report.same_choices = score_differences(
        scores, reference
    )
    pad = driver.find_element(By.CSS_SELECTOR, "canvas.demo-pad")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", pad)
    for start, moves in CHARACTERS:
        _draw(driver, pad, start, moves)
        driver.find_element(By.ID, "demo-add").click()
    _draw(driver, pad, *CHARACTERS[REDRAWN])
    ranked = driver.execute_async_script(_AWAIT_RANKING)
    report.drawn_ranking = ranked["order"]
    report.drawn_scores = ranked["scores"]
    report.console_errors = [
        entry["message"]
        for entry in driver.get_log("browser")
        if entry["level"] == "SEVERE"
    ]
    demo = driver.find_element(By.ID, "siamese-demo")
    # A window as tall as the page, so the demo is photographed whole, not under the header.
    height = driver.execute_script(
        "return document.documentElement.scrollHeight"
    )
    driver.set_window_size(1280, min(height, browser_check.MAX_HEIGHT))
    for theme in ("light", "dark"):
        driver.execute_script(
            f"document.documentElement.dataset.theme = '{theme}'"
        )
        # The theme fades its colours in; the photograph waits for the new ones.
        time.sleep(1)
        path = screenshots / f"demo-{theme}.png"
        demo.screenshot(str(path))
        report.screenshots.append(path)
    return report


def run(
    html: pathlib.Path = browser_check.HTML,
    screenshots: pathlib.Path = browser_check.SCREENSHOTS,
) -> DemoReport:
    """Serve ``html``, open the demo page in Chromium and check it."""
    if not (html / PAGE).is_file():
        raise FileNotFoundError(
            f"No demo page at {html / PAGE}; run `make book` first."
        )
    screenshots.mkdir(parents=True, exist_ok=True)
    server = browser_check.serve(html)
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    browser = browser_check.driver()
    try:
        return check_demo(browser, origin, html, screenshots)
    finally:
        browser.quit()
        server.shutdown()


def main() -> int:
    report = run()
    print(
        f"model and runtime: {report.model_and_runtime_bytes / 1e6:.1f} MB\n"
        f"model loaded in {report.load_seconds:.2f} s; first ranking "
        f"{report.first_ranking_seconds:.2f} s after loading\n"
        f"largest score difference against Keras: "
        f"{report.largest_relative_difference:.2e} (relative); same choices: "
        f"{report.same_choices}\n"
        f"redrawn character {REDRAWN + 1} ranked {report.drawn_ranking} (scores "
        f"{', '.join(f'{s:.2f}' for s in report.drawn_scores)}; margin "
        f"{report.redrawn_margin:.2f})\n"
        f"screenshots: {', '.join(str(p) for p in report.screenshots)}"
    )
    for problem in report.problems:
        print(f"    {problem}")
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
