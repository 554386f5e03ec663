"""Looking inside the network: the measurements chapters print must be right."""

import numpy as np
import pytest

from siamese_utils import anatomy, model, profiles
from siamese_utils.seeding import set_seed

SMOKE = profiles.get_profile("smoke")


@pytest.fixture(scope="module")
def paper_rows():
    return {
        row.name: row for row in anatomy.layer_table(model.siamese_network())
    }


def test_layer_table_lists_the_twin_then_the_head_with_paper_shapes(paper_rows):
    assert list(paper_rows)[:2] == ["stem_conv", "stem_pool"]
    assert list(paper_rows)[-2:] == [model.DISTANCE_LAYER, model.SCORE_LAYER]
    assert paper_rows["block_conv3"].output_shape == (6, 6, 256)
    assert paper_rows["encoder_dense"].parameters == 9216 * 4096 + 4096
    assert sum(row.parameters for row in paper_rows.values()) == 38_951_745


def test_multiply_adds_count_every_output_times_its_kernel(paper_rows):
    assert paper_rows["stem_conv"].multiply_adds == 96 * 96 * 64 * (10 * 10 * 1)
    assert paper_rows["block_conv1"].multiply_adds == 42 * 42 * 128 * (
        7 * 7 * 64
    )
    assert paper_rows["encoder_dense"].multiply_adds == 9216 * 4096
    assert paper_rows["stem_pool"].multiply_adds == 0


def test_formatted_table_ends_with_the_total(paper_rows):
    text = anatomy.format_layer_table(list(paper_rows.values()))
    assert text.splitlines()[-1].split()[-1] == "38,951,745"


def test_activation_statistics_cover_every_conv_and_dense_layer(background):
    set_seed(0)
    network = model.siamese_network(**SMOKE.network_kwargs())
    stats = anatomy.activation_statistics(network, background.images[:32])
    assert [s.name for s in stats] == [
        "stem_conv",
        "block_conv1",
        "block_conv2",
        "block_conv3",
        "encoder_dense",
    ]
    for s in stats:
        assert (
            0.0 <= s.dead <= 1.0 and 0.0 <= s.saturated <= 1.0 and s.std >= 0.0
        )
    assert (
        stats[-1].dead == 0.0
    )  # "dead" is a ReLU notion; the encoder is a sigmoid


def test_design_document_initialisation_is_ten_times_the_paper():
    set_seed(0)
    paper = model.twin(input_shape=(105, 105, 1))
    design = model.twin(
        input_shape=(105, 105, 1), initialisation="design-document"
    )
    for name in ("block_conv1", "encoder_dense"):
        ratio = (
            design.get_layer(name).kernel.numpy().std()
            / paper.get_layer(name).kernel.numpy().std()
        )
        assert ratio == pytest.approx(10.0, rel=0.02)


def test_unknown_initialisation_is_refused():
    with pytest.raises(ValueError, match="design-document"):
        model.twin(initialisation="glorot")


def test_receptive_fields_of_the_paper_network_grow_to_65_pixels():
    fields = anatomy.receptive_fields(model.siamese_network())
    assert fields == {
        "stem_conv": 10,
        "stem_pool": 11,
        "block_conv1": 23,
        "block_pool1": 25,
        "block_conv2": 37,
        "block_pool2": 41,
        "block_conv3": 65,
    }


def test_feature_maps_have_the_layer_output_shape(background):
    network = model.siamese_network(**SMOKE.network_kwargs())
    maps = anatomy.feature_maps(network, background.images[:3], "stem_conv")
    assert maps.shape == (3, 28, 28, SMOKE.filters[0])
    assert (maps >= 0).all()  # after the ReLU


def test_strongest_responses_rank_images_by_each_channels_peak(background):
    set_seed(0)
    network = model.siamese_network(**SMOKE.network_kwargs())
    images = background.images[:40]
    found = anatomy.strongest_responses(
        network, images, "block_conv2", channels=3, per_channel=5
    )
    peaks = anatomy.feature_maps(network, images, "block_conv2").max(
        axis=(1, 2)
    )
    assert found.images.shape == (3, 5) and len(set(found.channels)) == 3
    for row, channel in enumerate(found.channels):
        np.testing.assert_allclose(
            found.peaks[row], peaks[found.images[row], channel]
        )
        assert (np.diff(found.peaks[row]) <= 0).all()  # strongest first
        assert found.peaks[row, 0] == pytest.approx(peaks[:, channel].max())
    # The chosen channels are the most selective: their peaks vary most across images.
    spread = peaks.std(axis=0)
    assert min(spread[found.channels]) >= np.sort(spread)[-3]


def test_strongest_responses_refuse_impossible_requests(background):
    network = model.siamese_network(**SMOKE.network_kwargs())
    with pytest.raises(ValueError, match="at least per_channel"):
        anatomy.strongest_responses(
            network, background.images[:3], "stem_conv", per_channel=8
        )
    with pytest.raises(ValueError, match="channels"):
        anatomy.strongest_responses(
            network,
            background.images[:10],
            "stem_conv",
            channels=999,
            per_channel=2,
        )


def test_twin_multiply_adds_leave_out_the_head(paper_rows):
    twin_only = sum(
        row.multiply_adds
        for name, row in paper_rows.items()
        if name not in anatomy.HEAD_LAYERS
    )
    assert (
        anatomy.twin_multiply_adds(model.siamese_network())
        == twin_only
        == 908_623_872
    )  # 0.91 G, as chapter 4 prints


def test_formatted_table_keeps_every_layer_name_apart_from_its_kind(paper_rows):
    for line in anatomy.format_layer_table(
        list(paper_rows.values())
    ).splitlines()[1:-1]:
        name, kind = line.split()[:2]
        assert name in paper_rows and kind == paper_rows[name].kind
