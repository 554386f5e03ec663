"""The demo's export: the files the page loads score the official runs as Keras does."""

import json

import numpy as np
import pytest

from siamese_utils import browser_demo, drawers, evaluate, model, profiles
from siamese_utils.seeding import set_seed

SMOKE = profiles.get_profile("smoke")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    set_seed(3)
    network = model.siamese_network(**SMOKE.network_kwargs())
    folder = tmp_path_factory.mktemp("demo")
    sizes = browser_demo.export_demo(network, folder, source="a test network")
    return network, folder, sizes


def test_every_file_the_page_loads_is_written(exported):
    _, folder, sizes = exported
    assert set(sizes) == set(browser_demo.DEMO_FILES)
    assert all(
        (folder / name).stat().st_size == size for name, size in sizes.items()
    )
    meta = json.loads((folder / "demo.json").read_text())
    assert meta["image_size"] == SMOKE.image_size
    assert meta["drawing_size"] == drawers.ORIGINAL_IMAGE_SIZE
    assert meta["source"] == "a test network"
    # Omniglot's pen, measured on the official runs' 105-pixel drawings.
    assert 3 < meta["stroke_width"] < 7


def test_the_onnx_twin_and_the_head_weights_give_keras_scores(exported):
    pytest.importorskip("onnxruntime")
    network, folder, _ = exported
    agreement = browser_demo.check_export(network, folder)
    assert agreement.embedding_difference < 1e-5
    assert agreement.relative_score_difference < 1e-4
    assert agreement.same_choices


def test_the_check_notices_a_head_that_differs_from_the_network(exported):
    pytest.importorskip("onnxruntime")
    network, folder, _ = exported
    head = json.loads((folder / "head.json").read_text())
    changed = {**head, "bias": head["bias"] + 1.0}
    (folder / "head.json").write_text(json.dumps(changed))
    try:
        agreement = browser_demo.check_export(network, folder)
    finally:
        (folder / "head.json").write_text(json.dumps(head))
    assert agreement.relative_score_difference > 1e-4


def test_the_runs_hold_the_official_runs_images_and_answers(exported):
    _, folder, _ = exported
    layout, pixels = browser_demo.exported_runs(folder)
    official = evaluate.official_runs(image_size=SMOKE.image_size)
    assert len(layout["runs"]) == evaluate.NUM_OFFICIAL_RUNS == 20
    assert [a for run in layout["runs"] for a in run["answers"]] == (
        official.answers.tolist()
    )
    assert pixels.shape == official.images.shape
    # 8 bits a pixel: within half a level of the book's float images.
    assert np.max(np.abs(pixels / 255 - official.images)) <= 0.5 / 255 + 1e-7


def test_stroke_width_reads_the_width_of_straight_strokes():
    images = np.zeros((2, 105, 105), np.float32)
    images[0, 20:80, 50:55] = 1.0  # a vertical stroke 5 pixels wide
    images[1, 40:43, 10:90] = 1.0  # a horizontal one, 3 wide
    assert browser_demo.stroke_width(images[:1]) == pytest.approx(5, rel=0.1)
    assert browser_demo.stroke_width(images[1:]) == pytest.approx(3, rel=0.1)
    with pytest.raises(ValueError, match="no ink"):
        browser_demo.stroke_width(np.zeros((1, 8, 8)))


def test_a_missing_run_is_named_with_the_chapter_that_makes_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="chapter 6"):
        browser_demo.trained_network(tmp_path)


def test_the_size_table_lists_every_file_in_kilobytes(exported):
    _, _, sizes = exported
    table = browser_demo.size_table(sizes)
    assert all(f"`{name}`" in table for name in browser_demo.DEMO_FILES)
    assert table.count("\n") == len(sizes) + 1
