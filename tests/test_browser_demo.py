"""The demo's export (issue 34, its first part): the twin as ONNX scores as Keras does."""

import gzip
import json

import numpy as np
import pytest

from siamese_utils import browser_demo, evaluate, model, profiles
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
    assert meta["source"] == "a test network"


def test_the_onnx_twin_and_the_head_weights_give_keras_scores(exported):
    onnxruntime = pytest.importorskip("onnxruntime")
    network, folder, _ = exported
    layout = json.loads((folder / "runs.json").read_text())
    size = SMOKE.image_size
    pixels = np.frombuffer(
        gzip.decompress((folder / "runs.bin.gz").read_bytes()), np.uint8
    ).reshape(layout["images"], size, size, 1)
    run = layout["runs"][0]
    images = pixels[run["candidates"] + run["queries"]].astype(np.float32) / 255
    session = onnxruntime.InferenceSession(str(folder / "twin.onnx"))
    embeddings = session.run(None, {"images": images})[0]
    np.testing.assert_allclose(
        embeddings, model.twin_of(network).predict(images, verbose=0), atol=1e-5
    )
    head = json.loads((folder / "head.json").read_text())
    candidates, queries = embeddings[:20], embeddings[20:]
    scores = (
        np.abs(queries[:, None, :] - candidates[None, :, :]) * head["weights"]
    ).sum(axis=-1) + head["bias"]
    reference = np.array(
        json.loads((folder / "reference.json").read_text())["scores"]
    )
    assert np.max(np.abs(scores - reference)) <= 1e-4 * np.max(
        np.abs(reference)
    )


def test_the_runs_hold_the_official_runs_images_and_answers(exported):
    _, folder, _ = exported
    layout = json.loads((folder / "runs.json").read_text())
    official = evaluate.official_runs(image_size=SMOKE.image_size)
    assert len(layout["runs"]) == evaluate.NUM_OFFICIAL_RUNS == 20
    assert [a for run in layout["runs"] for a in run["answers"]] == (
        official.answers.tolist()
    )
    pixels = np.frombuffer(
        gzip.decompress((folder / "runs.bin.gz").read_bytes()), np.uint8
    ).reshape(official.images.shape)
    # 8 bits a pixel: within half a level of the book's float images.
    assert np.max(np.abs(pixels / 255 - official.images)) <= 0.5 / 255 + 1e-7
