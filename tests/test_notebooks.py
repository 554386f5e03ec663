"""Chapters are stored as nbval and the book expect: outputs only where nbval checks them."""

import importlib
import inspect
import pathlib
import re
import sys

import nbformat
import pytest

BOOK = pathlib.Path(__file__).resolve().parent.parent / "book"
sys.path.insert(0, str(BOOK.parent / "tools"))

import code_counts  # noqa: E402
import glossary_links  # noqa: E402

NOTEBOOKS = sorted(BOOK.glob("*.ipynb"))
TAG = (
    "nbval-check-output"  # nbval's cell tag: compare this cell's stored output
)


def test_there_are_chapter_notebooks():
    assert NOTEBOOKS, "no notebooks found in book/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_only_checked_cells_keep_outputs_and_each_of_them_does(path):
    notebook = nbformat.read(path, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    checked = [cell for cell in code if TAG in cell.metadata.get("tags", [])]
    assert checked, f"{path.name} has no cell tagged {TAG}"
    for cell in code:
        if cell in checked:
            assert cell.outputs and cell.execution_count, (
                f"checked cell stored without output: {cell.source[:60]!r}"
            )
            assert not any(o.get("name") == "stderr" for o in cell.outputs), (
                "stderr in a checked cell"
            )
        else:
            assert not cell.outputs and cell.execution_count is None, (
                f"unchecked cell with output: {cell.source[:60]!r}"
            )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_cell_shows_the_reader_a_test_marker(path):
    # nbval's comment markers work too, but a reader would see them in the code.
    notebook = nbformat.read(path, as_version=4)
    assert not [
        cell.source[:60] for cell in notebook.cells if "NBVAL_" in cell.source
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_figure_cell_has_a_caption_and_a_label(path):
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code" and "fig = plots." in cell.source:
            figure = cell.metadata.get("mystnb", {}).get("figure", {})
            assert figure.get("caption") and figure.get("name", "").startswith(
                "fig-"
            ), cell.source[:60]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_cells_that_only_lay_out_a_table_keep_their_code_folded(path):
    # A reader opens them on demand ("Show code cell source"); the figures' and the
    # chapters' own computations stay in view.
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code" and (
            cell.source.startswith(
                (
                    "display.markdown_table(",
                    "display.accuracy_table(",
                    "display.running_cost(",
                    "display.run_downloads(",
                    "Markdown(",
                )
            )
        ):
            tags = cell.metadata.get("tags", [])
            assert {"hide-input", "remove-input"} & set(tags), cell.source[:60]


def test_code_and_every_listing_a_chapter_shows_fit_80_columns():
    # 80 columns fit the page's code column (book/_static/book.css); the browser
    # check measures the same in the built pages.
    for path in NOTEBOOKS:
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type != "code" or "remove-cell" in cell.metadata.get(
                "tags", []
            ):
                continue
            assert max(map(len, cell.source.splitlines()), default=0) <= 80, (
                path.name,
                cell.source[:60],
            )
            for module, name in re.findall(
                r"show_source\((\w+)\.([\w.]+)\)", cell.source
            ):
                obj = importlib.import_module(f"siamese_utils.{module}")
                for part in name.split("."):
                    obj = getattr(obj, part)
                wide = [
                    line
                    for line in inspect.getsource(obj).splitlines()
                    if len(line) > 80
                ]
                assert not wide, (path.name, name, wide)


@pytest.mark.parametrize(
    "path", [p for p in NOTEBOOKS if p.stem[:2].isdigit()], ids=lambda p: p.name
)
def test_every_chapter_states_its_own_measured_cost(path):
    # Read from the book benchmark's record, so a reader knows what running it takes.
    sources = [c.source for c in nbformat.read(path, as_version=4).cells]
    assert f'display.running_cost("{path.stem}")' in sources


CHAPTER_EXPERIMENTS = {
    "02-twin.ipynb": "twin",
    "03-stem.ipynb": "stem",
    "04-conv-block.ipynb": "block",
    "05-encoder.ipynb": "encoder",
    "06-classifier.ipynb": "classifier",
}


def _code(name: str) -> str:
    notebook = nbformat.read(BOOK / name, as_version=4)
    return "\n".join(c.source for c in notebook.cells if c.cell_type == "code")


@pytest.mark.parametrize("name, experiment", CHAPTER_EXPERIMENTS.items())
def test_each_chapter_trains_its_experiment_live_and_checks_it_against_the_record(
    name, experiment
):
    code = _code(name)
    assert f'experiments.chapter_arms("{experiment}", profile)' in code
    assert f'experiments.run_experiment(\n    "{experiment}"' in code or (
        f'experiments.run_experiment("{experiment}"' in code
    )
    # The recorded table of the same experiment is shown only after the live run is
    # checked against it (recorded_table fails the page when the run leaves what the
    # recorded seeds predict).
    assert "experiments.recorded_table(live)" in code


@pytest.mark.parametrize(
    "experiment", sorted(set(CHAPTER_EXPERIMENTS.values()))
)
def test_each_chapter_experiment_is_recorded_over_three_seeds_and_its_reference_learns(
    experiment,
):
    from siamese_utils import experiments
    from siamese_utils.profiles import get_profile

    record = BOOK.parent / "bench" / "results" / "experiments.jsonl"
    recorded = experiments.recorded(experiment, record)
    assert recorded is not None, f"python -m bench.experiments {experiment}"
    assert recorded.profile == "fast"
    arms = experiments.chapter_arms(experiment, get_profile("fast"))
    assert [a.label for a in recorded.arms] == [a.label for a in arms]
    assert all(len(a.accuracies) >= 3 for a in recorded.arms)
    # The floor for a reference arm trained well enough to teach.
    assert recorded.arms[0].mean >= 0.65


@pytest.mark.parametrize(
    "name", [n for n in CHAPTER_EXPERIMENTS if n != "06-classifier.ipynb"]
)
def test_the_chapters_before_the_recipe_report_no_test_figures(name):
    # Comparisons are made on validation tasks; the test set reports the final recipe once.
    code = _code(name)
    assert "official_runs" not in code and "TEST_ALPHABETS" not in code


def test_the_quick_tour_scores_validation_tasks_and_only_describes_the_test():
    # Chapter 1 shows what the official runs are, but scores its network on validation.
    code = _code("01-macro-architecture.ipynb")
    scored = [line for line in code.splitlines() if "one_shot(" in line]
    assert scored and all("official" not in line for line in scored)
    assert "validation_tasks(profile)" in code
    # Trained as the experiments' reference arm, so its number is the records' first seed.
    assert 'recipe_for(profile, "experiment")' in code
    assert not re.search(r"paper_protocol_trials\(\s*evaluation", code)
    assert "TEST_ALPHABETS" not in code


def test_each_chapter_links_a_glossary_term_where_it_first_uses_it():
    # The glossary's promise to the reader (book/glossary.md, first paragraph).
    assert glossary_links.main([]) == 0, "python tools/glossary_links.py --fix"


def test_a_first_use_that_is_not_a_link_is_found_and_code_and_maths_are_not():
    terms = ["receptive field", "twin"]
    text = (
        "# The twin\n\nThe `twin` and $twin$ are not prose. A receptive field "
        "grows; the {term}`receptive field` link comes too late. The "
        "{term}`Twins <twin>` are linked at their first use."
    )
    found = glossary_links.first_unlinked_uses(text, terms)
    assert [term for term, *_ in found] == ["receptive field"]
    assert text[found[0][1] : found[0][2]] == "receptive field"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_code_solutions_open_under_the_same_label_as_text_solutions(path):
    # Text solutions are dropdowns titled "Solution"; code solutions are folded cells
    # whose toggle myst-nb labels from the cell's own prompt.
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code" and cell.source.startswith("# Solution"):
            assert "hide-cell" in cell.metadata.get("tags", [])
            prompt = cell.metadata.get("mystnb", {}).get("code_prompt_show")
            assert prompt == "Solution", cell.source[:40]
        if (
            cell.cell_type == "markdown"
            and "{admonition} Solution" in cell.source
        ):
            assert ":class: dropdown" in cell.source


@pytest.mark.parametrize(
    "path", [p for p in NOTEBOOKS if p.stem[:2].isdigit()], ids=lambda p: p.name
)
def test_a_chapters_code_is_mostly_the_lesson_and_no_hidden_cell_is_long(path):
    counts = code_counts.chapter_counts(path)
    assert not counts.misses, f"{path.name}: {'; '.join(counts.misses)}"


def test_code_lines_leave_out_imports_and_blank_lines():
    source = "import numpy as np\nfrom a import (\n    b,\n    c,\n)\n\nx = 1\ny = 2\n"
    assert code_counts.code_lines(source) == 2
