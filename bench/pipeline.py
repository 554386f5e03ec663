"""Benchmark 1: do the reproduction's input pipelines keep the model fed?

Trains the same network for the same number of steps twice: from the real pipeline that
the reproduction trains on (:func:`siamese_utils.pipeline.training_dataset`: sampling, image
gathering, the affine warp, prefetching) and from batches of that pipeline already in
memory. The ratio of their steps per second is the pipeline's efficiency; 1.0 means the
model never waits for data. Both recipes are measured at the profile's size: the paper's
(pairs, per-layer SGD) and the fast one (all-pairs episodes, ranking loss).
"""

from __future__ import annotations

import dataclasses

from bench.common import Figure, best_of, setup
from siamese_utils import model, pipeline, recipe, reproduce


def _in_memory(dataset, count: int, steps: int):
    """The first ``count`` batches of ``dataset``, cached in memory and cycled for ``steps`` steps."""
    return dataset.take(count).cache().repeat().take(steps)


def _compare(trainable, real, steps: int, repeats: int) -> tuple[float, float]:
    memory = _in_memory(real, 8, steps)
    timings = {"real": [], "memory": []}
    # One untimed pass over each dataset first (Keras prepares a step per dataset), then
    # alternate the two, so that a slow moment of the machine hits both alike.
    for _ in range(repeats + 1):
        for name, dataset in (("real", real), ("memory", memory)):
            def one_epoch(dataset=dataset):
                trainable.fit(dataset, epochs=1, steps_per_epoch=steps, shuffle=False, verbose=0)

            timings[name].append(best_of(1, one_epoch))
    return steps / min(timings["real"][1:]), steps / min(timings["memory"][1:])


def run(steps: int = 60, repeats: int = 3, profile_name: str | None = None) -> list[Figure]:
    """Steps per second from each recipe's real pipeline against its batches in memory."""
    profile, background, _ = setup(profile_name)
    figures = []
    for name in ("paper", "fast"):
        chosen = dataclasses.replace(recipe.RECIPES[name], steps_per_epoch=steps, max_epochs=repeats + 2)
        network = model.network_for(profile)
        trainable = reproduce._compiled_for_fit(network, recipe.make_optimizer(chosen), chosen, profile)
        real = pipeline.training_dataset(background, profile, chosen, seed=0)
        rate, memory_rate = _compare(trainable, real, steps, repeats)
        what = "pairs, warped" if chosen.sampler == "pairs" else "episodes, warped"
        figures.append(Figure("input pipeline", f"{name} recipe's pipeline ({what})",
                              "its batches in memory", rate, memory_rate, "steps/s", ">= 0.95"))
    return figures
