"""The chapters write the network, and the package is made from what they write.

``siamese_utils/network.py`` is the chapters' cells marked ``# @save``
(``tools/save_cells.py``), and a chapter trains the groups it writes by passing them to the
one network builder (``Recipe.build_network(profile, groups=...)``).
"""

import pathlib
import shutil
import sys

import nbformat
import numpy as np
import pytest

from siamese_utils import experiments, model, network, profiles
from siamese_utils.recipe import recipe_for
from siamese_utils.seeding import set_seed

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import save_cells  # noqa: E402

SMOKE = profiles.get_profile("smoke")
RECORDS = ROOT / "bench" / "results" / "experiments.jsonl"


def test_the_package_network_is_exactly_the_chapters_saved_cells():
    assert save_cells.main(["--check"]) == 0, "run python tools/save_cells.py"


def test_an_edited_saved_cell_makes_the_check_fail(tmp_path):
    book = tmp_path / "book"
    shutil.copytree(ROOT / "book", book)
    path = book / "03-stem.ipynb"
    notebook = nbformat.read(path, as_version=4)
    cell = next(
        c for c in notebook.cells if c.source.startswith("# @save\ndef stem")
    )
    cell.source = cell.source.replace("kernel_size=10", "kernel_size=7")
    nbformat.write(notebook, path)
    assert save_cells.module_text(book) != save_cells.module_text(ROOT / "book")
    assert "kernel_size=7" in save_cells.module_text(book)


# Which chapter writes which part of the network, and a Keras layer its page must show.
WRITTEN_IN = {
    "02-twin.ipynb": (
        ["twin", "siamese_network", "conv_weights"],
        "keras.Input",
    ),
    "03-stem.ipynb": (
        ["stem", "conv_relu", "l2_penalty"],
        "keras.layers.Conv2D",
    ),
    "04-conv-block.ipynb": (
        ["conv_block", "conv_norm_relu"],
        "keras.layers.BatchNormalization",
    ),
    "05-encoder.ipynb": (["encoder"], "keras.layers.Dense"),
    "06-classifier.ipynb": (["L1Distance", "classifier"], "keras.layers.Dense"),
}


@pytest.mark.parametrize("name", WRITTEN_IN)
def test_each_chapter_writes_its_part_in_visible_keras_code(name):
    names, layer = WRITTEN_IN[name]
    notebook = nbformat.read(ROOT / "book" / name, as_version=4)
    saved = [
        c
        for c in notebook.cells
        if c.cell_type == "code" and c.source.startswith("# @save")
    ]
    # Shown to the reader: no cell that writes the network is folded away.
    assert all(not c.metadata.get("tags") for c in saved), name
    code = "\n".join(c.source for c in saved)
    for defined in names:
        assert f"def {defined}(" in code or f"class {defined}(" in code
        assert hasattr(network, defined)
    assert layer in code


GROUP_OF = {
    "02-twin.ipynb": '"twin": twin',
    "03-stem.ipynb": '"stem": stem',
    "04-conv-block.ipynb": '"block": conv_block',
    "05-encoder.ipynb": '"encoder": encoder',
    "06-classifier.ipynb": '"classifier": classifier',
}


@pytest.mark.parametrize("name", GROUP_OF)
def test_each_chapter_trains_the_group_its_page_defines(name):
    notebook = nbformat.read(ROOT / "book" / name, as_version=4)
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    assert "groups=" in code and GROUP_OF[name] in code


def _seven_by_seven_stem(x, *, filters, kernel_size, l2, initialisation):
    # A reader's edit: the stem's kernel fixed at 7x7, whatever the profile says.
    x = network.conv_relu(
        x,
        filters=filters,
        kernel_size=7,
        l2=l2,
        initialisation=initialisation,
        name="stem_conv",
    )
    return network.keras.layers.MaxPooling2D(2, name="stem_pool")(x)


def test_a_group_passed_by_name_is_the_one_built_and_trained():
    fast = profiles.get_profile("fast")
    recipe = recipe_for(fast, "experiment")
    built = recipe.build_network(fast, groups={"stem": _seven_by_seven_stem})
    assert model.twin_of(built).get_layer("stem_conv").kernel_size == (7, 7)
    book = model.twin_of(recipe.build_network(fast)).get_layer("stem_conv")
    assert book.kernel_size == (fast.kernel_sizes[0],) * 2


def test_unknown_or_uncallable_groups_are_refused_by_name():
    with pytest.raises(ValueError, match="Unknown network group.*'head'"):
        model.siamese_network(groups={"head": network.classifier})
    with pytest.raises(TypeError, match="'stem' must be a function"):
        model.siamese_network(groups={"stem": 7})


def test_the_book_groups_given_back_build_the_same_weights_as_the_defaults():
    groups = {
        "twin": network.twin,
        "stem": network.stem,
        "block": network.conv_block,
        "encoder": network.encoder,
        "classifier": network.classifier,
    }
    set_seed(5)
    plain = model.siamese_network(**SMOKE.network_kwargs())
    set_seed(5)
    given = model.siamese_network(**SMOKE.network_kwargs(), groups=groups)
    for a, b in zip(plain.get_weights(), given.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert experiments.edited_groups(groups) == ()


def _as_a_cell(source: str, filename: str):
    """Run ``source`` as IPython runs a cell: its text kept where inspect reads it."""
    import linecache

    linecache.cache[filename] = (
        len(source),
        None,
        source.splitlines(True),
        filename,
    )
    namespace = vars(network).copy()
    exec(compile(source, filename, "exec"), namespace)
    return namespace


def test_a_copy_of_the_books_code_is_unedited_and_a_changed_one_is_edited():
    import inspect

    source = "# @save\n" + inspect.getsource(network.stem)
    copy = _as_a_cell(source, "<cell-copy>")["stem"]
    changed = _as_a_cell(
        source.replace("MaxPooling2D(2", "MaxPooling2D(3"), "<cell-changed>"
    )["stem"]
    assert experiments.edited_groups({"stem": copy}) == ()
    assert experiments.edited_groups({"stem": changed}) == ("stem",)
    assert experiments.edited_groups({"stem": _seven_by_seven_stem}) == (
        "stem",
    )
    # Source that cannot be read counts as edited rather than silently as the book's.
    unreadable = vars(network).copy()
    exec(compile(inspect.getsource(network.stem), "<gone>", "exec"), unreadable)
    assert experiments.edited_groups({"stem": unreadable["stem"]}) == ("stem",)


def test_the_one_builder_honours_the_recipe():
    fast = profiles.get_profile("fast")
    with_norm = recipe_for(fast).build_network(fast)
    without = recipe_for(fast, "experiment").build_network(fast)
    assert "block_norm1" in [x.name for x in model.twin_of(with_norm).layers]
    assert "block_norm1" not in [x.name for x in model.twin_of(without).layers]
    assert not hasattr(model, "network_for")


def test_a_page_that_trained_an_edited_group_shows_the_records_without_checking_them():
    recorded = experiments.recorded("stem", RECORDS)
    assert recorded is not None
    # A live run far outside what the records predict, from an edited stem.
    live = experiments.Experiment(
        name="stem",
        arms=tuple(
            experiments.ArmResult(arm.label, {2015: 0.06}, {2015: 1.0})
            for arm in recorded.arms[:1]
        ),
        chance=0.05,
        pixels=0.3,
        tasks=recorded.tasks,
        steps=recorded.steps,
        profile=recorded.profile,
        edited=("stem",),
    )
    shown, note = experiments.recorded_table(live, RECORDS)
    assert shown == recorded
    assert "This page's stem differs from the book's" in note.data
    with pytest.raises(AssertionError, match="outside"):
        experiments.recorded_table(
            experiments.Experiment(**{**vars(live), "edited": ()}), RECORDS
        )


def _page_cell(name: str, starts: str) -> str:
    notebook = nbformat.read(ROOT / "book" / name, as_version=4)
    return next(c.source for c in notebook.cells if starts in c.source)


def test_the_pair_loss_written_in_chapter_2_is_keras_cross_entropy_from_logits():
    import keras

    from siamese_utils import learning

    scores = np.array([-40.0, -3.0, -0.1, 0.0, 0.2, 5.0, 40.0], "float32")
    same = np.array([1, 0, 1, 0, 1, 0, 1], "float32")
    keras_loss = keras.losses.BinaryCrossentropy(from_logits=True)(
        same[:, None], scores[:, None]
    )
    np.testing.assert_allclose(
        float(learning.pair_loss(same, scores)), float(keras_loss), rtol=1e-6
    )


def test_chapter_2s_training_step_moves_the_weights_as_keras_fit_does():
    # The page writes the step out; the package's pair training runs Keras' own. One
    # step of each, from the same weights on the same batch, must agree.
    import keras
    import tensorflow as tf

    from siamese_utils import learning, train

    chapter = recipe_for(SMOKE, "chapter")
    set_seed(11)
    page_network = chapter.build_network(SMOKE)
    set_seed(11)
    fit_network = chapter.build_network(SMOKE)
    rng = np.random.default_rng(0)
    size = SMOKE.image_size
    left, right = rng.random((2, 16, size, size, 1), dtype=np.float32)
    same = (rng.random(16) < 0.5).astype("float32")

    namespace = {
        "chapter": chapter,
        "profile": SMOKE,
        "model": model,
        "keras": keras,
        "tf": tf,
        "pair_loss": learning.pair_loss,
    }
    cell = _page_cell("02-twin.ipynb", "def train_step(")
    cell = cell.replace(
        "chapter.build_network(profile)", "page_network"
    )  # the page builds a fresh one; here it must start from the same weights
    namespace["page_network"] = page_network
    exec(cell, namespace)
    cross_entropy, penalty = namespace["train_step"](left, right, same)

    fitted = train.compile_for_verification(
        fit_network, keras.optimizers.Adam(chapter.learning_rate)
    )
    total, _accuracy = fitted.train_on_batch([left, right], same[:, None])
    assert abs(float(cross_entropy + penalty) - float(total)) < 1e-4
    for a, b in zip(page_network.get_weights(), fit_network.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_chapter_2s_gradient_split_sums_to_the_full_gradient_and_both_branches_count():
    import keras
    import tensorflow as tf

    from siamese_utils import learning

    namespace = {
        "model": model,
        "keras": keras,
        "tf": tf,
        "pair_loss": learning.pair_loss,
    }
    exec(_page_cell("02-twin.ipynb", "def branch_gradients("), namespace)
    set_seed(0)
    network = model.siamese_network(**SMOKE.network_kwargs())
    rng = np.random.default_rng(0)
    size = SMOKE.image_size
    left, right = rng.random((2, 16, size, size, 1), dtype=np.float32)
    same = rng.integers(0, 2, 16).astype(np.float32)
    parts = namespace["branch_gradients"](network, left, right, same)
    weights = model.twin_of(network).trainable_weights
    assert all(len(parts[p]) == len(weights) for p in ("full", "left", "right"))
    for full, via_left, via_right in zip(
        parts["full"], parts["left"], parts["right"]
    ):
        np.testing.assert_allclose(
            full, via_left + via_right, rtol=1e-5, atol=1e-8
        )
    assert np.linalg.norm(parts["left"][0]) > 0
    assert np.linalg.norm(parts["right"][0]) > 0
