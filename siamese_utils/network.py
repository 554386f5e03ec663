"""The network, written in the chapters: the twin, the stem, the block, the encoder, the head.

GENERATED from the cells marked ``# @save`` in book/02-06 by ``python tools/save_cells.py``:
edit the chapter, then run that script. ``tests/test_saved_cells.py`` fails when this file
and the chapters differ. Each group is a function of a Keras tensor with keyword-only sizes
and a ``name``, and names its layers after itself (``stem_conv``, ``block_conv2``,
``classifier_score``). The argument checks live in :mod:`siamese_utils.network_checks`.
"""

import keras

from siamese_utils.network_checks import (
    check_block_sizes,
    check_embedding_activation,
    check_network_arguments,
    chosen_groups,
    initialisation_scales,
    layer_l2,
)

# From book/02-twin.ipynb
PAPER_INPUT_SHAPE = (105, 105, 1)  # Omniglot's images, one channel
PAPER_FILTERS = (64, 128, 128, 256)  # the stem's convolution, then the block's
PAPER_KERNEL_SIZES = (10, 7, 4, 4)
PAPER_EMBEDDING_UNITS = 4096
DEFAULT_L2 = 2e-4  # the L2 weight of every layer, unless a recipe sets one
DEFAULT_INITIALISATION = "paper"  # the initialisers of chapter 2


def twin(
    *,
    input_shape=PAPER_INPUT_SHAPE,
    filters=PAPER_FILTERS,
    kernel_sizes=PAPER_KERNEL_SIZES,
    embedding_units=PAPER_EMBEDDING_UNITS,
    l2=DEFAULT_L2,
    initialisation=DEFAULT_INITIALISATION,
    batch_norm=False,
    embedding_activation="sigmoid",
    groups=None,
    name="twin",
):
    """One image in, its embedding out: the stem, the block and the encoder.

    ``filters`` and ``kernel_sizes`` list the convolutions, the stem's first.
    ``groups`` swaps in other group functions by name ("stem", "block",
    "encoder"), a chapter's own for instance; by default the book's.
    """
    shape = check_network_arguments(input_shape, filters, kernel_sizes)
    build = {"stem": stem, "block": conv_block, "encoder": encoder}
    build.update(chosen_groups(groups))
    image = keras.Input(shape, name="image")
    x = build["stem"](
        image,
        filters=filters[0],
        kernel_size=kernel_sizes[0],
        l2=l2,
        initialisation=initialisation,
    )
    x = build["block"](
        x,
        filters=filters[1:],
        kernel_sizes=kernel_sizes[1:],
        l2=l2,
        initialisation=initialisation,
        batch_norm=batch_norm,
    )
    embedding = build["encoder"](
        x,
        units=embedding_units,
        l2=l2,
        initialisation=initialisation,
        activation=embedding_activation,
    )
    return keras.Model(image, embedding, name=name)


def siamese_network(
    *,
    input_shape=PAPER_INPUT_SHAPE,
    l2=DEFAULT_L2,
    initialisation=DEFAULT_INITIALISATION,
    groups=None,
    name="siamese_network",
    **sizes,
):
    """Two images in, p(same) out; one twin model embeds both of them.

    ``sizes`` are the twin's other keyword arguments (filters, kernel sizes,
    embedding units, batch_norm, ...). ``groups`` may also name a "twin" and
    a "classifier" of the reader's own.
    """
    groups = chosen_groups(groups)
    build = {"twin": twin, "classifier": classifier, **groups}
    shared_twin = build["twin"](
        input_shape=input_shape,
        l2=l2,
        initialisation=initialisation,
        groups=groups,
        **sizes,
    )
    shape = shared_twin.inputs[0].shape[1:]
    left = keras.Input(shape, name="left_image")
    right = keras.Input(shape, name="right_image")
    probability = build["classifier"](
        [shared_twin(left), shared_twin(right)],  # the same weights, twice
        l2=l2,
        initialisation=initialisation,
    )
    return keras.Model([left, right], probability, name=name)


# Standard deviations of the normal initialisers. The paper writes 10^-2 and
# 2 x 10^-1; the design document writes `10e-2` and `2 * 10e-1`, which Python
# reads as 0.1 and 2.0.
INITIALISATIONS = {
    "paper": {"conv": 1e-2, "dense": 2e-1, "bias_mean": 0.5, "bias": 1e-2},
    "design-document": {
        "conv": 1e-1,
        "dense": 2.0,
        "bias_mean": 0.5,
        "bias": 1e-1,
    },
}


def conv_weights(initialisation=DEFAULT_INITIALISATION):
    """Convolution kernels: normal, mean 0, sd 10^-2 in the paper."""
    scales = initialisation_scales(initialisation, INITIALISATIONS)
    return keras.initializers.RandomNormal(0.0, scales["conv"])


def dense_weights(initialisation=DEFAULT_INITIALISATION):
    """Fully connected weights: normal, mean 0, sd 2 x 10^-1 in the paper."""
    scales = initialisation_scales(initialisation, INITIALISATIONS)
    return keras.initializers.RandomNormal(0.0, scales["dense"])


def biases(initialisation=DEFAULT_INITIALISATION):
    """Every bias: normal, mean 0.5, sd 10^-2 in the paper."""
    scales = initialisation_scales(initialisation, INITIALISATIONS)
    return keras.initializers.RandomNormal(scales["bias_mean"], scales["bias"])


# From book/03-stem.ipynb
def l2_penalty(l2, layer_name):
    """The L2 regulariser of one layer: lambda * sum of its squared weights.

    ``l2`` is one weight for every layer, or a mapping from layer name to
    weight (the paper's per-layer lambda_j) whose key "*" covers the rest.
    """
    return keras.regularizers.L2(layer_l2(l2, layer_name))


def convolution(filters, kernel_size, *, l2, initialisation, name, **options):
    """A Conv2D as the paper builds every convolution: "valid" padding and
    stride 1 (Keras' defaults), normal initialisers and an L2 penalty on the
    kernel. ``options`` go to Conv2D (an activation, ``use_bias``)."""
    return keras.layers.Conv2D(
        filters,
        kernel_size,
        kernel_initializer=conv_weights(initialisation),
        bias_initializer=biases(initialisation),
        kernel_regularizer=l2_penalty(l2, name),
        name=name,
        **options,
    )


def conv_relu(x, *, filters, kernel_size, l2, initialisation, name):
    """A convolution, then a ReLU, as in the paper."""
    layer = convolution(
        filters,
        kernel_size,
        l2=l2,
        initialisation=initialisation,
        name=name,
        activation="relu",
    )
    return layer(x)


def stem(
    x,
    *,
    filters=64,
    kernel_size=10,
    l2=DEFAULT_L2,
    initialisation=DEFAULT_INITIALISATION,
    name="stem",
):
    """The stem group: one large convolution and ReLU, then 2x2 max pooling.

    105x105x1 -> 96x96x64 -> 48x48x64 in the paper's network.
    """
    x = conv_relu(
        x,
        filters=filters,
        kernel_size=kernel_size,
        l2=l2,
        initialisation=initialisation,
        name=f"{name}_conv",
    )
    return keras.layers.MaxPooling2D(2, name=f"{name}_pool")(x)


# From book/04-conv-block.ipynb
def conv_block(
    x,
    *,
    filters=(128, 128, 256),
    kernel_sizes=(7, 4, 4),
    l2=DEFAULT_L2,
    initialisation=DEFAULT_INITIALISATION,
    batch_norm=False,
    name="block",
):
    """The convolutional block: convolutions, each but the last followed by
    2x2 max pooling (48x48x64 -> 6x6x256 in the paper's network)."""
    check_block_sizes(filters, kernel_sizes)
    convolve = conv_norm_relu if batch_norm else conv_relu
    for position, (count, size) in enumerate(zip(filters, kernel_sizes), 1):
        x = convolve(
            x,
            filters=count,
            kernel_size=size,
            l2=l2,
            initialisation=initialisation,
            name=f"{name}_conv{position}",
        )
        if position < len(filters):
            x = keras.layers.MaxPooling2D(2, name=f"{name}_pool{position}")(x)
    return x


def conv_norm_relu(x, *, filters, kernel_size, l2, initialisation, name):
    """Convolution, batch normalisation, ReLU (batch normalisation is not in
    the paper). Its shift does the bias's work, so the convolution has none."""
    layer = convolution(
        filters,
        kernel_size,
        l2=l2,
        initialisation=initialisation,
        name=name,
        use_bias=False,
    )
    # Momentum 0.9, not Keras' 0.99: the running variance starts at 1, the
    # convolutions' outputs start near 1e-5, and at 0.99 the estimate would
    # take thousands of steps to get there.
    x = keras.layers.BatchNormalization(
        momentum=0.9, name=name.replace("conv", "norm")
    )(layer(x))
    return keras.layers.Activation("relu", name=name.replace("conv", "relu"))(x)


# From book/05-encoder.ipynb
def encoder(
    x,
    *,
    units=4096,
    l2=DEFAULT_L2,
    initialisation=DEFAULT_INITIALISATION,
    activation="sigmoid",
    name="encoder",
):
    """The encoder: flatten the last maps, then one dense layer, the embedding.

    ``activation`` is the paper's sigmoid, or "linear" (none).
    """
    check_embedding_activation(activation)
    x = keras.layers.Flatten(name=f"{name}_flatten")(x)
    dense = keras.layers.Dense(
        units,
        activation=activation,
        kernel_initializer=dense_weights(initialisation),
        bias_initializer=biases(initialisation),
        kernel_regularizer=l2_penalty(l2, f"{name}_dense"),
        name=f"{name}_dense",
    )
    return dense(x)


# From book/06-classifier.ipynb
@keras.saving.register_keras_serializable(package="siamese_utils")
class L1Distance(keras.layers.Layer):
    """|a - b|, feature by feature, of two embeddings.

    A registered layer rather than a Lambda: a saved network then loads in
    safe mode, and keras.ops runs it on any backend.
    """

    def call(self, inputs):
        left, right = inputs
        return keras.ops.abs(left - right)

    def compute_output_shape(self, input_shape):
        return input_shape[0]


def classifier(
    embeddings,
    *,
    l2=DEFAULT_L2,
    initialisation=DEFAULT_INITIALISATION,
    name="classifier",
):
    """Two embeddings in, p(same) out: the L1 distance, the score s (a Dense
    layer of one unit, a logit) and the sigmoid, each a layer of its own."""
    distance = L1Distance(name=f"{name}_distance")(list(embeddings))
    score = keras.layers.Dense(
        1,
        kernel_initializer=dense_weights(initialisation),
        bias_initializer=biases(initialisation),
        kernel_regularizer=l2_penalty(l2, f"{name}_score"),
        name=f"{name}_score",
    )(distance)
    return keras.layers.Activation("sigmoid", name=f"{name}_probability")(score)
