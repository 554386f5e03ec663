"""The network of Koch et al. (2015), part by part."""

import keras
import numpy as np
import pytest

from siamese_utils import checkpoints, model, profiles
from siamese_utils.seeding import set_seed


@pytest.fixture(scope="module")
def paper_network():
    set_seed(0)
    return model.siamese_network()


def test_paper_network_has_exactly_38951745_parameters(paper_network):
    assert paper_network.count_params() == 38_951_745


def test_three_channel_input_would_add_12800_parameters():
    # The design document's (105, 105, 3): 64 filters x 10 x 10 x 2 extra channels.
    assert (
        model.twin(input_shape=(105, 105, 3)).count_params()
        - model.twin().count_params()
        == 12_800
    )


def test_twin_layers_have_the_papers_output_shapes(paper_network):
    twin = model.twin_of(paper_network)
    shapes = {
        layer.name: tuple(layer.output.shape[1:]) for layer in twin.layers
    }
    assert shapes == {
        "image": (105, 105, 1),
        "stem_conv": (96, 96, 64),
        "stem_pool": (48, 48, 64),
        "block_conv1": (42, 42, 128),
        "block_pool1": (21, 21, 128),
        "block_conv2": (18, 18, 128),
        "block_pool2": (9, 9, 128),
        "block_conv3": (6, 6, 256),
        "encoder_flatten": (9216,),
        "encoder_dense": (4096,),
    }


def test_both_inputs_go_through_one_shared_twin(paper_network):
    twins = [
        layer
        for layer in paper_network.layers
        if isinstance(layer, keras.Model)
    ]
    assert twins == [model.twin_of(paper_network)]
    assert [n.name for n in paper_network.inputs] == [
        "left_image",
        "right_image",
    ]


def test_initialisers_follow_the_paper_not_the_design_document(paper_network):
    twin = model.twin_of(paper_network)
    conv = twin.get_layer("block_conv1")
    dense = twin.get_layer("encoder_dense")
    kernel, bias = (w.numpy() for w in conv.weights)
    assert abs(kernel.mean()) < 1e-3 and kernel.std() == pytest.approx(
        1e-2, rel=0.02
    )
    assert bias.mean() == pytest.approx(0.5, abs=3e-3) and bias.std() < 2e-2
    weights = dense.kernel.numpy()
    assert weights.std() == pytest.approx(2e-1, rel=0.01)
    head = paper_network.get_layer(model.SCORE_LAYER)
    assert head.bias.numpy()[0] == pytest.approx(0.5, abs=0.05)


def test_every_kernel_carries_an_l2_regulariser():
    set_seed(0)
    network = model.siamese_network(
        **profiles.get_profile("smoke").network_kwargs(), l2=1e-3
    )
    regularised = [
        layer.name
        for layer in model.twin_of(network).layers + network.layers
        if getattr(layer, "kernel_regularizer", None) is not None
    ]
    assert sorted(regularised) == sorted(
        [
            "stem_conv",
            "block_conv1",
            "block_conv2",
            "block_conv3",
            "encoder_dense",
            model.SCORE_LAYER,
        ]
    )
    assert network.get_layer(
        model.SCORE_LAYER
    ).kernel_regularizer.l2 == pytest.approx(1e-3)


def test_l1_distance_is_the_absolute_difference():
    layer = model.L1Distance()
    a = np.array([[1.0, -2.0, 3.0]], np.float32)
    b = np.array([[0.5, 2.0, 3.0]], np.float32)
    np.testing.assert_allclose(np.asarray(layer([a, b])), [[0.5, 4.0, 0.0]])


def test_output_is_a_probability_per_pair():
    set_seed(1)
    smoke = profiles.get_profile("smoke")
    network = model.siamese_network(**smoke.network_kwargs())
    images = np.random.default_rng(0).random(
        (5, *smoke.input_shape), dtype=np.float32
    )
    p = network.predict([images, images[::-1]], verbose=0)
    assert p.shape == (5, 1) and ((p > 0) & (p < 1)).all()
    # Symmetric in its two inputs: |a - b| = |b - a|.
    np.testing.assert_allclose(
        p, network.predict([images[::-1], images], verbose=0), rtol=1e-6
    )


def test_saved_model_loads_in_safe_mode_and_predicts_identically(tmp_path):
    set_seed(2)
    smoke = profiles.get_profile("smoke")
    network = model.siamese_network(**smoke.network_kwargs())
    images = np.random.default_rng(1).random(
        (4, *smoke.input_shape), dtype=np.float32
    )
    path = tmp_path / "siamese.keras"
    checkpoints.save_network(network, path)
    restored = model.load_model(path)
    np.testing.assert_array_equal(
        network.predict([images, images[::-1]], verbose=0),
        restored.predict([images, images[::-1]], verbose=0),
    )
    assert isinstance(
        restored.get_layer(model.DISTANCE_LAYER), model.L1Distance
    )


def test_a_network_is_saved_only_as_a_keras_file(tmp_path):
    smoke = profiles.get_profile("smoke")
    network = model.siamese_network(**smoke.network_kwargs())
    with pytest.raises(ValueError, match=".keras"):
        checkpoints.save_network(network, tmp_path / "siamese.h5")
    assert not (tmp_path / "siamese.h5").exists()


@pytest.mark.parametrize(
    "shape, message",
    [
        ((105, 105), "height, width, channels"),
        ((20, 20, 1), "too small"),
        ((105, 90, 1), "square"),
    ],
)
def test_bad_input_shapes_are_explained(shape, message):
    with pytest.raises(ValueError, match=message):
        model.siamese_network(input_shape=shape)


def test_batch_norm_puts_normalisation_before_each_block_relu():
    smoke = profiles.get_profile("smoke")
    twin = model.twin_of(
        model.siamese_network(**{**smoke.network_kwargs(), "batch_norm": True})
    )
    names = [layer.name for layer in twin.layers]
    for position in (1, 2, 3):
        conv, norm, relu = (
            names.index(f"block_{part}{position}")
            for part in ("conv", "norm", "relu")
        )
        assert conv < norm < relu
        # The normalisation's shift replaces the bias, and the ReLU moves after it.
        assert not twin.get_layer(f"block_conv{position}").use_bias
    assert "stem_norm" not in names  # the stem stays as in the paper


def test_batch_norm_network_saves_and_loads_identically(tmp_path):
    set_seed(3)
    smoke = profiles.get_profile("smoke")
    network = model.siamese_network(
        **{**smoke.network_kwargs(), "batch_norm": True}
    )
    images = np.random.default_rng(2).random(
        (4, *smoke.input_shape), dtype=np.float32
    )
    checkpoints.save_network(network, tmp_path / "bn.keras")
    restored = model.load_model(tmp_path / "bn.keras")
    np.testing.assert_allclose(
        network.predict([images, images[::-1]], verbose=0),
        restored.predict([images, images[::-1]], verbose=0),
        rtol=1e-6,
    )


def test_the_block_can_be_shallower_or_deeper_than_the_papers():
    shallow = model.twin(
        input_shape=(52, 52, 1), filters=(32, 64), kernel_sizes=(5, 3)
    )
    assert shallow.get_layer("block_conv1").output.shape[1:] == (22, 22, 64)
    assert "block_pool1" not in [
        layer.name for layer in shallow.layers
    ]  # the last conv is not pooled
    deep = model.twin(
        input_shape=(105, 105, 1),
        filters=(64, 128, 128, 128, 256),
        kernel_sizes=(10, 7, 3, 3, 2),
    )
    assert deep.get_layer("block_conv4").output.shape[1:] == (2, 2, 256)


@pytest.mark.parametrize(
    "filters, kernel_sizes", [((64,), (10,)), ((64, 128), (10, 7, 4)), ((), ())]
)
def test_mismatched_or_missing_block_layers_are_explained(
    filters, kernel_sizes
):
    with pytest.raises(ValueError, match="one entry per convolution"):
        model.twin(filters=filters, kernel_sizes=kernel_sizes)


def test_a_saved_model_predicts_identically_in_a_fresh_process(tmp_path):
    import subprocess
    import sys

    set_seed(3)
    smoke = profiles.get_profile("smoke")
    network = model.siamese_network(**smoke.network_kwargs())
    images = np.random.default_rng(2).random(
        (6, *smoke.input_shape), dtype=np.float32
    )
    np.save(tmp_path / "images.npy", images)
    checkpoints.save_network(network, tmp_path / "siamese.keras")
    script = (
        "import numpy as np, siamese_utils\n"
        "from siamese_utils import model\n"
        f"net = model.load_model({str(tmp_path / 'siamese.keras')!r})\n"
        f"x = np.load({str(tmp_path / 'images.npy')!r})\n"
        f"np.save({str(tmp_path / 'fresh.npy')!r}, net.predict([x, x[::-1]], verbose=0))\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=300)
    np.testing.assert_array_equal(
        np.load(tmp_path / "fresh.npy"),
        network.predict([images, images[::-1]], verbose=0),
    )


@pytest.mark.parametrize(
    "images, error, message",
    [
        (np.zeros((2, 32, 32, 1), np.uint8), TypeError, "astype"),
        (np.full((2, 32, 32, 1), 255.0, np.float32), ValueError, "x / 255"),
        (np.zeros((2, 32, 32, 3), np.float32), ValueError, "one channel"),
        (np.zeros((32, 32, 1), np.float32), ValueError, "expects"),
        (
            np.full((2, 32, 32, 1), np.nan, np.float32),
            ValueError,
            "NaN or infinite",
        ),
        (
            np.where(np.eye(32)[None, :, :, None] > 0, np.inf, 0.5).astype(
                np.float32
            ),
            ValueError,
            "32 of the image values are NaN or infinite",
        ),
    ],
    ids=[
        "uint8",
        "0-255 floats",
        "three channels",
        "no batch axis",
        "all NaN",
        "some infinite",
    ],
)
def test_images_of_the_wrong_dtype_range_or_channels_are_explained(
    images, error, message
):
    network = model.siamese_network(
        **profiles.get_profile("smoke").network_kwargs()
    )
    with pytest.raises(error, match=message):
        model.check_images(network, images)


@pytest.mark.parametrize(
    "builder", [model.stem, model.conv_block, model.encoder, model.classifier]
)
def test_group_builders_take_their_sizes_by_keyword_only(builder):
    x = keras.Input((52, 52, 1))
    with pytest.raises(TypeError):
        builder(
            x, 64
        )  # a positional size would silently mean something else after a reorder


def test_every_group_names_its_layers_after_the_groups_name():
    image = keras.Input((52, 52, 1))
    x = model.stem(image, filters=8, kernel_size=5, name="first")
    x = model.conv_block(x, filters=(8, 8), kernel_sizes=(3, 3), name="middle")
    embedding = model.encoder(x, units=16, name="code")
    other = keras.Input((16,))
    probability = model.classifier([embedding, other], name="head")
    names = [
        layer.name for layer in keras.Model([image, other], probability).layers
    ]
    assert {
        "first_conv",
        "first_pool",
        "middle_conv1",
        "middle_pool1",
        "middle_conv2",
        "code_flatten",
        "code_dense",
        "head_distance",
        "head_score",
        "head_probability",
    } <= set(names)


def test_the_whole_network_and_its_twin_take_a_name():
    network = model.siamese_network(
        **profiles.get_profile("smoke").network_kwargs(), name="mine"
    )
    assert network.name == "mine"
    assert (
        model.twin(
            input_shape=(32, 32, 1),
            filters=(4, 4),
            kernel_sizes=(5, 3),
            name="branch",
        ).name
        == "branch"
    )
    assert [layer.name for layer in network.layers][-3:] == [
        model.DISTANCE_LAYER,
        model.SCORE_LAYER,
        model.PROBABILITY_LAYER,
    ]


def test_the_embedding_can_drop_its_sigmoid_and_refuses_unknown_activations():
    linear = model.siamese_network(
        **profiles.get_profile("smoke").network_kwargs(),
        embedding_activation="linear",
    )
    dense = model.twin_of(linear).get_layer("encoder_dense")
    assert dense.activation.__name__ == "linear"
    with pytest.raises(ValueError, match="sigmoid, linear"):
        model.siamese_network(embedding_activation="tanh")


def test_loading_a_keras_file_that_is_not_a_siamese_network_names_the_problem(
    tmp_path,
):
    inputs = keras.Input((4,))
    other = keras.Model(inputs, keras.layers.Dense(1)(inputs), name="regressor")
    path = tmp_path / "other.keras"
    other.save(path)
    with pytest.raises(ValueError, match="not a Siamese network of this book"):
        model.load_model(path)


def test_a_renamed_twin_is_still_found_and_loads(tmp_path):
    # The twin is found by what it is, not by its name (issue 33, item 6).
    smoke = profiles.get_profile("smoke")
    sizes = smoke.network_kwargs()
    network = model.siamese_network(
        groups={
            "twin": lambda **kwargs: model.twin(
                **{**kwargs, "name": "encoder_twin"}
            )
        },
        **sizes,
    )
    assert model.twin_of(network).name == "encoder_twin"
    checkpoints.save_network(network, tmp_path / "renamed.keras")
    assert model.twin_of(model.load_model(tmp_path / "renamed.keras")).name == (
        "encoder_twin"
    )
