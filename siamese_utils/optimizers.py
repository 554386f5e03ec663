"""The paper's optimiser: SGD with momentum, a learning rate and a momentum per layer.

Koch et al. (2015, Section 3.2) give every layer ``j`` its own learning rate ``eta_j`` and
final momentum ``mu_j``. The learning rates decay by 1% per epoch
(``eta_j(T) = 0.99 eta_j(T - 1)``); every layer's momentum starts at 0.5 and rises linearly,
epoch by epoch, to its ``mu_j``. Keras' optimisers have one learning rate for all
variables, so :class:`LayerwiseSGD` looks up each variable's layer when it builds its
slots, and computes that layer's rate and momentum for the current epoch from its own
step counter, in ``keras.ops`` (so it runs on any backend, and a restored optimiser resumes
the schedule where it stopped). The schedule and the momentum step themselves are chapter
6's code (:func:`siamese_utils.learning.paper_schedule` and
:func:`~siamese_utils.learning.momentum_step`).

The paper found its per-layer values by Bayesian optimisation and did not publish them;
the values the reproduction uses are in :mod:`siamese_utils.recipe`.
"""

from __future__ import annotations

import keras
from keras import ops

from siamese_utils.learning import momentum_step, paper_schedule


def layer_of(variable) -> str:
    """Name of the layer that owns ``variable`` (its path is ``.../layer/variable``)."""
    parts = variable.path.split("/")
    return parts[-2] if len(parts) >= 2 else parts[-1]


@keras.saving.register_keras_serializable(package="siamese_utils")
class LayerwiseSGD(keras.optimizers.Optimizer):
    """SGD with momentum whose learning rate and final momentum depend on the layer.

    At step ``t`` (epoch ``e = t // steps_per_epoch``), a variable of layer ``j`` moves by
    ``v <- mu_j(e) v - eta_j(e) g`` and ``w <- w + v``, with

    * ``eta_j(e) = learning_rates[j] * decay ** e``, and
    * ``mu_j(e) = initial_momentum + (momenta[j] - initial_momentum) * min(e / momentum_epochs, 1)``.

    Args:
        learning_rates: layer name -> ``eta_j``; the key ``"*"`` is used for layers not
            named (without it, an unnamed layer is an error when the optimiser is built).
        momenta: layer name -> final momentum ``mu_j`` (same ``"*"`` rule).
        steps_per_epoch: steps of one epoch of the schedule.
        decay: learning-rate factor per epoch (the paper's 0.99).
        initial_momentum: every layer's momentum in epoch 0 (the paper's 0.5).
        momentum_epochs: epochs the momentum takes to reach ``mu_j``.
    """

    def __init__(
        self,
        learning_rates: dict[str, float],
        momenta: dict[str, float],
        steps_per_epoch: int,
        decay: float = 0.99,
        initial_momentum: float = 0.5,
        momentum_epochs: int = 10,
        name: str = "layerwise_sgd",
        **kwargs,
    ):
        # The rates are per layer; the base one is unused.
        kwargs.pop("learning_rate", None)
        super().__init__(learning_rate=1.0, name=name, **kwargs)
        for label, table, low, high in (
            ("learning rate", learning_rates, 0.0, float("inf")),
            ("momentum", momenta, 0.0, 1.0),
        ):
            bad = {
                k: v for k, v in table.items() if not low <= float(v) <= high
            }
            if bad:
                raise ValueError(
                    f"Every {label} must lie in [{low}, {high}]; got {bad}."
                )
        if not isinstance(steps_per_epoch, int) or steps_per_epoch < 1:
            raise ValueError(
                f"steps_per_epoch must be a positive integer, got {steps_per_epoch!r}."
            )
        if not isinstance(momentum_epochs, int) or momentum_epochs < 1:
            raise ValueError(
                f"momentum_epochs must be a positive integer, got {momentum_epochs!r}."
            )
        self.learning_rates = {
            str(k): float(v) for k, v in learning_rates.items()
        }
        self.momenta = {str(k): float(v) for k, v in momenta.items()}
        self.steps_per_epoch = steps_per_epoch
        self.decay = float(decay)
        self.initial_momentum = float(initial_momentum)
        self.momentum_epochs = momentum_epochs

    @staticmethod
    def _lookup(table: dict[str, float], layer: str, label: str) -> float:
        if layer in table:
            return table[layer]
        if "*" in table:
            return table["*"]
        raise ValueError(
            f"No {label} for layer {layer!r}. Give one per layer or a default under '*'; "
            f"the table names {sorted(table)}."
        )

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._rates = [
            self._lookup(self.learning_rates, layer_of(v), "learning rate")
            for v in variables
        ]
        self._finals = [
            self._lookup(self.momenta, layer_of(v), "momentum")
            for v in variables
        ]
        self.velocities = self.add_optimizer_variables(variables, "velocity")

    def epoch(self):
        """The schedule's current epoch, as a float tensor."""
        return ops.floor(
            ops.cast(self.iterations, "float32") / float(self.steps_per_epoch)
        )

    def rate_and_momentum(self, base_rate: float, final_momentum: float):
        """``(eta_j, mu_j)`` of a layer with these settings, at this epoch."""
        return paper_schedule(
            self.epoch(),
            base_rate,
            final_momentum,
            decay=self.decay,
            initial_momentum=self.initial_momentum,
            momentum_epochs=self.momentum_epochs,
        )

    def update_step(self, gradient, variable, learning_rate):
        index = self._get_variable_index(variable)
        rate, momentum = self.rate_and_momentum(
            self._rates[index], self._finals[index]
        )
        velocity = self.velocities[index]
        weight, moved = momentum_step(
            variable,
            velocity,
            ops.cast(gradient, variable.dtype),
            ops.cast(rate, variable.dtype),
            ops.cast(momentum, variable.dtype),
        )
        self.assign(velocity, moved)
        self.assign(variable, weight)

    def get_config(self):
        config = super().get_config()
        config.pop("learning_rate", None)
        config.update(
            learning_rates=dict(self.learning_rates),
            momenta=dict(self.momenta),
            steps_per_epoch=self.steps_per_epoch,
            decay=self.decay,
            initial_momentum=self.initial_momentum,
            momentum_epochs=self.momentum_epochs,
        )
        return config
