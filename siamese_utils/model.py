"""The convolutional Siamese network of Koch, Zemel & Salakhutdinov (2015), and what is done with it.

The network itself is written in the chapters and saved into :mod:`siamese_utils.network`
(one function per group, in the order the chapters teach them)::

    image -> stem -> conv_block -> encoder      (the twin, shared by both images)
    classifier: |h_left - h_right| (L1Distance) -> score s (Dense) -> sigmoid -> p(same)

This module re-exports those builders, so ``model.siamese_network`` and ``model.stem`` are
the chapters' code, and adds what the rest of the package does with a built network: the
score before the sigmoid (:func:`logit_network`, :func:`score_embeddings`), the shared twin
(:func:`twin_of`), checks of the images a network is given, and saving and loading.
Initialisers follow the paper (Section 3.2) by default, not the design document, whose
``10e-2`` and ``2 * 10e-1`` are ten times too large (both are available, see
:data:`INITIALISATIONS`).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

# Imported for its side effect: it registers LayerwiseSGD, which a network saved compiled
# names, so that load_model can read such a file.
from siamese_utils import optimizers  # noqa: F401

# The builders, as the chapters write them (re-exported: model.stem is network.stem).
from siamese_utils.network import (  # noqa: F401
    DEFAULT_INITIALISATION,
    DEFAULT_L2,
    INITIALISATIONS,
    PAPER_EMBEDDING_UNITS,
    PAPER_FILTERS,
    PAPER_INPUT_SHAPE,
    PAPER_KERNEL_SIZES,
    L1Distance,
    biases,
    classifier,
    conv_block,
    conv_norm_relu,
    conv_relu,
    conv_weights,
    convolution,
    dense_weights,
    encoder,
    l2_penalty,
    siamese_network,
    stem,
    twin,
)
from siamese_utils.network_checks import (  # noqa: F401
    EMBEDDING_ACTIVATIONS,
    feature_map_sizes,
)

# The classifier group's layers in a network built by siamese_network (the group's default
# name, "classifier", as prefix); the trainers and evaluators look them up by these names.
DISTANCE_LAYER = "classifier_distance"
SCORE_LAYER = "classifier_score"
PROBABILITY_LAYER = "classifier_probability"


def logit_network(network: keras.Model) -> keras.Model:
    """The same network, weights shared, ending at the similarity score before the sigmoid.

    What training compiles (binary cross-entropy from logits) and what the evaluators rank
    by: one graph, the network's own layers, for both.
    """
    return keras.Model(
        network.inputs,
        network.get_layer(SCORE_LAYER).output,
        name="siamese_logits",
    )


def twin_of(network: keras.Model) -> keras.Model:
    """The shared twin inside a Siamese network (images -> embeddings).

    Found by what it is, the network's one sub-model, not by its name, so a reader's
    ``twin(name=...)`` builds a network the book still reads.

    Raises:
        ValueError: when the network holds no sub-model or several.
    """
    twins = [
        layer for layer in network.layers if isinstance(layer, keras.Model)
    ]
    if len(twins) != 1:
        raise ValueError(
            f"A Siamese network holds one twin (a Keras model applied to both images); "
            f"{network.name!r} holds {len(twins)} sub-models."
        )
    return twins[0]


def check_images(network: keras.Model, images) -> None:
    """Raise a clear error unless ``images`` are what ``network`` was built for.

    The book's images are ``float32`` arrays ``(n, size, size, 1)`` with ink = 1 in [0, 1].
    Keras itself would accept a ``uint8`` array of 0..255 and silently compute nonsense.

    Raises:
        ValueError: wrong shape (size or channel count), NaN or infinite values, or values
            outside [0, 1].
        TypeError: an integer or non-numeric dtype.
    """
    images = np.asarray(images)
    expected = tuple(network.inputs[0].shape[1:])
    if images.ndim != 4 or tuple(images.shape[1:]) != expected:
        raise ValueError(
            f"The images have shape {images.shape[1:]} but the network expects {expected} "
            "(size, size, channels). Load them at the network's image size, for example "
            "official_runs(image_size=...) or load_split(..., image_size=...), with one channel."
        )
    if not np.issubdtype(images.dtype, np.floating):
        raise TypeError(
            f"The images have dtype {images.dtype}; the network expects floats in [0, 1] "
            "with ink = 1. Convert them, e.g. images.astype('float32') / 255 (and invert "
            "black-on-white images: 1 - x)."
        )
    if images.size and not np.isfinite(images).all():
        bad = int(np.size(images) - np.count_nonzero(np.isfinite(images)))
        raise ValueError(
            f"{bad} of the image values are NaN or infinite; the network expects finite values "
            "in [0, 1] with ink = 1. Check how the images were loaded or scaled."
        )
    if images.size and (images.min() < 0.0 or images.max() > 1.0):
        raise ValueError(
            f"The image values span [{images.min():g}, {images.max():g}]; the network expects "
            "[0, 1] with ink = 1. Scale them (x / 255) before scoring."
        )


# Pairs scored per call of the head: bounds the memory of the (pairs, units) L1 tensor.
SCORE_CHUNK = 8192


def score_embeddings(network: keras.Model, left, right):
    """Similarity scores (logits) of pairs of embeddings, by the network's own head.

    Lets the evaluators embed every image once and score many pairs cheaply: the pairs go
    through the network's ``classifier_distance`` and ``classifier_score`` layers :data:`SCORE_CHUNK` at a
    time, so any number of them fits in memory. ``sigmoid`` of a score is the network's
    p(same); rank by the score, which does not saturate.
    """
    chunks = [
        ops.convert_to_numpy(
            similarity_logits(
                network,
                network.get_layer(DISTANCE_LAYER)(
                    [
                        left[start : start + SCORE_CHUNK],
                        right[start : start + SCORE_CHUNK],
                    ]
                ),
            )
        )
        for start in range(0, len(left), SCORE_CHUNK)
    ]
    return np.concatenate(chunks) if chunks else np.zeros((0,), np.float32)


def similarity_logits(network: keras.Model, distance):
    """The similarity scores ``sum_j alpha_j d_j + b`` of L1 distances ``d``, shape ``(pairs,)``.

    Calls the network's own ``classifier_score`` layer, the one its forward pass uses.
    """
    return network.get_layer(SCORE_LAYER)(distance)[..., 0]


# The layers every evaluator and trainer of the book looks up in a loaded network, besides
# its twin (twin_of).
REQUIRED_LAYERS = (DISTANCE_LAYER, SCORE_LAYER)


def load_model(path) -> keras.Model:
    """Load a ``.keras`` Siamese network in safe mode (no arbitrary code runs).

    Raises:
        ValueError: when the file holds a Keras model that is not one of the book's
            Siamese networks (two image inputs, a ``twin`` and the classifier's layers),
            so that a wrong file is named here, not deep inside an evaluation.
    """
    network = keras.saving.load_model(path, safe_mode=True)
    names = {layer.name for layer in network.layers}
    missing = [name for name in REQUIRED_LAYERS if name not in names]
    twins = sum(isinstance(layer, keras.Model) for layer in network.layers)
    if twins != 1:
        missing.insert(0, f"one twin (it holds {twins} sub-models)")
    if len(network.inputs) != 2 or missing:
        raise ValueError(
            f"{path} holds a Keras model ({network.name!r}, {len(network.inputs)} "
            f"input(s)) that is not a Siamese network of this book: it needs two image "
            f"inputs, a twin and the layers {', '.join(REQUIRED_LAYERS)}"
            + (f", and lacks {', '.join(missing)}" if missing else "")
            + ". Load a best.keras written by a reproduction (python -m siamese_utils "
            "train) or by checkpoints.save_network."
        )
    return network
