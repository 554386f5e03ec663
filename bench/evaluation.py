"""Benchmark 2: one-shot evaluation from cached embeddings against one model call per trial.

The common approach scores a 20-way trial by running the whole Siamese network on the 20
(query, candidate) pairs, so every image goes through the twin once per pair it is in. The
book's evaluator embeds each image of the pool once and scores the pairs with the
network's head. Both must give the same choices; the figure is the speed-up.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from bench.common import Figure, best_of, setup
from siamese_utils import data, evaluate, model


def per_pair_scores(network, trials) -> np.ndarray:
    """Scores with one call of the full network (up to its score) per trial (20 pairs a batch)."""
    scores_of = model.logit_network(network)
    scores = np.empty(trials.candidates.shape, np.float32)
    for t in range(len(trials)):
        query = np.repeat(
            trials.images[trials.queries[t]][None], trials.n_way, axis=0
        )
        candidates = trials.images[trials.candidates[t]]
        scores[t] = np.asarray(scores_of.predict_on_batch([query, candidates]))[
            :, 0
        ]
    return scores


def check_agreement(cached, naive, answers) -> None:
    """Fail unless both ways give the same scores (to float32 rounding) and choices.

    Raises:
        AssertionError: naming how far the scores, or which choices, differ.
    """
    np.testing.assert_allclose(cached, naive, rtol=1e-4, atol=1e-6)
    if not np.array_equal(
        evaluate.pick_candidates(cached) == answers,
        evaluate.pick_candidates(naive) == answers,
    ):
        raise AssertionError(
            "Cached and per-pair evaluation disagree on which trials are correct."
        )


def run(repeats: int = 2, profile_name: str | None = None) -> list[Figure]:
    """Seconds for 400 paper-protocol trials, both ways; raises if the choices differ."""
    profile, _, network = setup(profile_name)
    test = data.load_split("test", profile.image_size).select_alphabets(
        data.TEST_ALPHABETS
    )
    trials = evaluate.paper_protocol_trials(test, profile.n_way, 400, seed=0)
    # Warm up both paths, so that neither pays for tracing inside the timing.
    evaluate.one_shot(network, trials)
    few = dataclasses.replace(
        trials,
        queries=trials.queries[:4],
        candidates=trials.candidates[:4],
        answers=trials.answers[:4],
        groups=trials.groups[:4],
    )
    per_pair_scores(network, few)
    check_agreement(
        evaluate.siamese_scores(network, trials),
        per_pair_scores(network, trials),
        trials.answers,
    )
    cached_time = best_of(repeats, lambda: evaluate.one_shot(network, trials))
    naive_time = best_of(repeats, lambda: per_pair_scores(network, trials))
    return [
        Figure(
            "one-shot evaluation",
            "cached embeddings",
            "one model call per trial",
            len(trials) / cached_time,
            len(trials) / naive_time,
            "trials/s",
            ">= 10",
        )
    ]
