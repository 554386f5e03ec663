"""How the network learns, written in the chapters: the pair loss, the schedule, the ranking.

GENERATED from the cells marked ``# @save learning`` in book/ by ``python
tools/save_cells.py``: edit the chapter, then run that script. The pair loss (chapter 2) is
what the paper's pair training minimises, the schedule (chapter 6) is the rate and momentum
:class:`siamese_utils.optimizers.LayerwiseSGD` gives each layer, and the ranking loss
(chapter 7) is what :class:`siamese_utils.train.AllPairsTrainer` minimises, on the score
matrix it builds with chapter 7's ``episode_pairs`` and ``score_matrix``. The losses are in
``keras.ops``, so they run on any Keras backend; NumPy only lays out index arrays.
"""

import keras
import numpy as np


# From book/02-twin.ipynb
def pair_loss(same, scores):
    """The paper's cross-entropy of a batch of pairs, from their scores s.

    ``same`` is 1 for two drawings of one character, else 0. With p the
    sigmoid of s, -log p = softplus(-s) and -log(1 - p) = softplus(s): taken
    from s, the loss never takes the log of a probability rounded to 0 or 1.
    """
    same = keras.ops.cast(same, scores.dtype)
    per_pair = same * keras.ops.softplus(-scores) + (
        1.0 - same
    ) * keras.ops.softplus(scores)
    return keras.ops.mean(per_pair)


# From book/06-classifier.ipynb
def paper_schedule(
    epoch,
    base_rate,
    final_momentum,
    *,
    decay=0.99,
    initial_momentum=0.5,
    momentum_epochs=10,
):
    """A layer's learning rate and momentum at ``epoch``, the paper's way.

    The rate falls by 1% an epoch: base_rate * decay ** epoch. The momentum
    rises in a straight line from ``initial_momentum`` at epoch 0 to the
    layer's ``final_momentum`` at ``momentum_epochs``, then stays there.
    """
    rate = base_rate * keras.ops.power(decay, epoch)
    progress = keras.ops.minimum(epoch / float(momentum_epochs), 1.0)
    momentum = initial_momentum + (final_momentum - initial_momentum) * progress
    return rate, momentum


def momentum_step(weight, velocity, gradient, rate, momentum):
    """SGD with momentum: v <- mu v - eta g, then w <- w + v."""
    velocity = momentum * velocity - rate * gradient
    return weight + velocity, velocity


# From book/07-ranking-loss.ipynb
def ranking_loss(scores, same):
    """The ranking loss of episodes: for every positive pair (i, j), the
    cross-entropy of picking j among j and every negative of i, averaged.

    ``scores`` holds each episode's (b, b) matrix of pair scores s_ij and
    ``same`` is True where images i and j show one character (the diagonal
    too), both shaped (episodes, b, b). Returns the mean over episodes.
    """
    size = scores.shape[-1]
    positive = keras.ops.cast(same, "float32") - keras.ops.eye(size)[None]
    negative_scores = keras.ops.where(same, -1e9, scores)  # e^-1e9 is 0
    # -log(e^s / (e^s + sum_k e^n_k)) = softplus(logsumexp_k(n_k) - s)
    against = keras.ops.logsumexp(negative_scores, axis=2, keepdims=True)
    terms = keras.ops.softplus(against - scores) * positive
    per_episode = keras.ops.sum(terms, axis=(1, 2)) / keras.ops.maximum(
        keras.ops.sum(positive, axis=(1, 2)), 1.0
    )
    return keras.ops.mean(per_episode)


def episode_pairs(size):
    """The pairs i < j of an episode of ``size`` images, as two index arrays
    (left, right), and the (size, size) array that says which pair fills
    each entry of the score matrix: pair k fills (i, j) and (j, i), and the
    diagonal reads index len(left), one past the last pair."""
    left, right = np.triu_indices(size, k=1)
    matrix = np.full((size, size), len(left), np.int32)
    matrix[left, right] = matrix[right, left] = np.arange(len(left))
    return left.astype("int32"), right.astype("int32"), matrix


def score_matrix(pair_scores, matrix):
    """Each episode's (size, size) score matrix from the scores of its pairs,
    shaped (episodes, pairs); the diagonal holds 0, which the loss masks."""
    padded = keras.ops.concatenate(
        [pair_scores, keras.ops.zeros_like(pair_scores[:, :1])], axis=1
    )
    return keras.ops.take(padded, matrix, axis=1)
