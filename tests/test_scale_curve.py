"""Chapter 6's scale curve: bench.scale's rows become points on two axes, the findings say
what changed with an interval, and the figure draws every point with its label."""

import matplotlib
import matplotlib.pyplot as plt
import pytest

from siamese_utils import plots, scale_curve
from siamese_utils.profiles import get_profile
from siamese_utils.recipe import recipe_for

FAST = get_profile("fast")
OWN_EPOCHS = recipe_for(FAST).max_epochs


def _row(
    axis, value, seed=2015, protocol=0.78, official=0.9, seconds=600.0, **extra
):
    return {
        "axis": axis,
        "value": value,
        "seed": seed,
        "profile": "fast",
        "one_shot_paper_protocol": protocol,
        "one_shot_official_runs": official,
        "train_seconds": seconds,
        **extra,
    }


def test_the_size_point_at_the_profiles_own_size_is_also_the_schedules_own_length():
    rows = [
        _row("size", FAST.image_size, protocol=0.78),
        _row("size", 105, protocol=0.83, seconds=2400),
        _row("epochs", 6, protocol=0.70, seconds=150),
    ]
    points = scale_curve.scale_points(rows)
    assert [p.value for p in points["size"]] == [FAST.image_size, 105]
    assert [p.value for p in points["epochs"]] == [6, OWN_EPOCHS]
    assert points["epochs"][1].protocol == {2015: 0.78}
    assert points["size"][1].minutes == pytest.approx(40.0)


def test_a_rerun_replaces_its_row_and_other_profiles_do_not_count():
    rows = [
        _row("size", 70, protocol=0.60),
        _row("size", 70, protocol=0.80),
        {**_row("size", 70, protocol=0.10), "profile": "smoke"},
    ]
    (point,) = scale_curve.scale_points(rows)["size"]
    assert point.protocol == {2015: 0.80}


def test_seeds_of_one_point_are_averaged_and_give_it_an_interval():
    rows = [
        _row("size", 80, seed=s, protocol=p)
        for s, p in [(1, 0.8), (2, 0.82), (3, 0.84)]
    ]
    (point,) = scale_curve.scale_points(rows)["size"]
    assert point.estimate().mean == pytest.approx(0.82)
    assert scale_curve.half_interval(point) == pytest.approx(
        4.303 * 0.02 / 3**0.5
    )


def test_the_findings_compare_each_axis_end_to_end_against_the_paper():
    rows = [
        _row("size", FAST.image_size, protocol=0.78, seconds=480),
        _row("size", 105, protocol=0.84, seconds=1800),
        _row("epochs", 6, protocol=0.70, seconds=120),
        _row("epochs", 48, protocol=0.80, seconds=960),
    ]
    text = scale_curve.scale_findings(scale_curve.scale_points(rows)).data
    assert (
        f"from images of {FAST.image_size} pixels to images of 105 pixels"
        in text
    )
    assert "from 78.0% to 84.0%: +6.0 points" in text
    assert "from 6 epochs to 48 epochs (2 to 16 minutes" in text
    assert "The best point, images of 105 pixels, scored 84.0%" in text
    assert "92.0%" in text
    # One seed a point, and the recorded seeds' spread: neither change exceeds it.
    assert (
        "no evidence that the gap to the paper is the recipe's image size or its "
        in text
    )


def test_a_change_beyond_its_uncertainty_is_named_as_the_one_that_moved():
    rows = [
        _row("size", 70, seed=s, protocol=p)
        for s, p in [(1, 0.70), (2, 0.72), (3, 0.71)]
    ] + [
        _row("size", 105, seed=s, protocol=p)
        for s, p in [(1, 0.80), (2, 0.82), (3, 0.81)]
    ]
    text = scale_curve.scale_findings(scale_curve.scale_points(rows)).data
    assert "Seeds 1, 2, 3, paired by seed." in text
    assert "+10.0 points (95% interval +10.0 to +10.0, beyond" in text
    assert (
        "Only image size moved the protocol score beyond its uncertainty"
        in text
    )


def test_without_rows_the_findings_name_the_command_that_records_them():
    empty = {"size": [], "epochs": []}
    assert "python -m bench.scale" in scale_curve.scale_findings(empty).data


def test_the_figure_labels_every_point_and_marks_the_papers_score():
    rows = [
        _row("size", FAST.image_size, protocol=0.78, seconds=480),
        _row("size", 105, protocol=0.84, seconds=1800),
        _row("epochs", 12, protocol=0.74, seconds=240),
    ]
    points = scale_curve.scale_points(rows)
    fig = plots.scale_curve(points, {("size", 105): 0.05}, paper=92.0)
    size_ax, time_ax = fig.axes
    texts = {t.get_text() for t in time_ax.findobj(matplotlib.text.Text)}
    assert {
        f"{FAST.image_size} px",
        "105 px",
        "12 ep",
        f"{OWN_EPOCHS} ep",
    } <= texts
    assert any(line.get_ydata()[0] == 92.0 for line in size_ax.get_lines())
    assert list(size_ax.get_xticks()) == [FAST.image_size, 105]
    plt.close(fig)


def test_the_record_table_lists_every_run_with_the_command_that_repeats_it():
    rows = [
        _row(
            "size",
            105,
            protocol=0.84,
            validation_one_shot=0.9,
            command="python -m bench.scale --points size:105 --seeds 2015",
            machine="x86_64, 2 CPUs",
        )
    ]
    text = scale_curve.scale_table(rows).data
    assert "| images of 105 pixels | 2015 | 84.0 | 90.0 | 90.0 | 10.0 |" in text
    assert "`python -m bench.scale --points size:105 --seeds 2015`" in text


def test_points_with_more_seeds_are_named_and_the_others_carry_the_seed_spread(
    monkeypatch,
):
    monkeypatch.setattr(scale_curve, "seed_spread", lambda name: (0.03, 2))
    rows = [
        _row("size", size, seed=s, protocol=p)
        for size, by_seed in [
            (FAST.image_size, [(1, 0.80), (2, 0.75), (3, 0.78)]),
            (105, [(1, 0.78), (2, 0.76), (3, 0.80)]),
        ]
        for s, p in by_seed
    ] + [
        _row("size", 70, seed=1),
        _row("epochs", 6, seed=1),
        _row("epochs", 48, seed=1),
    ]
    text = scale_curve.scale_findings(scale_curve.scale_points(rows)).data
    assert text.startswith(
        f"Images of {FAST.image_size} pixels and images of 105 pixels were trained "
        "with seeds 1, 2 and 3, and two such points are compared paired by seed; every "
        "other point is one seed (1), and its uncertainty is the 3.0-point standard "
        "deviation"
    )
    # 52 -> 105 pixels, paired: +0.03, -0.01 and +0.02 points by seed.
    assert "from 77.7% to 78.0%: +0.3 points (95% interval" in text
    # The one-seed points scored 78.0% on seed 1, the 52-pixel point 80.0%: it is the best
    # on the seed they share, though its mean over three seeds is lower than 78.0%.
    assert (
        f"On seed 1, which every point was trained with, the best point, images of "
        f"{FAST.image_size} pixels, scored 80.0% on the protocol" in text
    )


def test_the_curve_is_drawn_on_the_shared_seed_and_fuller_points_beside_it():
    rows = [
        _row("size", FAST.image_size, seed=s, protocol=p, seconds=60.0 * s)
        for s, p in [(1, 0.80), (2, 0.70), (3, 0.75)]
    ] + [_row("size", 105, seed=1, protocol=0.78)]
    curve, fuller = scale_curve.split_by_seeds(scale_curve.scale_points(rows))
    own, large = curve["size"]
    assert own.protocol == {1: 0.80} and own.minutes == pytest.approx(1.0)
    assert large.protocol == {1: 0.78}
    (three,) = fuller["size"]
    assert three.estimate().mean == pytest.approx(0.75)
    fig = plots.scale_curve(
        curve,
        scale_curve.intervals(curve),
        paper=92.0,
        fuller=fuller,
        fuller_halves=scale_curve.intervals(fuller),
    )
    size_ax, _ = fig.axes
    # The line's 52-pixel point is seed 1's 80%; the diamond beside it the mean, 75%.
    heights = sorted(
        round(float(y), 3)
        for line in size_ax.get_lines()
        for y in line.get_ydata()
        if line.get_marker() in ("o", "D")
    )
    assert 80.0 in heights and 75.0 in heights
    assert "more seeds (mean): protocol" in {
        t.get_text() for t in fig.legends[0].get_texts()
    }
    plt.close(fig)
