"""The book's figures: the network diagram reads the model, and every text is legible."""

import inspect
import re

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_hex

from siamese_utils import anatomy, evaluate, model, plots, profiles

SMOKE = profiles.get_profile("smoke")


@pytest.fixture(scope="module")
def networks():
    return model.siamese_network(
        **SMOKE.network_kwargs()
    ), model.siamese_network()


def _texts(fig):
    return [
        t
        for t in fig.findobj(matplotlib.text.Text)
        if t.get_visible() and t.get_text().strip()
    ]


def test_every_layer_belongs_to_one_of_the_four_parts_by_its_name(networks):
    smoke, _ = networks
    parts = [
        anatomy.part_of(layer.name) for layer in anatomy.diagram_layers(smoke)
    ]
    assert parts[:2] == ["stem", "stem"] and parts[-3:] == ["classifier"] * 3
    assert set(parts) == set(anatomy.PARTS)
    with pytest.raises(ValueError, match="belongs to no part"):
        anatomy.part_of("dense_7")


def test_the_diagram_shows_every_layer_with_its_shape_in_both_networks(
    networks,
):
    smoke, paper = networks
    fig = plots.network_diagram(smoke, paper, labels=("smoke", "paper"))
    shown = [t.get_text() for t in _texts(fig)]
    for network in (smoke, paper):
        for layer in anatomy.diagram_layers(network):
            assert anatomy.output_text(layer) in shown, layer.name
    assert (
        "10x10: 96x96x64" in shown and "4096" in shown
    )  # the paper's stem and embedding
    assert {"smoke", "paper", "weighted sum: the score s (a logit)"} <= set(
        shown
    )
    plt.close(fig)


def test_highlighting_a_part_greys_the_text_of_every_other_part(networks):
    smoke, paper = networks
    fig = plots.network_diagram(smoke, paper, highlight="encoder")
    colours = {
        t.get_text(): matplotlib.colors.to_hex(t.get_color())
        for t in _texts(fig)
    }
    assert colours["dense, sigmoid: the embedding h"] == "#000000"
    assert (
        colours["2x2 max-pool"] != "#000000"
    )  # a pooling layer of the convolutional block
    plt.close(fig)


def test_no_text_in_the_diagram_is_smaller_than_the_books_smallest_font(
    networks,
):
    fig = plots.network_diagram(*networks)
    assert (
        min(t.get_fontsize() for t in _texts(fig)) >= plots.SMALLEST_FONT == 9
    )
    plt.close(fig)


def test_no_figure_of_the_book_asks_for_text_below_9_points():
    # Every figure function sets sizes through the style or SMALLEST_FONT; a literal below
    # it would print text too small to read in the rendered pages.
    source = inspect.getsource(plots)
    sizes = [
        int(size)
        for size in re.findall(r"(?:fontsize|labelsize)=(\d+)", source)
    ]
    assert all(size >= plots.SMALLEST_FONT for size in sizes), sizes
    assert plots.BOOK_STYLE["font.size"] >= plots.SMALLEST_FONT
    assert plots.BOOK_STYLE["figure.dpi"] >= 150


def _trial_result(chosen: int, answer: int, n: int = 20):
    rng = np.random.default_rng(0)
    trials = evaluate.OneShotTrials(
        name="synthetic",
        images=rng.random((n + 1, 8, 8, 1)).astype("float32"),
        queries=np.array([n]),
        candidates=np.arange(n)[None, :],
        answers=np.array([answer]),
        groups=("run01",),
    )
    scores = np.linspace(-2.0, 2.0, n)[None, :]
    return evaluate.OneShotResult(trials, scores, np.array([chosen]))


def test_a_whole_trial_shows_the_query_and_every_candidate_with_its_score():
    fig = plots.whole_trial(_trial_result(chosen=19, answer=3), 0)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles[0] == "query" and len(titles) == 21
    assert titles[4] == "-1.37 true" and titles[20] == "2.00"
    colours = {ax.get_title(): to_hex(ax.title.get_color()) for ax in fig.axes}
    assert colours["-1.37 true"] == to_hex("tab:blue")  # the true match
    assert colours["2.00"] == to_hex("tab:red")  # the wrong choice
    plt.close(fig)


def test_layers_with_equal_schedules_share_one_line_named_after_all_of_them():
    epochs = np.arange(5)
    fig = plots.schedule_plot(
        epochs,
        {"stem": epochs * 1.0, "block": epochs * 1.0, "head": epochs * 2.0},
        {"stem": np.ones(5), "block": np.ones(5), "head": np.ones(5)},
    )
    rate_ax, momentum_ax = fig.axes
    assert [t.get_text() for t in rate_ax.get_legend().get_texts()] == [
        "stem, block",
        "head",
    ]
    assert len(momentum_ax.get_lines()) == 1
    plt.close(fig)


def test_an_episodes_score_matrix_marks_its_alphabets_and_blanks_the_diagonal():
    scores = np.random.default_rng(0).normal(size=(16, 16))
    fig = plots.score_matrix(
        scores, images_per_character=2, characters_per_alphabet=4
    )
    ax = fig.axes[0]
    shown = ax.images[0].get_array()
    assert np.all(
        np.ma.getmaskarray(shown).diagonal() | np.isnan(shown.data.diagonal())
    )
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        "alphabet 1",
        "alphabet 2",
    ]
    # One line between the two alphabets, in each direction.
    assert len(ax.lines) == 2


def test_the_push_figure_ranks_shares_and_splits_them_by_alphabet():
    shares = np.array([[0.7, 0.2, 0.1], [0.5, 0.3, 0.2]])
    own = np.array([[True, False, False], [True, True, False]])
    fig = plots.negative_weights(shares, own, top=3)
    bars = fig.axes[0].patches
    from_own = [bar.get_height() for bar in bars[:3]]
    from_others = [bar.get_height() for bar in bars[3:]]
    np.testing.assert_allclose(from_own, [0.6, 0.15, 0.0])
    np.testing.assert_allclose(from_others, [0.0, 0.1, 0.15])
    # Each bar stacks to the mean share of that rank.
    np.testing.assert_allclose(np.add(from_own, from_others), [0.6, 0.25, 0.15])
    assert "3 highest-scoring of each anchor's 3" in fig.axes[0].get_xlabel()


def test_the_agreement_figure_draws_every_count_of_networks_with_the_ensembles_part():
    from siamese_utils.protocol_levers import Agreement

    table = np.array([[4, 0], [3, 1], [2, 2], [9, 9]])
    fig = plots.agreement_bars(Agreement("ensemble-3", [1], table))
    bars = fig.axes[0].patches
    assert [bar.get_height() for bar in bars[:4]] == [4, 3, 2, 9]
    assert [bar.get_height() for bar in bars[4:]] == [0, 1, 2, 9]
    assert "(of 3)" in fig.axes[0].get_xlabel()
