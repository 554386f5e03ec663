"""What the chapters print about themselves: their measured cost and their downloads."""

import json

import pytest

from bench import book
from siamese_utils import display


@pytest.fixture
def record(tmp_path):
    path = tmp_path / "book.json"
    book.record_chapters(
        {"03-stem": (150.0, 3 * 2**30 // 2), "06-classifier": (600.0, 2**31)},
        path,
        chapter_names=["03-stem", "06-classifier"],
    )
    return path


def test_the_book_benchmark_records_each_chapter_with_when_and_how(record):
    stem = json.loads(record.read_text())["chapters"]["03-stem"]
    assert stem["command"] == "python -m bench --only book"
    assert (stem["seconds"], stem["peak_bytes"]) == (150.0, 3 * 2**30 // 2)
    assert {"date", "profile", "machine"} <= set(stem)


def test_measuring_some_chapters_again_keeps_the_others_and_drops_old_ones(
    record,
):
    book.record_chapters(
        {"03-stem": (90.0, 2**30)},
        record,
        chapter_names=["03-stem", "07-ranking-loss"],
    )
    chapters = json.loads(record.read_text())["chapters"]
    assert list(chapters) == ["03-stem"]  # 06-classifier left the book
    assert chapters["03-stem"]["seconds"] == 90.0
    book.record_chapters(
        {"07-ranking-loss": (30.0, 2**30)},
        record,
        chapter_names=["03-stem", "07-ranking-loss"],
    )
    chapters = json.loads(record.read_text())["chapters"]
    assert chapters["03-stem"]["seconds"] == 90.0
    assert chapters["07-ranking-loss"]["seconds"] == 30.0


def test_a_chapter_states_its_recorded_time_and_peak_memory(record):
    sentence = display.running_cost("03-stem", record).data
    assert "2.5 min" in sentence and "1.5 GiB" in sentence
    assert "python -m bench --only book" in sentence


def test_without_a_record_the_sentence_says_how_to_measure(tmp_path):
    sentence = display.running_cost("03-stem", tmp_path / "none.json").data
    assert "no measurement" in sentence
    assert "python -m bench --only book" in sentence


def test_a_chapter_the_record_lacks_says_how_to_measure_it(record):
    sentence = display.running_cost("08-new-chapter", record).data
    assert "no measurement" in sentence
    assert "python -m bench --only book --chapters 08-new-chapter" in sentence


def test_every_chapter_of_the_book_has_a_recorded_cost():
    measured = json.loads(book.CHAPTER_COSTS.read_text())["chapters"]
    assert set(measured) == {p.stem for p in book.chapters()}
    assert {entry["profile"] for entry in measured.values()} == {"fast"}


def test_a_finished_run_is_offered_as_sphinx_downloads(tmp_path, monkeypatch):
    (tmp_path / "best.keras").write_bytes(b"0" * 2_500_000)
    (tmp_path / "results.json").write_text("{}")
    book = tmp_path / "book"
    book.mkdir()
    monkeypatch.chdir(book)  # where a chapter runs
    links = display.run_downloads(tmp_path).data
    # Relative to the page: Sphinx reads "/..." from the source root instead.
    assert "{download}`best.keras <../best.keras>`" in links
    assert "(2.5 MB)" in links and "results.json" in links


def test_an_unfinished_run_has_nothing_to_download(tmp_path):
    (tmp_path / "best.keras").write_bytes(b"0")
    with pytest.raises(FileNotFoundError, match="results.json"):
        display.run_downloads(tmp_path)


def test_an_accuracy_given_as_text_is_shown_as_it_is():
    # A mean and spread over seeds, already formatted, sits beside plain accuracies.
    table = display.accuracy_table(
        {"over seeds": ["86.2 ± 2.7"], "one run": [0.8525]},
        columns=["official"],
    ).data
    assert "| over seeds | 86.2 ± 2.7 |" in table
    assert "| one run | 85.2 |" in table


@pytest.mark.parametrize(
    "names, prose",
    [(["a"], "a"), (["a", "b"], "a and b"), (["a", "b", "c"], "a, b and c")],
)
def test_names_are_listed_with_commas_and_a_final_and(names, prose):
    assert display.listed(names) == prose
