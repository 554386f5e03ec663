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
* ``demo.json``: the image size, the drawing's stroke width and where the network came from.
"""

from __future__ import annotations

import gzip
import json
import pathlib

import numpy as np

from siamese_utils import evaluate, model
from siamese_utils.model import SCORE_LAYER

DEMO_FILES = (
    "twin.onnx",
    "head.json",
    "runs.json",
    "runs.bin.gz",
    "reference.json",
    "demo.json",
)
# Omniglot's strokes are about 2.5 pixels wide at 105 pixels; a drawing is scaled to the
# network's size, so its pen is as wide in the same share of the image.
STROKE_FRACTION = 2.5 / 105
PIXEL_LEVELS = 255
ONNX_OPSET = 17


def quantised(images: np.ndarray) -> np.ndarray:
    """Images as the page holds them: 8 bits a pixel, ink 255 (what the browser scores)."""
    return np.rint(np.clip(images, 0.0, 1.0) * PIXEL_LEVELS).astype(np.uint8)


def export_twin(network, path: pathlib.Path) -> None:
    """Write the network's twin as an ONNX file (batch of ``(size, size, 1)`` images in,
    embeddings out).

    Raises:
        ModuleNotFoundError: tf2onnx is missing; the message names the requirement.
    """
    try:
        # Imported here: only the demo's export needs the converter.
        import tensorflow as tf
        import tf2onnx
    except ModuleNotFoundError as error:
        raise ModuleNotFoundError(
            f"The demo's export needs TensorFlow and tf2onnx ({error.name} is missing): "
            "install them from requirements.txt (`make setup`)."
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
            "stroke_fraction": STROKE_FRACTION,
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
