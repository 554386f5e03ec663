"""Benchmark 3: how much of this machine's arithmetic does a training step use?

The training step's work is counted from the layer shapes (multiply-adds of the twin, per
image, from :func:`siamese_utils.anatomy.layer_table`), at 2 FLOPs per multiply-add and
three passes per step (forward; backward to the inputs; backward to the weights). The
machine's capacity is measured with a large float32 matrix multiplication, the best case
for the same CPU or GPU. The ratio says how far from the hardware's speed training runs.

The step is timed in :data:`VARIANTS`, all against the same float32 matrix product: as the
book trains (float32, TensorFlow's graph), compiled by XLA (``jit_compile``), and under
Keras' ``mixed_bfloat16`` policy (bfloat16 arithmetic, float32 weights), which CPUs with
AVX512-BF16 or AMX run in hardware, and with the fast recipe's batch normalisation (the same
multiply-adds, so its ratio against the plain step is what normalising costs). A bfloat16 matrix product is measured too, so the
bfloat16 step can also be read against its own ceiling.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from bench.common import Figure, best_of, setup
from siamese_utils import anatomy, model, pipeline, recipe
from siamese_utils.seeding import set_seed

# name -> (Keras dtype policy, XLA compilation, batch normalisation)
VARIANTS = {
    "float32": ("float32", False, False),
    "float32, XLA": ("float32", True, False),
    "mixed bfloat16": ("mixed_bfloat16", False, False),
    "float32, batch normalisation": ("float32", False, True),
}
TRAINING_PASSES = 3


def matmul_flops(
    size: int = 2048, repeats: int = 20, dtype=tf.float32
) -> float:
    """FLOP/s of a ``size x size`` matrix product in ``dtype`` on the default device.

    The best of ``repeats`` products (a few seconds in all): the machine's capacity is what
    it reaches when nothing else disturbs it, and the more products are timed, the less
    likely a moment's disturbance is to set the baseline of every ratio.
    """
    a = tf.cast(tf.random.normal((size, size)), dtype)
    b = tf.cast(tf.random.normal((size, size)), dtype)
    product = tf.function(
        lambda: tf.reduce_sum(tf.cast(tf.matmul(a, b), tf.float32))
    )
    product().numpy()
    seconds = best_of(repeats, lambda: product().numpy())
    return 2 * size**3 / seconds


def _step_seconds(
    profile,
    batch,
    steps: int,
    repeats: int,
    policy: str,
    jit: bool,
    batch_norm: bool,
) -> float:
    """Seconds of ``steps`` pair-training steps on in-memory ``batch``, best of ``repeats``."""
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(policy)
    try:
        set_seed(2015)
        network = model.siamese_network(
            batch_norm=batch_norm, **profile.network_kwargs()
        )
    finally:
        keras.mixed_precision.set_global_policy(previous)
    scores = model.logit_network(network)
    scores.compile(
        optimizer=keras.optimizers.Adam(
            recipe.recipe_for(profile, "chapter").learning_rate
        ),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        jit_compile=jit,
    )
    memory = tf.data.Dataset.from_tensors(batch).repeat().take(steps)
    # Traces (and compiles) the step.
    scores.fit(memory.take(3), epochs=1, shuffle=False, verbose=0)
    return best_of(
        repeats, lambda: scores.fit(memory, epochs=1, shuffle=False, verbose=0)
    )


def run(
    steps: int = 40,
    repeats: int = 3,
    profile_name: str | None = None,
    variants=tuple(VARIANTS),
) -> list[Figure]:
    """Achieved FLOP/s of the pair-training step (in-memory batches) against matmul FLOP/s."""
    profile, background, network = setup(profile_name)
    batch = next(
        iter(pipeline.pair_dataset(background, profile.batch_size, 1, seed=0))
    )
    step_flops = (
        2
        * TRAINING_PASSES
        * anatomy.twin_multiply_adds(network)
        * 2
        * profile.batch_size
    )
    float32_matmul = matmul_flops()
    figures = []
    for name in variants:
        seconds = _step_seconds(profile, batch, steps, repeats, *VARIANTS[name])
        figures.append(
            Figure(
                "compute efficiency",
                f"training step ({name})",
                "float32 matmul",
                step_flops * steps / seconds,
                float32_matmul,
                "GFLOP/s",
                ">= 0.6",
            )
        )
    if any(VARIANTS[name][0] != "float32" for name in variants):
        figures.append(
            Figure(
                "compute efficiency",
                "bfloat16 matmul",
                "float32 matmul",
                matmul_flops(dtype=tf.bfloat16),
                float32_matmul,
                "GFLOP/s",
                "(the bfloat16 ceiling)",
            )
        )
    return figures
