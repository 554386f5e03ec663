"""Benchmark 3: how much of this machine's arithmetic does a training step use?

The training step's work is counted from the layer shapes (multiply-adds of the twin, per
image, from :func:`siamese_utils.anatomy.layer_table`), at 2 FLOPs per multiply-add and
three passes per step (forward; backward to the inputs; backward to the weights). The
machine's capacity is measured with a large float32 matrix multiplication, the best case
for the same CPU or GPU. The ratio says how far from the hardware's speed training runs.
"""

from __future__ import annotations

import tensorflow as tf

from bench.common import Figure, best_of, setup
from siamese_utils import anatomy, pipeline, recipe, train

TRAINING_PASSES = 3


def matmul_flops(size: int = 2048, repeats: int = 5) -> float:
    """FLOP/s of a ``size x size`` float32 matrix product on the default device."""

    a = tf.random.normal((size, size))
    b = tf.random.normal((size, size))
    product = tf.function(lambda: tf.reduce_sum(tf.matmul(a, b)))
    product().numpy()
    seconds = best_of(repeats, lambda: product().numpy())
    return 2 * size**3 / seconds


def run(steps: int = 40, repeats: int = 3, profile_name: str | None = None) -> list[Figure]:
    """Achieved FLOP/s of the pair-training step (in-memory batches) against matmul FLOP/s."""

    profile, background, network = setup(profile_name)
    trainable = train.compile_for_verification(network, recipe.recipe_for(profile, "chapter").learning_rate)
    batch = next(iter(pipeline.pair_dataset(background, profile.batch_size, 1, seed=0)))
    memory = tf.data.Dataset.from_tensors(batch).repeat().take(steps)
    trainable.fit(memory.take(3), epochs=1, shuffle=False, verbose=0)
    seconds = best_of(repeats, lambda: trainable.fit(memory, epochs=1, shuffle=False, verbose=0))
    images_per_step = 2 * profile.batch_size
    step_flops = 2 * TRAINING_PASSES * anatomy.twin_multiply_adds(network) * images_per_step
    return [
        Figure("compute efficiency", "training step", "float32 matmul", step_flops * steps / seconds,
               matmul_flops(), "GFLOP/s", "as high as possible")
    ]
