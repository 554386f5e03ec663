"""Training the verifier: it runs the steps it promises, learns, and repeats itself."""

import dataclasses

import numpy as np
import pytest

from siamese_utils import (
    anatomy,
    data,
    embeddings,
    model,
    profiles,
    sampling,
    train,
)
from siamese_utils.recipe import recipe_for
from siamese_utils.seeding import set_seed

SMOKE = profiles.get_profile("smoke")
CHAPTER = recipe_for(SMOKE, "chapter")  # the smoke profile's pairs run
SWEEP = recipe_for(SMOKE, "sweep")  # its all-pairs run


def _train(background, evaluation, seed, recipe=CHAPTER):
    set_seed(seed)
    network = model.siamese_network(**SMOKE.network_kwargs())
    validation = evaluation.select_alphabets(data.VALIDATION_ALPHABETS)
    return train.train_verification(
        network,
        background,
        validation,
        SMOKE,
        seed=seed,
        recipe=recipe,
        verbose=False,
    )


def test_history_has_one_entry_per_epoch_for_each_metric(
    background, evaluation
):
    run = _train(background, evaluation, seed=0)
    assert run.steps == CHAPTER.max_epochs * CHAPTER.steps_per_epoch
    assert set(run.history) == {
        "loss",
        "accuracy",
        "val_loss",
        "val_accuracy",
        "val_cross_entropy",  # val_loss without the penalty
        "l2_penalty",
    }
    assert all(
        len(values) == CHAPTER.max_epochs for values in run.history.values()
    )
    assert run.seconds > 0 and run.pairs_per_second > 0
    # The plots draw the validation loss's two parts apart; together they are the loss.
    np.testing.assert_allclose(
        run.history["val_loss"],
        np.add(run.history["val_cross_entropy"], run.history["l2_penalty"]),
        rtol=1e-6,
    )


def test_a_seeded_run_gives_the_same_numbers_twice(background, evaluation):
    first = _train(background, evaluation, seed=5)
    second = _train(background, evaluation, seed=5)
    assert first.history == second.history


def test_training_lowers_the_loss(background, evaluation):
    longer = dataclasses.replace(
        CHAPTER, max_epochs=2, steps_per_epoch=50, learning_rate=3e-3
    )
    run = _train(background, evaluation, seed=1, recipe=longer)
    assert run.history["loss"][-1] < run.history["loss"][0]


def test_non_positive_learning_rate_is_refused():
    with pytest.raises(ValueError, match="learning_rate"):
        train.compile_for_verification(
            model.siamese_network(**SMOKE.network_kwargs()), 0.0
        )


def test_batch_norm_statistics_catch_up_with_the_papers_tiny_activations(
    background, evaluation
):
    # The paper's N(0, 1e-2) weights give block outputs with a variance far below the running
    # estimate's starting value of 1; after a short run, inference must see what training saw.
    set_seed(2)
    network = model.siamese_network(
        **{**SMOKE.network_kwargs(), "batch_norm": True}
    )
    longer = dataclasses.replace(CHAPTER, max_epochs=1, steps_per_epoch=40)
    validation = evaluation.select_alphabets(data.VALIDATION_ALPHABETS)
    train.train_verification(
        network,
        background,
        validation,
        SMOKE,
        seed=2,
        recipe=longer,
        verbose=False,
    )
    twin = model.twin_of(network)
    images = background.images[:256]
    for position in (1, 2, 3):
        outputs = anatomy.feature_maps(network, images, f"block_conv{position}")
        ratio = twin.get_layer(
            f"block_norm{position}"
        ).moving_variance.numpy() / outputs.var(axis=(0, 1, 2))
        assert 0.2 < np.median(ratio) < 5.0, (position, np.median(ratio))


def test_all_pairs_trainer_scores_every_pair_once_with_the_networks_own_head(
    background,
):
    set_seed(4)
    network = model.siamese_network(**SMOKE.network_kwargs())
    images = background.images[:6]
    trainer = train.AllPairsTrainer(network, batch_size=6)
    logits = np.asarray(trainer(images))
    assert logits.shape == (15,)  # 6 * 5 / 2 pairs
    left, right = np.triu_indices(6, k=1)
    expected = network.predict([images[left], images[right]], verbose=0)[:, 0]
    np.testing.assert_allclose(
        1 / (1 + np.exp(-logits)), expected, rtol=1e-5, atol=1e-6
    )


def test_all_pairs_labels_mark_pairs_of_one_character():
    trainer = train.AllPairsTrainer(
        model.siamese_network(**SMOKE.network_kwargs()), batch_size=4
    )
    labels = np.asarray(trainer.pair_labels(np.array([7, 7, 9, 7])))
    # Pairs in order (0,1) (0,2) (0,3) (1,2) (1,3) (2,3).
    np.testing.assert_array_equal(labels, [1, 0, 1, 0, 1, 0])


def test_all_pairs_loss_weighs_positives_and_negatives_equally():
    network = model.siamese_network(**SMOKE.network_kwargs())
    trainer = train.AllPairsTrainer(network, batch_size=4)
    characters = np.array([7, 7, 9, 7])  # three positive pairs, three negative
    confident_wrong_on_negatives = np.full(
        6, np.log(0.9 / 0.1), np.float32
    )  # p = 0.9 everywhere
    loss = float(
        trainer.compute_loss(y=characters, y_pred=confident_wrong_on_negatives)
    )
    penalty = float(sum(np.asarray(term) for term in trainer.losses))
    assert loss - penalty == pytest.approx(
        0.5 * (-np.log(0.9)) + 0.5 * (-np.log(0.1)), rel=1e-5
    )


def test_the_ranking_loss_is_the_softmax_of_each_positive_against_its_anchors_negatives():
    trainer = train.AllPairsTrainer(
        model.siamese_network(**SMOKE.network_kwargs()),
        batch_size=4,
        loss="ranking",
    )
    characters = np.array([7, 7, 9, 7])
    # Pairs in order (0,1) (0,2) (0,3) (1,2) (1,3) (2,3).
    logits = np.array([2.0, 0.5, 1.0, -1.0, 0.0, 3.0], np.float32)
    s = {
        (0, 1): 2.0,
        (0, 2): 0.5,
        (0, 3): 1.0,
        (1, 2): -1.0,
        (1, 3): 0.0,
        (2, 3): 3.0,
    }
    s.update({(j, i): v for (i, j), v in list(s.items())})
    # Images 0, 1 and 3 show character 7, and image 2 is each one's only negative; image 2
    # has no positive, so it anchors nothing.
    expected = np.mean(
        [
            np.log1p(np.exp(s[i, 2] - s[i, j]))
            for i in (0, 1, 3)
            for j in (0, 1, 3)
            if i != j
        ]
    )
    assert float(trainer.ranking_loss(characters, logits)) == pytest.approx(
        expected, rel=1e-5
    )
    shifted = float(trainer.ranking_loss(characters, logits + 5.0))
    assert shifted == pytest.approx(
        expected, rel=1e-5
    )  # a shared offset changes no ranking


def test_the_ranking_loss_never_moves_the_threshold(background):
    import tensorflow as tf

    set_seed(5)
    network = model.siamese_network(**SMOKE.network_kwargs())
    trainer = train.AllPairsTrainer(network, batch_size=6, loss="ranking")
    first, second = np.unique(background.characters)[:2]
    chosen = np.concatenate(
        [
            np.flatnonzero(background.characters == c)[:3]
            for c in (first, second)
        ]
    )
    with tf.GradientTape() as tape:
        loss = trainer.ranking_loss(
            background.characters[chosen], trainer(background.images[chosen])
        )
    gradient = tape.gradient(loss, network.get_layer(model.SCORE_LAYER).bias)
    assert float(np.abs(np.asarray(gradient)).max()) < 1e-6
    # And the optimiser never sees it: the ranking trainer freezes the bias.
    bias = network.get_layer(model.SCORE_LAYER).bias
    assert not bias.trainable
    assert all(v is not bias for v in trainer.trainable_variables)


def test_calibration_moves_only_the_threshold_to_where_pairs_are_best_told_apart(
    background,
):
    set_seed(8)
    network = model.siamese_network(**SMOKE.network_kwargs())
    (left, right), same = sampling.pair_arrays(background, 64, seed=8)
    bias = network.get_layer(model.SCORE_LAYER).bias
    bias.assign(
        np.asarray(bias) + 40.0
    )  # a threshold far off, as the ranking loss may leave it
    distances = np.abs(
        embeddings.embed(network, left) - embeddings.embed(network, right)
    )
    before = np.asarray(model.similarity_logits(network, distances))
    assert (
        network.predict([left, right], verbose=0).min() > 0.99
    )  # every pair called "same"
    shift = train.calibrate_threshold(network, (left, right), same)
    logits = np.asarray(model.similarity_logits(network, distances))
    assert shift < -30.0
    # Every score moves by the same shift, so the order of the pairs is kept and no one-shot
    # answer changes ...
    np.testing.assert_allclose(logits - before, shift, atol=1e-3)
    # ... and the balanced cross-entropy is at its least: a small step either way raises it.

    def loss(offset):
        return float(
            train.balanced_cross_entropy(
                logits + offset, same[:, 0].astype("float32")
            )
        )

    assert loss(0.0) <= min(loss(-0.05), loss(0.05)) + 1e-6


def test_an_unknown_all_pairs_loss_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="balanced-bce"):
        train.AllPairsTrainer(
            model.siamese_network(**SMOKE.network_kwargs()),
            batch_size=4,
            loss="triplet",
        )


def test_all_pairs_training_records_the_same_history_as_pair_training(
    background, evaluation
):
    set_seed(6)
    network = model.siamese_network(**SMOKE.network_kwargs())
    validation = evaluation.select_alphabets(data.VALIDATION_ALPHABETS)
    run = train.train_all_pairs(
        network, background, validation, SMOKE, seed=6, verbose=False
    )
    assert {"loss", "val_loss", "val_accuracy"} <= set(run.history)
    assert all(
        len(run.history[key]) == SWEEP.max_epochs
        for key in ("loss", "val_loss", "val_accuracy")
    )
    episode_images = SWEEP.episode_size
    assert run.images_per_second == pytest.approx(
        run.steps * episode_images / run.seconds
    )
    assert run.pairs_per_second == pytest.approx(
        run.steps * episode_images * (episode_images - 1) / 2 / run.seconds
    )


def test_all_pairs_training_learns_and_repeats_itself(background, evaluation):
    longer = dataclasses.replace(
        SWEEP, max_epochs=2, steps_per_epoch=30, learning_rate=3e-3
    )
    runs = []
    for _ in range(2):
        set_seed(7)
        network = model.siamese_network(**SMOKE.network_kwargs())
        validation = evaluation.select_alphabets(data.VALIDATION_ALPHABETS)
        runs.append(
            train.train_all_pairs(
                network,
                background,
                validation,
                SMOKE,
                seed=7,
                recipe=longer,
                verbose=False,
            )
        )
    assert runs[0].history == runs[1].history
    assert runs[0].history["loss"][-1] < runs[0].history["loss"][0]


def test_the_fast_profiles_network_gives_the_same_metrics_twice(
    background, evaluation
):
    # The fast profile's own network and episodes, cut to a few steps: determinism does not
    # depend on how long a run is, and the full run is the book's (chapter 6).
    from siamese_utils import evaluate

    fast = dataclasses.replace(
        profiles.get_profile("fast"),
        image_size=32,
        kernel_sizes=(5, 3, 3, 2),
        validation_pairs=64,
    )
    sweep = dataclasses.replace(
        recipe_for(fast, "sweep"), max_epochs=2, steps_per_epoch=3
    )
    validation = evaluation.select_alphabets(data.VALIDATION_ALPHABETS)
    trials = evaluate.paper_protocol_trials(evaluation, num_trials=40, seed=1)
    outcomes = []
    for _ in range(2):
        set_seed(11)
        network = model.siamese_network(**fast.network_kwargs())
        run = train.train_all_pairs(
            network,
            background,
            validation,
            fast,
            seed=11,
            recipe=sweep,
            verbose=False,
        )
        outcomes.append(
            (run.history, evaluate.one_shot(network, trials).scores)
        )
    assert outcomes[0][0] == outcomes[1][0]
    np.testing.assert_array_equal(outcomes[0][1], outcomes[1][1])


def test_a_chapter_run_refuses_a_recipe_it_cannot_follow(
    background, evaluation
):
    network = model.siamese_network(**SMOKE.network_kwargs())
    with pytest.raises(ValueError, match="use train_all_pairs"):
        train.train_verification(
            network, background, evaluation, SMOKE, seed=0, recipe=SWEEP
        )
    distorted = recipe_for(
        SMOKE, "reproduction"
    )  # pairs with the paper's distortions
    with pytest.raises(ValueError, match="undistorted"):
        train.train_verification(
            network, background, evaluation, SMOKE, seed=0, recipe=distorted
        )
