"""Looking at the embedding the encoder produces: projections, neighbours, distances.

Everything here embeds images with the trained twin once and then works on the vectors, so
the figures of chapter 5 cost one forward pass per image.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from siamese_utils.model import check_images, score_embeddings, twin_of


def embed(network, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Embeddings ``(n, units)`` of ``images`` by the network's twin (checked first)."""
    check_images(network, images)
    return twin_of(network).predict(images, batch_size=batch_size, verbose=0)


def principal_components(
    vectors: np.ndarray, components: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """Project ``vectors`` on their first principal components (numpy SVD).

    Returns:
        ``(projection, explained)``: the ``(n, components)`` coordinates and the share of
        the total variance each component explains.
    """
    centred = vectors - vectors.mean(axis=0, keepdims=True)
    _, singular, directions = np.linalg.svd(centred, full_matrices=False)
    variance = singular**2
    return centred @ directions[:components].T, variance[
        :components
    ] / variance.sum()


def pair_scores(network, embeddings: np.ndarray) -> np.ndarray:
    """Similarity score (logit) of every pair of ``embeddings`` by the network's head, ``(n, n)``.

    The diagonal (an image with itself) is set to ``-inf`` so it is never a neighbour.
    """
    n = len(embeddings)
    left, right = np.triu_indices(n, k=1)
    scores = np.full((n, n), -np.inf)
    scores[left, right] = scores[right, left] = score_embeddings(
        network, embeddings[left], embeddings[right]
    )
    return scores


@dataclasses.dataclass(frozen=True)
class Neighbours:
    """For each query (a position in the pool), its ``k`` best-scored other pool images."""

    queries: np.ndarray  # (q,)
    neighbours: np.ndarray  # (q, k) positions in the pool, best first
    scores: np.ndarray  # (q, k) their similarity scores (logits)


def nearest_neighbours(scores: np.ndarray, queries, k: int = 5) -> Neighbours:
    """The ``k`` pool images the network scores highest against each query."""
    queries = np.asarray(queries)
    order = np.argsort(-scores[queries], axis=1, kind="stable")[:, :k]
    return Neighbours(
        queries, order, np.take_along_axis(scores[queries], order, axis=1)
    )


def l1_distances(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Mean absolute difference per feature of each pair of embeddings: the head's input."""
    return np.mean(np.abs(left - right), axis=1)
