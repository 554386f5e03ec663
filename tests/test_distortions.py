"""The paper's affine distortions: right ranges, each part used half the time, seeded."""

import numpy as np
import pytest

from siamese_utils import distortions


def test_parameters_stay_inside_the_papers_ranges():
    values = distortions.sample_parameters(20_000, np.random.default_rng(0))
    assert np.abs(values["rotation"]).max() <= 10.0
    assert (
        np.abs(values["shear_x"]).max() <= 0.3
        and np.abs(values["shear_y"]).max() <= 0.3
    )
    for axis in ("scale_x", "scale_y"):
        assert 0.8 <= values[axis].min() and values[axis].max() <= 1.2
    assert (
        np.abs(values["shift_x"]).max() <= 2.0
        and np.abs(values["shift_y"]).max() <= 2.0
    )


def test_each_component_is_used_with_probability_one_half():
    values = distortions.sample_parameters(20_000, np.random.default_rng(1))
    for name in distortions.COMPONENTS:
        used = np.mean(values[name] != distortions.IDENTITY[name])
        assert used == pytest.approx(0.5, abs=0.02), name


def test_the_same_seed_gives_the_same_distortions_and_another_seed_others():
    first = distortions.sample_transforms(64, 52, seed=7)
    assert np.array_equal(first, distortions.sample_transforms(64, 52, seed=7))
    assert not np.array_equal(
        first, distortions.sample_transforms(64, 52, seed=8)
    )


def test_identity_rows_leave_images_unchanged():
    images = np.random.default_rng(0).random((3, 16, 16, 1)).astype("float32")
    warped = np.asarray(
        distortions.distort(images, distortions.identity_transforms(3))
    )
    np.testing.assert_allclose(warped, images, atol=1e-6)


def test_a_shift_moves_ink_by_the_shift_scaled_to_the_image():
    image = np.zeros((1, 21, 21, 1), "float32")
    image[0, 10, 10, 0] = 1.0
    parameters = {
        k: np.array([v], float) for k, v in distortions.IDENTITY.items()
    }
    # 2 pixels at 105x105 are 2 * 21 / 105 = 0.4 pixels here; 10 paper pixels are 2 pixels.
    parameters["shift_x"] = np.array([10.0])
    parameters["shift_y"] = np.array([-10.0])
    transform = distortions.transforms_from_parameters(parameters, 21)
    warped = np.asarray(distortions.distort(image, transform))[0, :, :, 0]
    assert tuple(np.argwhere(warped > 0.5)[0]) == (
        8,
        12,
    )  # (row - 2, column + 2)


def test_a_rotation_by_ninety_degrees_turns_the_image_about_its_centre():
    image = np.zeros((1, 11, 11, 1), "float32")
    image[0, 5, 8, 0] = 1.0  # right of the centre
    parameters = {
        k: np.array([v], float) for k, v in distortions.IDENTITY.items()
    }
    parameters["rotation"] = np.array([90.0])
    warped = np.asarray(
        distortions.distort(
            image, distortions.transforms_from_parameters(parameters, 11)
        )
    )
    assert tuple(np.argwhere(warped[0, :, :, 0] > 0.5)[0]) in {(8, 5), (2, 5)}
    assert warped.sum() == pytest.approx(
        1.0, abs=1e-4
    )  # nothing lost, nothing smeared


def test_background_stays_empty_where_the_image_moves_in_from_outside():
    image = np.ones((1, 12, 12, 1), "float32")
    parameters = {
        k: np.array([v], float) for k, v in distortions.IDENTITY.items()
    }
    parameters["scale_x"] = parameters["scale_y"] = np.array([0.8])
    warped = np.asarray(
        distortions.distort(
            image, distortions.transforms_from_parameters(parameters, 12)
        )
    )
    assert warped[0, 0, 0, 0] == 0.0 and warped[0, 6, 6, 0] == pytest.approx(
        1.0
    )


@pytest.mark.parametrize(
    "kwargs",
    [{"probability": 1.5}, {"scale": (1.2, 0.8)}, {"rotation_degrees": -1.0}],
)
def test_impossible_ranges_are_refused(kwargs):
    with pytest.raises(ValueError):
        distortions.AffineRanges(**kwargs)


# The pool: every training image warped a fixed number of times, once --------------------


@pytest.fixture(scope="module")
def characters():
    rng = np.random.default_rng(0)
    return (rng.random((5, 20, 20, 1)) > 0.7).astype("float32")


def test_a_pool_holds_each_image_then_its_distortions_as_bytes(characters):
    pool = distortions.warp_copies(
        characters, 3, np.random.default_rng(1), batch=4
    )
    assert pool.shape == (5, 4, 20, 20, 1) and pool.dtype == np.uint8
    assert np.array_equal(pool[:, 0], characters * 255)
    # A distortion is the identity when none of its seven parts is drawn (1 in 128).
    moved = [
        not np.array_equal(version, versions[0])
        for versions in pool
        for version in versions[1:]
    ]
    assert sum(moved) >= 13
    # Version j of image i is the (i * copies + j - 1)-th distortion drawn.
    transforms = distortions.sample_transforms(15, 20, np.random.default_rng(1))
    expected = np.asarray(
        distortions.distort(np.repeat(characters, 3, axis=0), transforms)
    ).reshape(5, 3, 20, 20, 1)
    np.testing.assert_allclose(
        pool[:, 1:] / distortions.POOL_LEVELS, expected, atol=0.5 / 255 + 1e-6
    )


def test_the_same_generator_seed_gives_the_same_pool(characters):
    first, again, other = (
        distortions.warp_copies(characters, 2, np.random.default_rng(s))
        for s in (4, 4, 5)
    )
    assert np.array_equal(first, again) and not np.array_equal(first, other)


@pytest.mark.parametrize(
    "images, copies, message",
    [
        (np.zeros((2, 8, 8, 1)), 0, "at least one distortion"),
        (np.full((2, 8, 8, 1), 255.0), 8, r"lie in \[0, 1\]"),
        (np.full((2, 8, 8, 1), -1.0), 8, r"lie in \[0, 1\]"),
    ],
)
def test_a_pool_refuses_no_copies_and_images_outside_zero_one(
    images, copies, message
):
    with pytest.raises(ValueError, match=message):
        distortions.warp_copies(images, copies, np.random.default_rng(0))
