"""Benchmark 1: do the reproduction's input pipelines keep the model fed?

Trains the same network for the same number of steps twice: from the real pipeline that
the reproduction trains on (:func:`siamese_utils.pipeline.training_dataset`: sampling, image
gathering, the affine warp, prefetching) and from batches of that pipeline already in
memory, a distinct one for every step timed, as a training set held in memory would give
them. The ratio of their steps per second is the pipeline's efficiency; 1.0 means the
model never waits for data. Both recipes are measured at the profile's size: the paper's
(pairs, per-layer SGD, eight distortions of every image warped before training) and the
fast one (all-pairs episodes, ranking loss, a fresh distortion for every image). The paper
recipe's one-off cost, warping its distortion pool, is measured against one of its epochs,
the fast pipeline as trained against the same pipeline with tf.data's autotuner on, and
the in-memory baseline against a few batches cycled, which stay in the processor's cache
and flatter any baseline built from them.
"""

from __future__ import annotations

import dataclasses
import time

from bench.common import Figure, paired_ratio_interval, setup, timed_in_turns
from siamese_utils import epoch_data, pipeline, recipe

# Batches a cycled in-memory baseline repeats (the benchmark's earlier baseline; its row
# shows what a baseline small enough to stay in the processor's cache adds).
CYCLED_BATCHES = 8


def _in_memory(dataset, count: int, steps: int):
    """The first ``count`` batches of ``dataset``, cached in memory and cycled for ``steps`` steps."""
    return dataset.take(count).cache().repeat().take(steps)


def compare(
    trainable, dataset, baseline, steps: int, repeats: int
) -> tuple[float, float, tuple[float, float] | None]:
    """Steps per second of ``trainable`` fed from ``dataset`` and from ``baseline``, timed
    in turns (:func:`bench.common.timed_in_turns`), and the 95% interval of their ratio
    (``None`` for a single pair). Each rate is the total steps over the total time of all
    pairs, so a slowdown that one side causes is counted, however rarely it comes."""

    def one_epoch(fed):
        return lambda: trainable.fit(
            fed, epochs=1, steps_per_epoch=steps, shuffle=False, verbose=0
        )

    seconds = timed_in_turns(one_epoch(dataset), one_epoch(baseline), repeats)
    return (
        steps * repeats / sum(seconds[0]),
        steps * repeats / sum(seconds[1]),
        paired_ratio_interval(*seconds) if repeats > 1 else None,
    )


def run(
    steps: int = 60, repeats: int = 10, profile_name: str | None = None
) -> list[Figure]:
    """Steps per second from each recipe's real pipeline against its batches in memory."""
    profile, background, _ = setup(profile_name)
    figures = []
    for name in ("paper", "fast"):
        chosen = dataclasses.replace(
            recipe.RECIPES[name], steps_per_epoch=steps, max_epochs=repeats + 2
        )
        # The network the recipe trains (the fast one has batch normalisation).
        network = chosen.build_network(profile)
        trainable = chosen.sampling.compiled(
            network, recipe.make_optimizer(chosen), chosen
        )
        started = time.perf_counter()
        if chosen.distortion_pool:
            pool = epoch_data.pooled_distortions(background, chosen, seed=0)
        pool_seconds = time.perf_counter() - started
        real = pipeline.training_dataset(background, profile, chosen, seed=0)
        # Every timed step gets its own batch, read from memory.
        memory = _in_memory(real, steps, steps)
        rate, memory_rate, interval = compare(
            trainable, real, memory, steps, repeats
        )
        what = chosen.sampling.example_name + (
            ", pooled distortions" if chosen.distortion_pool else ", warped"
        )
        figures.append(
            Figure(
                "input pipeline",
                f"{name} recipe's pipeline ({what})",
                "its batches in memory, one per step",
                rate,
                memory_rate,
                "steps/s",
                ">= 0.95",
                interval,
            )
        )
        if name == "fast":
            figures += fast_pipeline_figures(
                trainable, real, memory, steps, repeats
            )
        if chosen.distortion_pool:
            epoch = recipe.RECIPES[name].steps_per_epoch
            figures.append(
                Figure(
                    "input pipeline",
                    f"{name} recipe's distortion pool, warped once "
                    f"({len(pool):,} images x {chosen.distortion_pool})",
                    f"one epoch of its training ({epoch:,} steps)",
                    pool_seconds,
                    epoch / rate,
                    "s",
                    "< 0.1 (once a run)",
                )
            )
    return figures


def fast_pipeline_figures(
    trainable, real, memory, steps, repeats
) -> list[Figure]:
    """The fast pipeline's two checks: tf.data's autotuner off against on, and the
    in-memory baseline of distinct batches against a few batches cycled."""
    figures = []
    # Why the pipelines switch tf.data's autotuner off (pipeline._finish).
    off, on, interval = compare(
        trainable,
        real,
        pipeline.with_autotuner(real, enabled=True),
        steps,
        repeats,
    )
    figures.append(
        Figure(
            "input pipeline",
            "fast recipe's pipeline, tf.data autotuner off (as trained)",
            "the same with the autotuner on",
            off,
            on,
            "steps/s",
            "> 1 (why it is off)",
            interval,
        )
    )
    # What the baseline would be if it cycled a few batches instead.
    distinct, cycled, interval = compare(
        trainable,
        memory,
        _in_memory(real, CYCLED_BATCHES, steps),
        steps,
        repeats,
    )
    figures.append(
        Figure(
            "input pipeline",
            f"fast recipe's batches in memory, {steps} distinct "
            "(the baseline above)",
            f"{CYCLED_BATCHES} of them cycled",
            distinct,
            cycled,
            "steps/s",
            "(the cache's share; no target)",
            interval,
        )
    )
    return figures
