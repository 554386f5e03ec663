"""The convolutional Siamese network of Koch, Zemel & Salakhutdinov (2015).

The code follows the architecture's own vocabulary, one function per group, in the order
the chapters teach them::

    image -> stem -> conv_block -> encoder      (the twin, shared by both images)
    classifier: |h_left - h_right| (L1Distance) -> score s (Dense) -> sigmoid -> p(same)

Group functions take a Keras tensor and keyword-only sizes and return a tensor;
:func:`twin` and :func:`siamese_network` wrap them into models. Every group takes a
``name``, and its layers are named by group and position (``stem_conv``, ``block_conv2``,
``classifier_score``, ...) so that ``model.summary()`` reads like the figure in
the paper. Initialisers follow the paper (Section 3.2) by default, not the design document,
whose ``10e-2`` and ``2 * 10e-1`` are ten times too large (both are available, see
:data:`INITIALISATIONS`):

* convolution weights: normal, mean 0, standard deviation 1e-2;
* dense weights: normal, mean 0, standard deviation 2e-1;
* every bias: normal, mean 0.5, standard deviation 1e-2.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import keras
import numpy as np
from keras import layers, ops

# Imported for its side effect: it registers LayerwiseSGD, which a network saved compiled
# names, so that load_model can read such a file.
from siamese_utils import optimizers  # noqa: F401

PAPER_INPUT_SHAPE = (105, 105, 1)
PAPER_FILTERS = (64, 128, 128, 256)
PAPER_KERNEL_SIZES = (10, 7, 4, 4)
PAPER_EMBEDDING_UNITS = 4096
DEFAULT_L2 = 2e-4
# The classifier group's layers in a network built by siamese_network (the group's default
# name, "classifier", as prefix); the trainers and evaluators look them up by these names.
DISTANCE_LAYER = "classifier_distance"
SCORE_LAYER = "classifier_score"
PROBABILITY_LAYER = "classifier_probability"

# Standard deviations of the normal initialisers. The paper (Section 3.2) writes 10^-2 and
# 2 x 10^-1; the design document's code writes them as `10e-2` and `2 * 10e-1`, which
# Python reads as 0.1 and 2.0. Chapter 2 compares both.
INITIALISATIONS = {
    "paper": {"conv": 1e-2, "dense": 2e-1, "bias_mean": 0.5, "bias": 1e-2},
    "design-document": {
        "conv": 1e-1,
        "dense": 2.0,
        "bias_mean": 0.5,
        "bias": 1e-1,
    },
}
DEFAULT_INITIALISATION = "paper"


def _scheme(initialisation: str) -> dict:
    if initialisation not in INITIALISATIONS:
        raise ValueError(
            f"Unknown initialisation {initialisation!r}; choose one of "
            f"{', '.join(INITIALISATIONS)}."
        )
    return INITIALISATIONS[initialisation]


def conv_weights(
    initialisation: str = DEFAULT_INITIALISATION,
) -> keras.initializers.Initializer:
    """Initialiser for convolution kernels: normal, mean 0, standard deviation 10^-2 in the paper."""
    return keras.initializers.RandomNormal(0.0, _scheme(initialisation)["conv"])


def dense_weights(
    initialisation: str = DEFAULT_INITIALISATION,
) -> keras.initializers.Initializer:
    """Initialiser for fully connected weights: normal, mean 0, standard deviation 2 x 10^-1."""
    return keras.initializers.RandomNormal(
        0.0, _scheme(initialisation)["dense"]
    )


def biases(
    initialisation: str = DEFAULT_INITIALISATION,
) -> keras.initializers.Initializer:
    """Initialiser for every bias: normal, mean 0.5, standard deviation 10^-2 in the paper."""
    scheme = _scheme(initialisation)
    return keras.initializers.RandomNormal(scheme["bias_mean"], scheme["bias"])


def l2_penalty(l2, layer_name: str) -> keras.regularizers.Regularizer:
    """The L2 regulariser of one layer.

    ``l2`` is one weight for every layer, or a mapping from layer name to weight (the
    paper's per-layer ``lambda_j``) in which the key ``"*"`` covers the layers not named.
    """
    if isinstance(l2, Mapping):
        if layer_name in l2:
            return keras.regularizers.L2(float(l2[layer_name]))
        if "*" in l2:
            return keras.regularizers.L2(float(l2["*"]))
        raise ValueError(
            f"The per-layer L2 weights name no weight for {layer_name!r} and have no default "
            f"under '*'; they name {sorted(l2)}."
        )
    return keras.regularizers.L2(float(l2))


def _conv(
    x,
    *,
    filters: int,
    kernel_size: int,
    l2: float | Mapping[str, float],
    initialisation: str,
    batch_norm: bool,
    name: str,
):
    """Convolution and ReLU; with ``batch_norm``, conv -> batch normalisation -> ReLU.

    "valid" padding and stride 1, as in the paper: every convolution shrinks the map by
    ``kernel_size - 1``. Batch normalisation (Ioffe & Szegedy, 2015) postdates the paper;
    chapter 4 measures what it adds. Its shift replaces the convolution's bias, so the
    convolution then has none. ``name`` is the convolution's (``stem_conv``,
    ``block_conv2``); the normalisation and ReLU take the same name with ``norm``/``relu``.
    """
    convolution = layers.Conv2D(
        filters,
        kernel_size,
        activation=None if batch_norm else "relu",
        use_bias=not batch_norm,
        kernel_initializer=conv_weights(initialisation),
        bias_initializer=biases(initialisation),
        kernel_regularizer=l2_penalty(l2, name),
        name=name,
    )
    x = convolution(x)
    if batch_norm:
        # Momentum 0.9, not Keras' 0.99: with the paper's small initial weights the
        # convolutions' outputs have a variance near 1e-5, and the running estimate starts
        # at 1. At 0.99 it needs thousands of updates to get there, and until it does the
        # network computes something else at inference than it learned in training.
        x = layers.BatchNormalization(
            momentum=0.9, name=name.replace("conv", "norm")
        )(x)
        x = layers.Activation("relu", name=name.replace("conv", "relu"))(x)
    return x


def stem(
    x,
    *,
    filters: int = 64,
    kernel_size: int = 10,
    l2: float | Mapping[str, float] = DEFAULT_L2,
    initialisation: str = DEFAULT_INITIALISATION,
    name: str = "stem",
):
    """Stem group: one large convolution (64@10x10, ReLU) and 2x2 max pooling.

    105x105x1 -> 96x96x64 -> 48x48x64. Its layers are ``{name}_conv`` and
    ``{name}_pool``.
    """
    x = _conv(
        x,
        filters=filters,
        kernel_size=kernel_size,
        l2=l2,
        initialisation=initialisation,
        batch_norm=False,
        name=f"{name}_conv",
    )
    return layers.MaxPooling2D(2, name=f"{name}_pool")(x)


def conv_block(
    x,
    *,
    filters: Sequence[int] = (128, 128, 256),
    kernel_sizes: Sequence[int] = (7, 4, 4),
    l2: float | Mapping[str, float] = DEFAULT_L2,
    initialisation: str = DEFAULT_INITIALISATION,
    batch_norm: bool = False,
    name: str = "block",
):
    """Convolutional block: conv 128@7x7, pool, 128@4x4, pool, 256@4x4.

    Every convolution but the last is followed by 2x2 max pooling:
    48x48x64 -> 42x42x128 -> 21x21x128 -> 18x18x128 -> 9x9x128 -> 6x6x256.
    Any number of convolutions works (one filter count per kernel size), so
    the chapters can vary the block's depth; ``batch_norm`` puts batch
    normalisation before each ReLU. Its layers are ``{name}_conv1``,
    ``{name}_pool1``, ``{name}_conv2``, ...
    """
    if len(filters) != len(kernel_sizes) or not filters:
        raise ValueError(
            "conv_block needs one kernel size per filter count (at least one "
            f"of each), got {len(filters)} filter counts and "
            f"{len(kernel_sizes)} kernel sizes."
        )
    for position, (count, size) in enumerate(
        zip(filters, kernel_sizes), start=1
    ):
        x = _conv(
            x,
            filters=count,
            kernel_size=size,
            l2=l2,
            initialisation=initialisation,
            batch_norm=batch_norm,
            name=f"{name}_conv{position}",
        )
        if position < len(filters):
            x = layers.MaxPooling2D(2, name=f"{name}_pool{position}")(x)
    return x


# The embedding's activation: the paper's sigmoid, or none (an unbounded embedding).
EMBEDDING_ACTIVATIONS = ("sigmoid", "linear")


def encoder(
    x,
    *,
    units: int = 4096,
    l2: float | Mapping[str, float] = DEFAULT_L2,
    initialisation: str = DEFAULT_INITIALISATION,
    activation: str = "sigmoid",
    name: str = "encoder",
):
    """Encoder: flatten the last maps, then Dense(4096, sigmoid): the embedding.

    Its layers are ``{name}_flatten`` and ``{name}_dense``. ``activation``
    is the paper's sigmoid; ``"linear"`` leaves the embedding unbounded
    (chapter 5's experiment).
    """
    if activation not in EMBEDDING_ACTIVATIONS:
        raise ValueError(
            f"Unknown embedding activation {activation!r}; choose one of "
            f"{', '.join(EMBEDDING_ACTIVATIONS)}."
        )
    x = layers.Flatten(name=f"{name}_flatten")(x)
    return layers.Dense(
        units,
        activation=activation,
        kernel_initializer=dense_weights(initialisation),
        bias_initializer=biases(initialisation),
        kernel_regularizer=l2_penalty(l2, f"{name}_dense"),
        name=f"{name}_dense",
    )(x)


def feature_map_sizes(
    image_size: int, kernel_sizes: Sequence[int]
) -> list[int]:
    """Side of the feature maps after each convolution (and its pooling, except the last).

    Raises:
        ValueError: when the image is too small for the kernels, naming the layer where
            the map would vanish.
    """
    sizes, side = [], int(image_size)
    for position, kernel in enumerate(kernel_sizes):
        side = side - kernel + 1
        if side < 1:
            raise ValueError(
                f"An input of {image_size}x{image_size} pixels is too small for kernels "
                f"{tuple(kernel_sizes)}: convolution {position + 1} would leave no pixels. "
                "Use a larger image_size or smaller kernel_sizes."
            )
        sizes.append(side)
        if position < len(kernel_sizes) - 1:
            side //= 2
    return sizes


def _check_input_shape(input_shape) -> tuple[int, int, int]:
    shape = tuple(input_shape)
    if len(shape) != 3 or not all(isinstance(s, int) and s > 0 for s in shape):
        raise ValueError(
            f"input_shape must be (height, width, channels) of positive integers, "
            f"got {input_shape!r}; Omniglot images are (105, 105, 1)."
        )
    if shape[0] != shape[1]:
        raise ValueError(
            f"input_shape must be square, got {shape[0]}x{shape[1]}."
        )
    return shape


def twin(
    *,
    input_shape=PAPER_INPUT_SHAPE,
    filters: Sequence[int] = PAPER_FILTERS,
    kernel_sizes: Sequence[int] = PAPER_KERNEL_SIZES,
    embedding_units: int = PAPER_EMBEDDING_UNITS,
    l2: float | Mapping[str, float] = DEFAULT_L2,
    initialisation: str = DEFAULT_INITIALISATION,
    batch_norm: bool = False,
    embedding_activation: str = "sigmoid",
    name: str = "twin",
) -> keras.Model:
    """The twin: stem, convolutional block and encoder, as one model shared by both inputs.

    Args:
        input_shape: ``(size, size, channels)``; the paper's ``(105, 105, 1)`` by default.
        filters: filter counts of the convolutions, stem first (the paper has four; any
            number from two works, the rest form the block).
        kernel_sizes: kernel sides of the same convolutions.
        embedding_units: units of the encoder's dense layer.
        l2: L2 weight of every kernel regulariser, or a mapping layer name -> weight
            (see :func:`l2_penalty`).
        initialisation: ``"paper"`` (the default) or ``"design-document"``.
        batch_norm: put batch normalisation before the block's ReLUs (not in the paper).
        embedding_activation: the embedding's activation, the paper's ``"sigmoid"`` or
            ``"linear"`` (none).
        name: the model's name.

    Returns:
        A ``keras.Model`` named ``name`` mapping images to embeddings
        ``(batch, embedding_units)``, in (0, 1) with the sigmoid.
    """
    shape = _check_input_shape(input_shape)
    if len(filters) != len(kernel_sizes) or len(filters) < 2:
        raise ValueError(
            "filters and kernel_sizes need one entry per convolution, the stem's first and at "
            f"least one for the block (the paper has four); got {tuple(filters)} and "
            f"{tuple(kernel_sizes)}."
        )
    feature_map_sizes(shape[0], kernel_sizes)
    image = keras.Input(shape, name="image")
    x = stem(
        image,
        filters=filters[0],
        kernel_size=kernel_sizes[0],
        l2=l2,
        initialisation=initialisation,
    )
    x = conv_block(
        x,
        filters=filters[1:],
        kernel_sizes=kernel_sizes[1:],
        l2=l2,
        initialisation=initialisation,
        batch_norm=batch_norm,
    )
    embedding = encoder(
        x,
        units=embedding_units,
        l2=l2,
        initialisation=initialisation,
        activation=embedding_activation,
    )
    return keras.Model(image, embedding, name=name)


@keras.saving.register_keras_serializable(package="siamese_utils")
class L1Distance(layers.Layer):
    """Component-wise L1 distance ``|a - b|`` between two embeddings.

    A proper layer rather than a ``Lambda``: it serialises by name, so a saved
    ``.keras`` model loads in safe mode, and it runs on any Keras backend
    through ``keras.ops``.
    """

    def call(self, inputs):
        left, right = inputs
        return ops.abs(left - right)

    def compute_output_shape(self, input_shape):
        return input_shape[0]


def classifier(
    embeddings,
    *,
    l2: float | Mapping[str, float] = DEFAULT_L2,
    initialisation: str = DEFAULT_INITIALISATION,
    name: str = "classifier",
):
    """Classifier group: two embeddings in, p(same) out, by the score ``s``.

    ``{name}_distance`` (:class:`L1Distance`) takes ``|h1 - h2|``;
    ``{name}_score``, a ``Dense(1)`` with no activation, gives
    ``s = sum_j alpha_j |h1_j - h2_j| + b`` (a logit); ``{name}_probability``
    is the sigmoid, a layer of its own. Training losses and every ranking use
    ``s`` itself (:func:`logit_network`): a float32 sigmoid rounds to exactly
    1.0 above ``s`` of about 17, where candidates that the scores still tell
    apart would tie.

    Args:
        embeddings: the twin's outputs for the left and the right image.
    """
    distance = L1Distance(name=f"{name}_distance")(list(embeddings))
    score = layers.Dense(
        1,
        kernel_initializer=dense_weights(initialisation),
        bias_initializer=biases(initialisation),
        kernel_regularizer=l2_penalty(l2, f"{name}_score"),
        name=f"{name}_score",
    )(distance)
    return layers.Activation("sigmoid", name=f"{name}_probability")(score)


def siamese_network(
    *,
    input_shape=PAPER_INPUT_SHAPE,
    filters: Sequence[int] = PAPER_FILTERS,
    kernel_sizes: Sequence[int] = PAPER_KERNEL_SIZES,
    embedding_units: int = PAPER_EMBEDDING_UNITS,
    l2: float | Mapping[str, float] = DEFAULT_L2,
    initialisation: str = DEFAULT_INITIALISATION,
    batch_norm: bool = False,
    embedding_activation: str = "sigmoid",
    name: str = "siamese_network",
) -> keras.Model:
    """The whole verification network: two images in, p(same) out.

    One :func:`twin` model is called on both inputs, so both branches share
    every weight. With the defaults (the paper's network on 105x105x1 images)
    it has 38,951,745 parameters.

    Takes the keyword arguments of :func:`twin`, and ``name`` for the model.

    Returns:
        A ``keras.Model`` named ``name`` with inputs ``[left_image,
        right_image]`` of shape ``(batch, *input_shape)`` and output p(same)
        ``(batch, 1)``; :func:`logit_network` gives the score before the
        sigmoid.
    """
    shape = _check_input_shape(input_shape)
    shared_twin = twin(
        input_shape=shape,
        filters=filters,
        kernel_sizes=kernel_sizes,
        embedding_units=embedding_units,
        l2=l2,
        initialisation=initialisation,
        batch_norm=batch_norm,
        embedding_activation=embedding_activation,
    )
    left = keras.Input(shape, name="left_image")
    right = keras.Input(shape, name="right_image")
    probability = classifier(
        [shared_twin(left), shared_twin(right)],
        l2=l2,
        initialisation=initialisation,
    )
    return keras.Model([left, right], probability, name=name)


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


def network_for(
    profile,
    l2: float | Mapping[str, float] = DEFAULT_L2,
    initialisation: str = DEFAULT_INITIALISATION,
) -> keras.Model:
    """The Siamese network sized by a :class:`siamese_utils.profiles.Profile`."""
    return siamese_network(
        l2=l2, initialisation=initialisation, **profile.network_kwargs()
    )


def twin_of(network: keras.Model) -> keras.Model:
    """The shared twin inside a Siamese network (images -> embeddings)."""
    return network.get_layer("twin")


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


def save_model(network: keras.Model, path, overwrite: bool = False) -> None:
    """Save ``network`` as a ``.keras`` file, refusing to replace a file unless asked.

    Raises:
        ValueError: when ``path`` does not end in ``.keras``.
        FileExistsError: when ``path`` exists and ``overwrite`` is false.
    """
    path = os.fspath(path)
    if not path.endswith(".keras"):
        raise ValueError(f"Save models as '.keras' files; got {path!r}.")
    if os.path.exists(path) and not overwrite:
        raise FileExistsError(
            f"{path} exists; pass overwrite=True to replace it, or choose another path."
        )
    network.save(path)


def load_model(path) -> keras.Model:
    """Load a ``.keras`` Siamese network in safe mode (no arbitrary code runs)."""
    return keras.saving.load_model(path, safe_mode=True)
