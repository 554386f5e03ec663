"""What the book's in-browser demo runs: a trained network exported for onnxruntime-web.

The demo page (``book/demo.ipynb``) lets a reader rank the candidates of an official run, or
of characters they draw themselves, with the network chapter 6 trained, in the browser and
with no server. :func:`export_demo` writes everything that page loads into one folder:

* ``twin.onnx``: the twin (image -> embedding), exported by tf2onnx from a ``tf.function``
  of the Keras twin. The twin holds only standard layers (convolutions, pooling, batch
  normalisation, dense), which ONNX has operators for.
* ``head.json``: the head's weights. The head is the weighted L1 distance and a logit,
  ``s = sum_j alpha_j |h1_j - h2_j| + b``: two lines of JavaScript, computed there from these
  weights rather than exported, because the book's ``L1Distance`` is a custom Keras layer a
  converter does not know. The page ranks by ``s``, the score before the sigmoid, as the
  book does (chapter 6).
* ``runs.bin.gz``: the images of the 20 official runs (20 candidates and 20 queries each),
  8 bits a pixel, ink 255, gzip-compressed, and ``runs.json``, which says where each run's
  images lie and which candidate answers each query.
* ``reference.json``: the scores Keras gives for every trial of the first official run, on
  the same 8-bit images, so that the browser check can hold the browser to Keras.
* ``demo.json``: the image size, the width of Omniglot's strokes (measured on the official
  runs' drawings, so that the reader's pen draws as wide) and where the network came from.

:func:`page_container` is what the notebook shows: the element ``_static/demo.js`` fills.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import pathlib

import numpy as np
from IPython.display import HTML

from siamese_utils import evaluate, model
from siamese_utils.drawers import ORIGINAL_IMAGE_SIZE
from siamese_utils.model import SCORE_LAYER

# Every file the export writes, and what it holds (the page's table of sizes says so).
DEMO_FILES = {
    "twin.onnx": "the twin, as an ONNX graph",
    "head.json": "the head's weights and bias",
    "runs.json": "which images form each official run, and its answers",
    "runs.bin.gz": "the official runs' images, 8 bits a pixel",
    "reference.json": "Keras' scores for run 1 (for the browser check)",
    "demo.json": "image size, pen width, where the network came from",
}
PIXEL_LEVELS = 255
ONNX_OPSET = 17


def quantised(images: np.ndarray) -> np.ndarray:
    """Images as the page holds them: 8 bits a pixel, ink 255 (what the browser scores)."""
    return np.rint(np.clip(images, 0.0, 1.0) * PIXEL_LEVELS).astype(np.uint8)


def stroke_width(images: np.ndarray) -> float:
    """The typical width of the strokes in ``images`` (ink = 1), in pixels: the median over
    images of twice the ink's area over the length of its edge.

    A straight stroke of width ``w`` and length ``L`` has area ``w L`` and an edge of about
    ``2 L``, so the ratio is ``w``; the edge is counted as ink/background steps between
    neighbouring pixels.
    """
    ink = images[..., 0] > 0.5 if images.ndim == 4 else images > 0.5
    area = ink.sum(axis=(1, 2))
    edge = (ink[:, 1:, :] != ink[:, :-1, :]).sum(axis=(1, 2)) + (
        ink[:, :, 1:] != ink[:, :, :-1]
    ).sum(axis=(1, 2))
    drawn = edge > 0
    if not drawn.any():
        raise ValueError(
            "The images hold no ink, so they have no strokes to measure."
        )
    return float(np.median(2 * area[drawn] / edge[drawn]))


def export_twin(network, path: pathlib.Path) -> None:
    """Write the network's twin as an ONNX file: a batch of
    ``(size, size, 1)`` images in, their embeddings out.

    Raises:
        ModuleNotFoundError: tf2onnx is missing; says what installs it.
    """
    try:
        # Imported here: only the demo's export needs the converter.
        import tensorflow as tf
        import tf2onnx
    except ModuleNotFoundError as error:
        raise ModuleNotFoundError(
            f"The demo's export needs {error.name}: install the "
            "requirements (requirements.txt, or `make setup`)."
        ) from None
    twin = model.twin_of(network)
    size = int(twin.inputs[0].shape[1])
    signature = (
        tf.TensorSpec((None, size, size, 1), tf.float32, name="images"),
    )

    @tf.function(input_signature=signature)
    def embed(images):
        return twin(images, training=False)

    tf2onnx.convert.from_function(
        embed,
        input_signature=signature,
        opset=ONNX_OPSET,
        output_path=str(path),
    )


def head_weights(network) -> dict:
    """The head's per-unit weights ``alpha_j`` and bias ``b``, as JSON numbers."""
    kernel, bias = network.get_layer(SCORE_LAYER).get_weights()
    return {"weights": kernel[:, 0].tolist(), "bias": float(bias[0])}


def official_run_layout(trials: evaluate.OneShotTrials) -> dict:
    """Where each official run's 20 candidates and 20 queries lie in the image pool, and
    each query's answer (0-19)."""
    runs = []
    for run in range(evaluate.NUM_OFFICIAL_RUNS):
        rows = np.arange(20 * run, 20 * (run + 1))
        runs.append(
            {
                "candidates": trials.candidates[rows[0]].tolist(),
                "queries": trials.queries[rows].tolist(),
                "answers": trials.answers[rows].tolist(),
            }
        )
    return {"images": len(trials.images), "runs": runs}


def reference_scores(network, trials, images: np.ndarray) -> list:
    """Keras' scores (logits) for each trial of the first official run: ``[query][candidate]``."""
    first = evaluate.OneShotTrials(
        name="official run 1",
        images=images,
        queries=trials.queries[:20],
        candidates=trials.candidates[:20],
        answers=trials.answers[:20],
        groups=trials.groups[:20],
    )
    return evaluate.siamese_scores(network, first).tolist()


def trained_network(folder):
    """The network a finished run saved in ``folder`` (``best.keras``).

    Raises:
        FileNotFoundError: the run has not finished there; says which chapter makes it.
    """
    path = pathlib.Path(folder) / "best.keras"
    if not path.is_file():
        raise FileNotFoundError(
            f"No trained network at {path}: chapter 6 (book/06-classifier.ipynb) trains "
            "and saves it; run that chapter first, in the same profile."
        )
    return model.load_model(path)


def export_demo(network, folder, source: str = "") -> dict:
    """Write the demo's files (:data:`DEMO_FILES`) for ``network`` into ``folder``.

    ``source`` says where the network came from (shown on the page). Returns the sizes of
    the written files in bytes, by name.
    """
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    size = int(network.inputs[0].shape[1])
    trials = evaluate.official_runs(image_size=size)
    pixels = quantised(trials.images)
    export_twin(network, folder / "twin.onnx")
    # What the browser sees: the 8-bit images back as floats, ink 1.
    seen = pixels.astype(np.float32) / PIXEL_LEVELS
    documents = {
        "head.json": head_weights(network),
        "runs.json": official_run_layout(trials),
        "reference.json": {
            "run": 1,
            "scores": reference_scores(network, trials, seen),
        },
        "demo.json": {
            "image_size": size,
            # The reader draws on Omniglot's 105-pixel canvas with Omniglot's pen, and the
            # drawing is shrunk to the network's size as the book's images are.
            "drawing_size": ORIGINAL_IMAGE_SIZE,
            "stroke_width": round(
                stroke_width(
                    evaluate.official_runs(
                        image_size=ORIGINAL_IMAGE_SIZE
                    ).images
                ),
                2,
            ),
            "embedding_units": int(model.twin_of(network).outputs[0].shape[-1]),
            "source": source,
        },
    }
    for name, document in documents.items():
        (folder / name).write_text(json.dumps(document))
    (folder / "runs.bin.gz").write_bytes(
        gzip.compress(pixels.tobytes(), mtime=0)
    )
    return {name: (folder / name).stat().st_size for name in DEMO_FILES}


def size_table(sizes: dict[str, int]) -> str:
    """A Markdown table of the exported files and their sizes (what the page downloads)."""
    rows = [
        f"| `{name}` | {DEMO_FILES[name]} | {size / 1e3:,.{0 if size >= 1e4 else 1}f} kB |"
        for name, size in sizes.items()
    ]
    return "\n".join(["| file | holds | size |", "| --- | --- | ---: |", *rows])


@dataclasses.dataclass(frozen=True)
class Agreement:
    """How the exported files score the first official run against Keras."""

    embedding_difference: float  # largest |ONNX - Keras| over the 40 embeddings
    relative_score_difference: (
        float  # largest |s - s_Keras|, over the largest |s_Keras|
    )
    same_choices: (
        bool  # the same candidate has the highest score for all 20 queries
    )


def exported_runs(folder) -> tuple[dict, np.ndarray]:
    """The official runs as the page reads them: ``runs.json`` and the 8-bit images."""
    folder = pathlib.Path(folder)
    layout = json.loads((folder / "runs.json").read_text())
    size = json.loads((folder / "demo.json").read_text())["image_size"]
    pixels = np.frombuffer(
        gzip.decompress((folder / "runs.bin.gz").read_bytes()), np.uint8
    )
    return layout, pixels.reshape(layout["images"], size, size, 1)


def check_export(network, folder) -> Agreement:
    """Score the first official run with the exported files, as the page does, in
    onnxruntime's Python build, and compare with ``network`` and ``reference.json``.

    Raises:
        ModuleNotFoundError: onnxruntime is missing; says which requirement installs it.
    """
    try:
        # Imported here: only this check runs the exported file in Python.
        import onnxruntime
    except ModuleNotFoundError:
        raise ModuleNotFoundError(
            "Checking the demo's export needs onnxruntime: install it from "
            "requirements.txt (`make setup`)."
        ) from None
    folder = pathlib.Path(folder)
    layout, pixels = exported_runs(folder)
    run = layout["runs"][0]
    images = pixels[run["candidates"] + run["queries"]].astype(np.float32)
    images /= PIXEL_LEVELS
    session = onnxruntime.InferenceSession(str(folder / "twin.onnx"))
    embedded = session.run(None, {session.get_inputs()[0].name: images})[0]
    keras_embedded = model.twin_of(network).predict(images, verbose=0)
    head = json.loads((folder / "head.json").read_text())
    candidates, queries = embedded[:20], embedded[20:]
    distances = np.abs(queries[:, None, :] - candidates[None, :, :])
    scores = distances @ np.asarray(head["weights"]) + head["bias"]
    reference = np.array(
        json.loads((folder / "reference.json").read_text())["scores"]
    )
    return Agreement(
        embedding_difference=float(np.max(np.abs(embedded - keras_embedded))),
        relative_score_difference=float(
            np.max(np.abs(scores - reference)) / np.max(np.abs(reference))
        ),
        same_choices=bool(
            np.array_equal(scores.argmax(axis=1), reference.argmax(axis=1))
        ),
    )


def page_container() -> HTML:
    """The element the demo's script (``_static/demo.js``) fills in the built book.

    Run in Jupyter, the notebook has no such script, so the element says where the demo
    runs instead.
    """
    return HTML(
        '<div id="siamese-demo" class="siamese-demo"><p class="demo-status">'
        "The live demo runs in the built book: <code>make book</code>, then serve "
        "<code>_build/html</code> (for example <code>python -m http.server "
        "--directory _build/html</code>) and open <code>book/demo.html</code>."
        "</p></div>"
    )
