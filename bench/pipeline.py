"""Benchmark 1: does the input pipeline keep the model fed?

Trains the same network for the same number of steps twice: from the real ``tf.data``
pipeline (sampling, image gathering, prefetching) and from batches already in memory. The
ratio of their steps per second is the pipeline's efficiency; 1.0 means the model never
waits for data.
"""

from __future__ import annotations

from bench.common import Figure, best_of, setup
from siamese_utils import data, train


def _in_memory(dataset, count: int, steps: int):
    """The first ``count`` batches of ``dataset``, cached in memory and cycled for ``steps`` steps."""
    return dataset.take(count).cache().repeat().take(steps)


def _compare(model, real, steps: int, repeats: int) -> tuple[float, float]:
    memory = _in_memory(real, 8, steps)
    timings = {"real": [], "memory": []}
    # One untimed pass over each dataset first (Keras prepares a step per dataset), then
    # alternate the two, so that a slow moment of the machine hits both alike.
    for _ in range(repeats + 1):
        for name, dataset in (("real", real), ("memory", memory)):
            timings[name].append(best_of(1, lambda: model.fit(dataset, epochs=1, shuffle=False, verbose=0)))
    return steps / min(timings["real"][1:]), steps / min(timings["memory"][1:])


def run(steps: int = 60, repeats: int = 3, profile_name: str | None = None) -> list[Figure]:
    """Steps per second from the real pipelines against in-memory batches."""
    profile, background, network = setup(profile_name)

    train.compile_for_verification(network, profile.learning_rate)
    pairs = data.pair_dataset(background, profile.batch_size, steps, seed=0)
    pair_rate, pair_memory_rate = _compare(network, pairs, steps, repeats)

    episodes = data.sample_episodes(background, steps, 0, *profile.episode)
    trainer = train.AllPairsTrainer(network, episodes.batch_size)
    trainer.compile(optimizer="adam")
    episode_rate, episode_memory_rate = _compare(
        trainer, data.episode_dataset(background, episodes), steps, repeats
    )
    return [
        Figure("input pipeline", "pair pipeline", "pairs in memory", pair_rate, pair_memory_rate,
               "steps/s", ">= 0.95"),
        Figure("input pipeline", "episode pipeline", "episodes in memory", episode_rate,
               episode_memory_rate, "steps/s", ">= 0.95"),
    ]
