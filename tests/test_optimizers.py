"""The paper's optimiser: each layer moves by its own rate, which decays; momentum rises."""

import numpy as np
import pytest

from siamese_utils import model, optimizers

RATES = {
    "stem_conv": 0.1,
    "block_conv1": 0.05,
    "encoder_dense": 0.02,
    "*": 0.01,
}


def _small_network():
    return model.siamese_network(
        input_shape=(20, 20, 1),
        filters=(4, 4, 4),
        kernel_sizes=(5, 3, 2),
        embedding_units=8,
    )


def _apply(optimizer, network, gradients):
    optimizer.apply_gradients(zip(gradients, network.trainable_variables))


def test_one_step_moves_each_layer_by_its_own_learning_rate():
    network = _small_network()
    optimizer = optimizers.LayerwiseSGD(RATES, {"*": 0.9}, steps_per_epoch=10)
    before = [np.array(v) for v in network.trainable_variables]
    gradients = [
        np.full(v.shape, 2.0, "float32") for v in network.trainable_variables
    ]
    _apply(optimizer, network, gradients)
    for variable, old in zip(network.trainable_variables, before):
        rate = RATES.get(optimizers.layer_of(variable), RATES["*"])
        # First step: the velocity starts at zero, so the move is -rate * gradient.
        np.testing.assert_allclose(
            np.array(variable) - old,
            -rate * 2.0,
            rtol=1e-4,
            err_msg=variable.path,
        )


def test_learning_rate_decays_one_percent_per_epoch_and_momentum_rises_linearly():
    network = _small_network()
    optimizer = optimizers.LayerwiseSGD(
        {"*": 0.1}, {"*": 0.9}, steps_per_epoch=2, momentum_epochs=4
    )
    gradients = [
        np.zeros(v.shape, "float32") for v in network.trainable_variables
    ]
    seen = []
    for _ in range(12):
        rate, momentum = optimizer.rate_and_momentum(0.1, 0.9)
        seen.append((float(rate), float(momentum)))
        _apply(optimizer, network, gradients)
    epochs = [seen[step] for step in range(0, 12, 2)]
    np.testing.assert_allclose(
        [r for r, _ in epochs], [0.1 * 0.99**e for e in range(6)], rtol=1e-5
    )
    np.testing.assert_allclose(
        [m for _, m in epochs], [0.5, 0.6, 0.7, 0.8, 0.9, 0.9], rtol=1e-5
    )
    assert seen[0] == seen[1]  # within an epoch nothing changes


def test_momentum_carries_the_previous_step():
    network = _small_network()
    optimizer = optimizers.LayerwiseSGD(
        {"*": 0.1}, {"*": 0.9}, steps_per_epoch=100
    )
    variable = network.trainable_variables[0]
    start = np.array(variable)
    gradients = [
        np.ones(v.shape, "float32") for v in network.trainable_variables
    ]
    _apply(optimizer, network, gradients)
    _apply(optimizer, network, gradients)
    # v1 = -0.1, v2 = 0.5 * v1 - 0.1 = -0.15: two steps move by 0.25 in all.
    np.testing.assert_allclose(np.array(variable) - start, -0.25, rtol=1e-4)


def test_a_layer_without_a_rate_is_named_in_the_error():
    network = _small_network()
    optimizer = optimizers.LayerwiseSGD(
        {"stem_conv": 0.1}, {"*": 0.9}, steps_per_epoch=1
    )
    with pytest.raises(ValueError, match="block_conv1"):
        optimizer.build(network.trainable_variables)


@pytest.mark.parametrize(
    "rates, momenta", [({"*": -0.1}, {"*": 0.9}), ({"*": 0.1}, {"*": 1.5})]
)
def test_out_of_range_settings_are_refused(rates, momenta):
    with pytest.raises(ValueError, match="must lie in"):
        optimizers.LayerwiseSGD(rates, momenta, steps_per_epoch=1)


def test_the_optimizer_round_trips_through_its_config():
    optimizer = optimizers.LayerwiseSGD(
        RATES, {"*": 0.8}, steps_per_epoch=5, momentum_epochs=3
    )
    copy = optimizers.LayerwiseSGD.from_config(optimizer.get_config())
    assert copy.learning_rates == RATES and copy.momenta == {"*": 0.8}
    assert (copy.steps_per_epoch, copy.momentum_epochs, copy.decay) == (
        5,
        3,
        0.99,
    )


def test_per_layer_l2_weights_reach_each_layer():
    network = model.siamese_network(
        input_shape=(20, 20, 1),
        filters=(4, 4, 4),
        kernel_sizes=(5, 3, 2),
        embedding_units=8,
        l2={"stem_conv": 0.5, "*": 0.0},
    )
    kernel = model.twin_of(network).get_layer("stem_conv").kernel
    expected = 0.5 * float(np.sum(np.square(np.array(kernel))))
    # Both branches share the twin, so its penalty is counted once.
    assert float(
        sum(np.sum(np.array(loss)) for loss in network.losses)
    ) == pytest.approx(expected, rel=1e-4)
    with pytest.raises(ValueError, match="block_conv1"):
        model.siamese_network(
            input_shape=(20, 20, 1),
            filters=(4, 4),
            kernel_sizes=(5, 3),
            embedding_units=8,
            l2={"stem_conv": 0.1},
        )
