"""The book's one rule for whether a difference is real (siamese_utils.statistics)."""

import numpy as np
import pytest

from siamese_utils.statistics import Estimate, difference, t_quantile


def test_t_quantiles_shrink_towards_the_normal_one_and_never_undercut_it():
    values = [t_quantile(d) for d in range(1, 200)]
    assert values == sorted(values, reverse=True) and values[-1] == 1.96
    assert np.isclose(t_quantile(2), 4.303)
    assert t_quantile(25) == t_quantile(20)  # between entries: the wider one
    with pytest.raises(ValueError, match="two seeds"):
        t_quantile(0)


def test_seeds_in_common_are_paired_and_the_others_left_out():
    after = Estimate.over({1: 0.80, 2: 0.82, 3: 0.84, 4: 0.5}, "seed")
    before = Estimate.over({1: 0.70, 2: 0.71, 3: 0.75}, "seed")
    change = difference(after, before)
    assert change.paired and change.clusters == 3
    assert change.mean == pytest.approx(0.1)
    low, high = change.interval
    assert 0 < low < 0.1 < high  # three consistent gains: beyond zero
    assert change.beyond_uncertainty
    assert "beyond its uncertainty" in change.describe()


def test_pairing_removes_what_two_arms_share():
    # Seed 2 is hard for both arms: unpaired, the spread hides a steady +2-point gain.
    before = {1: 0.70, 2: 0.60, 3: 0.75}
    after = {s: v + 0.02 for s, v in before.items()}
    paired = difference(
        Estimate.over(after, "seed"), Estimate.over(before, "seed")
    )
    unpaired = difference(
        Estimate.over(dict(zip("abc", after.values())), "seed"),
        Estimate.over(before, "seed"),
    )
    assert paired.beyond_uncertainty and not unpaired.beyond_uncertainty


def test_one_seed_without_a_recorded_spread_gets_no_verdict():
    change = difference(
        Estimate.over({1: 0.8}, "seed"), Estimate.over({1: 0.7}, "seed")
    )
    assert change.interval is None and not change.beyond_uncertainty
    assert "no verdict" in change.describe()


def test_single_runs_carry_the_spread_another_seed_would_show():
    # Two one-seed runs 6 points apart, when seeds of the recipe spread by 3.9 points:
    # the difference is well inside what reseeding alone moves.
    change = difference(
        Estimate.single_run(0.84, 0.039, 2), Estimate.single_run(0.78, 0.039, 2)
    )
    half = 4.303 * np.hypot(0.039, 0.039)
    assert change.interval == pytest.approx((0.06 - half, 0.06 + half))
    assert not change.beyond_uncertainty


def test_a_recipe_over_seeds_is_a_mean_and_one_seed_borrows_the_recorded_spread():
    three = Estimate.over_seeds({2015: 0.80, 2016: 0.84, 2017: 0.82}, (0.05, 9))
    assert three == Estimate.over({2015: 0.80, 2016: 0.84, 2017: 0.82}, "seed")
    one = Estimate.over_seeds({2015: 0.80}, (0.05, 9))
    assert (one.mean, one.standard_error, one.degrees_of_freedom) == (
        0.80,
        0.05,
        9,
    )
    assert Estimate.over_seeds({2015: 0.80}).half_width is None


def test_tasks_are_the_clusters_of_one_network():
    # 20 tasks of 20 trials: whole tasks right or wrong make a wide interval, the same
    # number of right trials spread evenly over the tasks a narrow one.
    lumpy = np.repeat([1.0] * 15 + [0.0] * 5, 20)
    even = np.tile([1.0] * 15 + [0.0] * 5, 20)
    assert (
        Estimate.over_tasks(lumpy).mean
        == Estimate.over_tasks(even).mean
        == 0.75
    )
    assert Estimate.over_tasks(lumpy).standard_error > 0.05
    assert Estimate.over_tasks(even).standard_error == 0
    with pytest.raises(ValueError, match="whole tasks of 20"):
        Estimate.over_tasks(np.ones(30))


def test_a_recorded_interval_gives_back_its_standard_error():
    estimate = Estimate.from_interval(0.78, 0.78 - 0.0392, 0.78 + 0.0392, 200)
    assert estimate.standard_error == pytest.approx(0.02)
    assert estimate.degrees_of_freedom == 199 and estimate.unit == "task"


def test_seeds_and_tasks_are_never_mixed():
    with pytest.raises(ValueError, match="seeds with seeds"):
        difference(
            Estimate.over_tasks(np.ones(40)),
            Estimate.over({1: 0.5, 2: 0.6}, "seed"),
        )
