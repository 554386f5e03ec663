"""Scoring one-shot trials with more than one look: distorted views and ensembles.

Two levers of issue 32 change how trained networks answer a trial, not how they train, and
neither is in Koch et al. (2015):

* :func:`view_scores` averages each pair's score over distorted views of its two images
  (test-time averaging): view 0 is the image itself, views 1 to V are fixed draws of the
  paper's affine distortions, the same draws for every network scored on the trials;
* :func:`ensemble_scores` averages the scores of several trained networks
  (:func:`member_view_scores` gives each one's view-averaged scores, for several levers);
  :func:`agreement` counts, trial by trial, how many of them were right on their own and
  whether their average was.

A third, :func:`centred_scores`, lowers each candidate's score by how much the network
likes that candidate for the trial's other candidates (:func:`candidate_scores`), on the
guess that a candidate resembling its whole alphabet (a "hub") draws wrong answers. Also
not in the paper; it reads only the candidates a trial shows, never another trial's query.
``python -m bench.centring`` measured it, and validation dropped it (chapter 6).

All three return a ``(trials, n_way)`` array of scores, like
:func:`siamese_utils.evaluate.siamese_scores`, so :func:`siamese_utils.evaluate.pick_candidates`
chooses from them the same way.
"""

from __future__ import annotations

import numpy as np

from siamese_utils.distortions import PAPER_RANGES, POOL_LEVELS, warp_copies
from siamese_utils.embeddings import embed
from siamese_utils.evaluate import (
    OneShotResult,
    OneShotTrials,
    pick_candidates,
    siamese_scores,
)
from siamese_utils.model import score_embeddings


def distorted_views(
    images: np.ndarray, views: int, seed: int = 0, ranges=PAPER_RANGES
) -> np.ndarray:
    """Each image and ``views`` seeded distortions of it, ``(n, views + 1, size, size, 1)``.

    Raises:
        ValueError: ``views`` is not a positive integer.
    """
    if not isinstance(views, (int, np.integer)) or views < 1:
        raise ValueError(
            f"views counts the distortions per image and must be at least 1, got "
            f"{views!r}; score with siamese_scores for no distortions."
        )
    pool = warp_copies(images, int(views), np.random.default_rng(seed), ranges)
    return pool.astype(np.float32) / POOL_LEVELS


def view_scores(
    network, trials: OneShotTrials, views: int, seed: int = 0
) -> np.ndarray:
    """Each (query, candidate) score averaged over ``views + 1`` aligned views, ``(t, n)``.

    View ``k`` of the query is scored against view ``k`` of each candidate: the score of
    the undistorted pair and of ``views`` pairs whose two images are both distorted. Every
    pool image is embedded once per view.
    """
    return _pool_scores(
        network, trials, distorted_views(trials.images, views, seed)
    )


def _pool_scores(
    network, trials: OneShotTrials, pool: np.ndarray
) -> np.ndarray:
    """:func:`view_scores` on views already drawn (:func:`distorted_views`), so several
    networks can share one draw."""
    count, looks = pool.shape[:2]
    embeddings = embed(network, pool.reshape(-1, *pool.shape[2:])).reshape(
        count, looks, -1
    )
    candidates = trials.candidates.ravel()
    scores = [
        score_embeddings(
            network,
            np.repeat(embeddings[trials.queries, look], trials.n_way, axis=0),
            embeddings[candidates, look],
        )
        for look in range(looks)
    ]
    return np.mean(scores, axis=0).reshape(len(trials), trials.n_way)


def ensemble_scores(
    networks, trials: OneShotTrials, views: int = 0
) -> np.ndarray:
    """The mean score (logit) of several networks on every pair of the trials, ``(t, n)``.

    With ``views``, each network's scores are first averaged over the undistorted pair and
    ``views`` pairs of distorted views (:func:`view_scores`): both levers at once.

    Raises:
        ValueError: no network was given.
    """
    networks = list(networks)
    if not networks:
        raise ValueError(
            "An ensemble needs at least one trained network; got none."
        )
    if not views:
        return np.mean(
            [siamese_scores(network, trials) for network in networks], axis=0
        )
    return np.mean(member_view_scores(networks, trials, views), axis=0)


def member_view_scores(
    networks, trials: OneShotTrials, views: int, seed: int = 0
) -> list[np.ndarray]:
    """:func:`view_scores` of each network, ``(t, n)`` apiece, from one draw of the views.

    The draw is the one :func:`view_scores` makes with the same ``seed``, made once for all
    the networks, so a network scores the same here as alone.
    """
    pool = distorted_views(trials.images, views, seed)
    return [_pool_scores(network, trials, pool) for network in networks]


def agreement(
    member_scores, trials: OneShotTrials, seed: int = 0
) -> list[list[int]]:
    """How an ensemble's answers follow its members': row ``k`` (0 to the member count) is
    ``[trials exactly k members answer correctly on their own, those of them the mean of
    the members' scores answers correctly]``.

    ``member_scores`` holds one ``(t, n)`` score array per member (:func:`siamese_scores`);
    the ensemble is their mean, as :func:`ensemble_scores` scores it.

    Raises:
        ValueError: no member's scores, or scores of another shape than the trials'.
    """
    member_scores = [np.asarray(scores) for scores in member_scores]
    shape = (len(trials), trials.n_way)
    if not member_scores or any(s.shape != shape for s in member_scores):
        raise ValueError(
            f"agreement needs one {shape} score array per member, one row per trial and "
            f"one column per candidate; got shapes {[s.shape for s in member_scores]}."
        )
    right = np.array(
        [pick_candidates(s, seed) == trials.answers for s in member_scores]
    ).sum(axis=0)
    ensemble_right = (
        pick_candidates(np.mean(member_scores, axis=0), seed) == trials.answers
    )
    return [
        [int(np.sum(right == k)), int(np.sum(ensemble_right[right == k]))]
        for k in range(len(member_scores) + 1)
    ]


def candidate_scores(network, trials: OneShotTrials) -> np.ndarray:
    """The score of every ordered pair of each trial's candidates, ``(t, n, n)``: entry
    ``[t, i, j]`` scores candidate ``i`` against candidate ``j`` (each image embedded once)."""
    embeddings = embed(network, trials.images)
    n = trials.n_way
    firsts = np.repeat(trials.candidates, n, axis=1).ravel()
    seconds = np.tile(trials.candidates, (1, n)).ravel()
    scores = score_embeddings(network, embeddings[firsts], embeddings[seconds])
    return np.asarray(scores).reshape(len(trials), n, n)


def centred_scores(
    query_scores: np.ndarray, among_candidates: np.ndarray, weight: float
) -> np.ndarray:
    """Each (query, candidate) score less ``weight`` times that candidate's mean score
    against the trial's other candidates, ``(t, n)``; ``weight`` 0 leaves them as they are.

    ``query_scores`` is ``(t, n)`` (:func:`siamese_utils.evaluate.siamese_scores`) and
    ``among_candidates`` ``(t, n, n)`` (:func:`candidate_scores`); the diagonal, a candidate
    against itself, is left out.

    Raises:
        ValueError: the two arrays do not describe the same trials.
    """
    query_scores = np.asarray(query_scores)
    among_candidates = np.asarray(among_candidates)
    t, n = query_scores.shape
    if among_candidates.shape != (t, n, n) or n < 2:
        raise ValueError(
            f"centring needs a (t, n, n) array of candidate scores for ({t}, {n}) query "
            f"scores, with n of 2 or more; got {among_candidates.shape}. Score the same "
            "trials with candidate_scores."
        )
    others = ~np.eye(n, dtype=bool)
    hub = (among_candidates * others).sum(axis=-1) / (n - 1)
    return query_scores - weight * hub


def accuracy(scores: np.ndarray, trials: OneShotTrials, seed: int = 0) -> float:
    """Share of ``trials`` answered correctly by ``scores`` (ties broken at random, seeded)."""
    return OneShotResult(trials, scores, pick_candidates(scores, seed)).accuracy
