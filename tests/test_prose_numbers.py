"""Every accuracy and time the prose states comes from somewhere: a cell, a recorded run, or the paper.

The book's own results are printed by code. A number typed into a Markdown cell, the intro
or the README is only allowed when one of these holds it:

* a recorded results file in ``bench/results`` (what ``python -m bench`` and
  ``python -m bench.ablation`` wrote), as a percentage or in seconds/minutes;
* the stored output of a cell that nbval checks (computed by that cell on every run);
* the paper's own tables (:data:`siamese_utils.evaluate.PAPER_TABLE_1` and ``_2``,
  :data:`siamese_utils.mnist.PAPER_TABLE_3`);
* a setting of the code, listed below with the code that holds it.

The check reads percentages (``83.5%``) and times (``515 s``, ``35.5 min``); a number passes
when a source rounds to it at the precision it is written with.
"""

import json
import pathlib
import re

import nbformat
import pytest

from siamese_utils import evaluate, mnist, model, optimizers  # noqa: F401

ROOT = pathlib.Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
PERCENT = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s?%")
TIME = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s?(s|seconds|min|minutes)\b")

# Percentages that describe settings of the code or of Keras, not results.
SETTINGS = {
    1.0: "the learning rate's decay per epoch (optimizers.LayerwiseSGD, the paper's 0.99) and "
    "Keras' default batch-normalisation momentum (0.99, a 1% step)",
    10.0: "the batch-normalisation momentum of network.conv_norm_relu (0.9, a 10% step)",
    5.0: "chance in a 20-way trial",
}


def _numbers_in(value, found: set) -> None:
    """Collect every number of a JSON value: as it is, and fractions in [0, 1] as percentages."""
    if isinstance(value, bool):
        return
    if isinstance(value, (int, float)):
        found.add(float(value))
        if 0.0 <= value <= 1.0:
            found.add(100.0 * value)
        found.add(value / 60.0)  # seconds as minutes
    elif isinstance(value, dict):
        for item in value.values():
            _numbers_in(item, found)
    elif isinstance(value, list):
        for item in value:
            _numbers_in(item, found)


def sources() -> set:
    found = set(SETTINGS)
    # Recorded runs keep their files in folders of their own (bench/results/paper-gpu).
    for path in (ROOT / "bench" / "results").rglob("*"):
        if path.suffix == ".jsonl":
            for line in path.read_text().splitlines():
                _numbers_in(json.loads(line), found)
        elif path.suffix == ".json":
            _numbers_in(json.loads(path.read_text()), found)
        elif path.suffix == ".md":
            found.update(
                float(n) for n in re.findall(r"\d+(?:\.\d+)?", path.read_text())
            )
    for notebook in BOOK.glob("*.ipynb"):
        for cell in nbformat.read(notebook, as_version=4).cells:
            for output in cell.get("outputs", []):
                text = output.get("text", "") or "".join(
                    output.get("data", {}).get("text/plain", "")
                )
                found.update(
                    float(n) for n in re.findall(r"\d+(?:\.\d+)?", text)
                )
    found.update(evaluate.PAPER_TABLE_2.values())
    found.update(v for pair in evaluate.PAPER_TABLE_1.values() for v in pair)
    found.update(mnist.PAPER_TABLE_3.values())
    return found


def matches(written: str, known: set) -> bool:
    decimals = len(written.split(".")[1]) if "." in written else 0
    value = float(written)
    return any(abs(round(k, decimals) - value) < 1e-9 for k in known)


def prose() -> list[tuple[str, str]]:
    """(where, text) of every piece of prose a reader sees as typed."""
    pieces = [
        ("book/intro.md", (BOOK / "intro.md").read_text()),
        ("README.md", (ROOT / "README.md").read_text()),
    ]
    pieces += [
        (f"docs/{path.name}", path.read_text())
        for path in sorted((ROOT / "docs").glob("*.md"))
    ]
    for notebook in sorted(BOOK.glob("*.ipynb")):
        for number, cell in enumerate(
            nbformat.read(notebook, as_version=4).cells
        ):
            if cell.cell_type == "markdown":
                pieces.append((f"{notebook.name}, cell {number}", cell.source))
    return pieces


def unsourced(text: str, known: set) -> list[str]:
    text = re.sub(
        r"\$[^$]*\$", "", text
    )  # mathematics is not a claim about a result
    bad = []
    for pattern in (PERCENT, TIME):
        for match in pattern.finditer(text):
            if not matches(match.group(1), known):
                start = max(0, match.start() - 60)
                bad.append(text[start : match.end() + 10].replace("\n", " "))
    return bad


def test_every_accuracy_and_time_in_the_prose_has_a_source():
    known = sources()
    problems = {
        where: bad for where, text in prose() if (bad := unsourced(text, known))
    }
    assert not problems, (
        "numbers no cell, results file or paper table holds:\n"
        + json.dumps(problems, indent=1)
    )


def _unheld(candidates, known: set) -> str:
    """The first written number among ``candidates`` that no source rounds to.

    The recorded results hold thousands of numbers (every fraction also counts as a
    percentage), so any one fixed example may be held by chance after a new run; the
    check looks for one that is not, instead of hoping.
    """
    for written in candidates:
        if not matches(written, known):
            return written
    raise AssertionError("every candidate number is held by some source")


@pytest.mark.parametrize(
    "template, candidates",
    [
        (
            "The fast recipe reaches {}% on the official runs.",
            [f"{tenths / 10:.1f}" for tenths in range(999, 900, -1)],
        ),
        (
            "Training takes {} s on a laptop.",
            [str(s) for s in range(4321, 4400)],
        ),
    ],
)
def test_a_number_nothing_produced_is_caught(template, candidates):
    known = sources()
    sentence = template.format(_unheld(candidates, known))
    assert unsourced(sentence, known)


def test_a_number_a_source_holds_passes_at_its_precision():
    assert not unsourced("the paper's 92.0% and its 92%", sources())
    assert not unsourced("pixel nearest neighbours reach 21.7%", sources())
