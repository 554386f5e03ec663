"""The built book in a real browser: every page opens clean in headless Chromium.

Runs after tests/test_book_build.py (pytest's file order) and checks the HTML that build
wrote. Without Chromium it is skipped, unless REQUIRE_BROWSER is set (``.ci/run`` sets it
after installing the Debian packages), in which case a missing browser is a failure.
"""

import os
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import browser_check  # noqa: E402
import demo_check  # noqa: E402

REQUIRED = bool(os.environ.get("REQUIRE_BROWSER"))


@pytest.fixture(scope="module")
def reports():
    for missing, hint in [
        (
            not browser_check.browser_available(),
            f"Chromium is not installed ({browser_check.INSTALL_HINT})",
        ),
        (
            not (browser_check.HTML / "index.html").is_file(),
            "the book is not built (make book)",
        ),
    ]:
        if missing:
            if REQUIRED:
                pytest.fail(f"REQUIRE_BROWSER is set but {hint}.")
            pytest.skip(hint)
    return {
        report.page: report
        for report in browser_check.check_book(browser_check.book_pages())
    }


def test_every_page_of_the_toc_was_opened(reports):
    assert sorted(reports) == sorted(browser_check.book_pages())


def test_no_page_logs_a_console_error_of_its_own(reports):
    assert {
        page: r.console_errors
        for page, r in reports.items()
        if r.console_errors
    } == {}


def test_every_image_loads(reports):
    assert {
        page: r.broken_images for page, r in reports.items() if r.broken_images
    } == {}
    chapters = [r for page, r in reports.items() if page.startswith("book/0")]
    assert all(
        r.images > 0 for r in chapters if not r.page.startswith("book/08")
    ), "a chapter lost its figures"


def test_every_internal_link_and_anchor_exists(reports):
    assert {
        page: r.broken_links for page, r in reports.items() if r.broken_links
    } == {}
    assert all(r.links > 0 for r in reports.values())


def test_chapter_6_offers_its_trained_network_and_results_for_download(reports):
    # The links exist (the test above fetches every internal link); here: they are there.
    assert {"best.keras", "results.json"} <= set(
        reports["book/06-classifier.html"].downloads
    )


def test_no_page_shows_a_traceback_or_a_raw_object_repr(reports):
    assert {
        page: r.forbidden_text
        for page, r in reports.items()
        if r.forbidden_text
    } == {}


def test_a_screenshot_of_each_page_is_saved_under_the_build_folder(reports):
    for report in reports.values():
        assert report.screenshot.parent == browser_check.SCREENSHOTS
        assert report.screenshot.stat().st_size > 10_000, report.page


def test_every_equation_is_typeset_by_the_books_own_mathjax(reports):
    # Chapters 1, 2, 5, 6 and 7 have equations; offline (as here) only a MathJax served
    # with the book can typeset them.
    assert sum(r.equations for r in reports.values()) > 10
    assert {
        page: r.untypeset_math
        for page, r in reports.items()
        if r.untypeset_math
    } == {}
    for page, report in reports.items():
        if report.equations:
            html = (browser_check.HTML / page).read_text()
            assert (
                "_static/mathjax/tex-chtml.js" in html
                and "cdn.jsdelivr.net" not in html
            ), page


def test_no_code_block_is_wider_than_the_text_column(reports):
    assert sum(r.code_blocks for r in reports.values()) > 20
    assert {
        page: r.clipped_code for page, r in reports.items() if r.clipped_code
    } == {}


def test_each_page_is_also_screenshot_in_dark_mode(reports):
    for report in reports.values():
        assert (
            report.dark_screenshot.name == report.screenshot.stem + "-dark.png"
        )
        assert report.dark_screenshot.stat().st_size > 10_000, report.page


def test_the_figure_check_reads_text_sizes_as_the_plots_draw_them():
    # Not a browser test: the check's idea of the figures' smallest text and resolution.
    from siamese_utils import plots

    assert browser_check.SMALLEST_FONT_PT == plots.SMALLEST_FONT
    assert browser_check.FIGURE_DPI == plots.BOOK_STYLE["figure.dpi"]


def test_every_figure_has_words_for_alt_text_enough_pixels_and_readable_text(
    reports,
):
    assert {
        page: r.poor_figures for page, r in reports.items() if r.poor_figures
    } == {}


def test_no_output_is_cut_off_by_the_text_column(reports):
    # Printed tables and logs, and Markdown tables, fit the column at 1280 pixels.
    assert {
        page: r.clipped_outputs
        for page, r in reports.items()
        if r.clipped_outputs
    } == {}


def test_colour_mapped_figures_keep_their_colours_in_dark_mode(reports):
    # Filters, feature maps and score matrices: inverted, "white: zero" would read black.
    assert {
        page: r.inverted_colour_maps
        for page, r in reports.items()
        if r.inverted_colour_maps
    } == {}
    html = (browser_check.HTML / "book" / "03-stem.html").read_text()
    assert "tag_true-colours" in html


# The demo page (issue 34): the network chapter 6 trained, run by onnxruntime-web.


@pytest.fixture(scope="module")
def demo(reports):
    # After the page checks, which clear the screenshots folder the demo's land in.
    return demo_check.run()


def test_the_demo_scores_the_first_official_run_as_keras_does(demo):
    assert demo.error == ""
    assert demo.largest_relative_difference <= 1e-4
    assert demo.same_choices


def test_a_drawn_alphabet_is_ranked_and_a_redrawn_character_ranks_first(demo):
    assert sorted(demo.drawn_ranking) == [0, 1, 2]
    assert demo.drawn_ranking[0] == demo_check.REDRAWN
    assert demo.redrawn_margin > 0
    assert demo.problems == []


def test_the_demo_page_loads_no_more_than_15_mb_of_model_and_runtime(demo):
    assert 1e6 < demo.model_and_runtime_bytes < 15e6
    html = (browser_check.HTML / demo_check.PAGE).read_text()
    # Served from the book itself: no runtime from a CDN.
    assert "_static/ort/ort.wasm.min.js" in html and "cdn" not in html.lower()


def test_the_demo_is_photographed_in_light_and_dark_mode(demo):
    assert [p.name for p in demo.screenshots] == [
        "demo-light.png",
        "demo-dark.png",
    ]
    assert all(p.stat().st_size > 10_000 for p in demo.screenshots)


def test_the_demo_check_fails_a_page_that_scores_every_drawing_alike():
    # Not a browser test: ties keep the alphabet's order, and must not pass as a ranking.
    tied = demo_check.DemoReport(
        largest_relative_difference=0.0,
        same_choices=True,
        drawn_ranking=[demo_check.REDRAWN, 0, 2],
        drawn_scores=[0.5, 0.5, 0.5],
    )
    assert tied.redrawn_margin == 0
    assert any("does not rank first" in p for p in tied.problems)


def test_score_differences_are_relative_to_each_score_and_compare_choices():
    keras = [[2.0, 1.0], [-4.0, 3.0]]
    assert demo_check.score_differences(keras, keras) == (0.0, True)
    worst, same = demo_check.score_differences(
        [[2.0, 1.001], [-4.0, 3.0]], keras
    )
    assert worst == pytest.approx(1e-3) and same
    assert (
        demo_check.score_differences([[1.0, 2.0], [-4.0, 3.0]], keras)[1]
        is False
    )
