"""Looking at embeddings: projections keep the geometry, neighbours exclude the query."""

import numpy as np
import pytest

from siamese_utils import embeddings, model, profiles
from siamese_utils.seeding import set_seed


def test_principal_components_find_the_direction_of_largest_variance():
    rng = np.random.default_rng(0)
    along = rng.normal(size=(500, 1)) * np.array([[3.0, 0.0, 0.0]])
    noise = rng.normal(scale=0.1, size=(500, 3))
    projection, explained = embeddings.principal_components(
        along + noise, components=2
    )
    assert projection.shape == (500, 2)
    assert explained[0] > 0.95 and explained[0] > explained[1]
    assert abs(np.corrcoef(projection[:, 0], along[:, 0])[0, 1]) > 0.99


def test_neighbours_never_include_the_query_and_come_best_first(background):
    set_seed(0)
    network = model.siamese_network(
        **profiles.get_profile("smoke").network_kwargs()
    )
    vectors = embeddings.embed(network, background.images[:30])
    scores = embeddings.pair_scores(network, vectors)
    assert np.allclose(
        scores[np.triu_indices(30, 1)], scores.T[np.triu_indices(30, 1)]
    )
    found = embeddings.nearest_neighbours(scores, [0, 7], k=4)
    assert found.neighbours.shape == (2, 4)
    assert 0 not in found.neighbours[0] and 7 not in found.neighbours[1]
    assert np.all(np.diff(found.scores, axis=1) <= 0)


def test_identical_embeddings_are_at_distance_zero():
    vectors = np.random.default_rng(1).random((5, 8))
    assert np.allclose(embeddings.l1_distances(vectors, vectors), 0.0)
    assert embeddings.l1_distances(np.zeros((1, 4)), np.ones((1, 4)))[
        0
    ] == pytest.approx(1.0)
