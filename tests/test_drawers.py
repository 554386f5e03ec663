"""Who drew each image: the shipped drawer table gives tfds' images their drawers back."""

import pathlib
import zipfile

import numpy as np
import pytest

from siamese_utils import data, drawers, evaluate

ARCHIVES = (
    pathlib.Path(__file__).resolve().parents[2] / "shared" / "data" / "omniglot"
)
needs_archives = pytest.mark.skipif(
    not (ARCHIVES / "images_background.zip").exists(),
    reason="the original Omniglot archives are not beside the checkout",
)


def test_the_table_has_twenty_distinct_drawings_per_character():
    table = drawers.load_table()
    assert table.shape == (1623, 20)
    # One pair of identical drawings in all Omniglot: character 0192, drawers 3 and 19.
    assert len(np.unique(table)) == 1623 * 20 - 1
    assert table[191, 2] == table[191, 18]


def test_every_tfds_image_gets_each_of_its_characters_twenty_drawers_once(
    background, evaluation
):
    for split in (background, evaluation):
        cells = split.characters * 20 + split.drawers
        assert len(np.unique(cells)) == len(split)
        assert np.array_equal(
            np.bincount(split.drawers), np.full(20, split.num_characters)
        )


@needs_archives
def test_the_table_is_what_the_original_archives_file_names_say():
    np.testing.assert_array_equal(
        drawers.table_from_archives(ARCHIVES), drawers.load_table()
    )


@needs_archives
def test_tfds_images_carry_the_pixels_of_the_archive_file_of_their_drawer():
    # Decode a sample of archive files named NNNN_MM.png and find the tfds image of the same
    # character and drawer: the pixels must be identical.
    split = data.load_split("test", 105)
    with zipfile.ZipFile(ARCHIVES / "images_evaluation.zip") as archive:
        names = sorted(n for n in archive.namelist() if n.endswith(".png"))[
            ::997
        ]
        for name in names:
            label, drawer = (int(part) - 1 for part in name[-11:-4].split("_"))
            position = np.flatnonzero(
                (split.characters == label) & (split.drawers == drawer)
            )
            assert len(position) == 1, name
            ink = drawers._decode(archive.read(name)) < 128
            assert np.array_equal(
                split.images[position[0], ..., 0] > 0.5, ink
            ), name


def test_an_image_that_is_not_an_omniglot_original_is_refused():
    blank = np.full((1, 105, 105), 255, np.uint8)
    with pytest.raises(
        ValueError, match="match none of their character's 20 drawings"
    ):
        drawers.assign_drawers([0], drawers.fingerprint(blank))


def test_the_official_runs_come_from_evaluation_drawers_one_to_eight():
    runs = evaluate.official_runs(image_size=105)
    labels, found = drawers.locate_images(runs.images)
    assert (labels >= 964).all()  # every image is an evaluation character
    assert set(found.tolist()) <= set(range(8))


def test_the_split_keeps_validation_and_test_drawers_out_of_training(
    background,
):
    train = background.select_drawers(data.TRAINING_DRAWERS)
    assert set(np.unique(train.drawers)) == set(range(12))
    assert not set(data.VALIDATION_DRAWERS + data.TEST_DRAWERS) & set(
        np.unique(train.drawers)
    )


def test_paper_protocol_tasks_take_queries_from_one_test_drawer_and_candidates_from_another():
    test = data.load_split("test", 105).select_drawers(data.TEST_DRAWERS)
    trials = evaluate.paper_protocol_trials(
        test, n_way=20, num_trials=80, seed=3
    )
    _, drawer_of = drawers.locate_images(trials.images)
    for task in range(4):
        rows = slice(20 * task, 20 * (task + 1))
        query_drawers = set(drawer_of[trials.queries[rows]].tolist())
        candidate_drawers = set(
            drawer_of[trials.candidates[rows]].ravel().tolist()
        )
        assert len(query_drawers) == len(candidate_drawers) == 1
        assert query_drawers != candidate_drawers
        assert query_drawers | candidate_drawers <= set(data.TEST_DRAWERS)
