"""Drawing training data from a split as indices: image pairs (the paper's verification
pairs) and episodes (a few characters of a few alphabets, several images each).

The samplers return indices, never images, so one seeded draw serves every pipeline
(:mod:`siamese_utils.pipeline`, :mod:`siamese_utils.numpy_pipeline`) and the chapters alike.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from siamese_utils.data import (
    CharacterIndex,
    OmniglotSplit,
    require_positive_integers,
)


@dataclasses.dataclass(frozen=True)
class PairIndices:
    """Image pairs as positions into one split: ``left[i]`` and ``right[i]``, label ``same[i]``."""

    left: np.ndarray
    right: np.ndarray
    same: np.ndarray

    def __len__(self) -> int:
        return len(self.same)


def sample_pairs(
    split: OmniglotSplit | CharacterIndex,
    num_pairs: int,
    seed: int | np.random.Generator,
    same_alphabet_negatives: float = 0.5,
) -> PairIndices:
    """Draw ``num_pairs`` image pairs, half of the same character, half of different ones.

    Same-character pairs take two *distinct* images of one character (uniform over
    characters). Different-character pairs take one image of each of two characters;
    a share ``same_alphabet_negatives`` of them picks both characters from one alphabet
    (the harder negatives a one-shot trial within an alphabet is made of), the rest from
    the whole split. The order is shuffled, and the same seed gives the same pairs.

    Args:
        split: the split to draw from, or its index.
        num_pairs: number of pairs; ``num_pairs // 2`` are same-character pairs.
        seed: an integer seed or a NumPy generator.
        same_alphabet_negatives: in [0, 1].

    Raises:
        ValueError: for a non-positive count, a share outside [0, 1], or a split with too
            few characters or images to form both kinds of pair.
    """
    index = pair_index(split, num_pairs, same_alphabet_negatives)
    rng = (
        seed
        if isinstance(seed, np.random.Generator)
        else np.random.default_rng(seed)
    )
    positives = num_pairs // 2
    # Drawn in this order, so that a seed gives the same pairs as it always has.
    pos_left, pos_right = same_character_pairs(index, positives, rng)
    neg_left, neg_right = different_character_pairs(
        index, num_pairs - positives, same_alphabet_negatives, rng
    )
    order = rng.permutation(num_pairs)
    left = np.concatenate([pos_left, neg_left])[order]
    right = np.concatenate([pos_right, neg_right])[order]
    same = np.concatenate(
        [np.ones(positives), np.zeros(num_pairs - positives)]
    ).astype(np.float32)[order]
    return PairIndices(left=left, right=right, same=same)


def pair_index(split, num_pairs, same_alphabet_negatives) -> CharacterIndex:
    """The split's index, once the request is checked (see :func:`sample_pairs`)."""
    if not isinstance(num_pairs, (int, np.integer)) or num_pairs < 1:
        raise ValueError(
            f"num_pairs must be a positive integer, got {num_pairs!r}."
        )
    if not 0.0 <= same_alphabet_negatives <= 1.0:
        raise ValueError(
            f"same_alphabet_negatives must lie in [0, 1], got {same_alphabet_negatives!r}."
        )
    index = split.index() if isinstance(split, OmniglotSplit) else split
    if index.num_characters < 2 or index.image_counts.max() < 2:
        raise ValueError(
            "Pairs need at least two characters and a character with two images; "
            f"this split has {index.num_characters} characters."
        )
    return index


def same_character_pairs(index: CharacterIndex, count: int, rng):
    """Left and right images of ``count`` pairs: two distinct images of one character."""
    # A random image slot and a different slot of that character.
    eligible = np.flatnonzero(index.image_counts >= 2)
    characters = eligible[rng.integers(0, len(eligible), count)]
    counts = index.image_counts[characters]
    first_slot = rng.integers(0, counts)
    second_slot = (first_slot + rng.integers(1, counts)) % counts
    return (
        index.character_images[characters, first_slot],
        index.character_images[characters, second_slot],
    )


def different_character_pairs(
    index: CharacterIndex, count: int, same_alphabet_negatives: float, rng
):
    """Left and right images of ``count`` pairs of two different characters, a share
    ``same_alphabet_negatives`` of them from one alphabet."""
    # The partner: a shift within the alphabet, or across the whole split.
    first = rng.integers(0, index.num_characters, count)
    alphabet_row = np.searchsorted(
        index.alphabet_ids, index.character_alphabet[first]
    )
    sizes = index.alphabet_sizes[alphabet_row]
    within = (rng.random(count) < same_alphabet_negatives) & (sizes >= 2)
    rank = np.argmax(
        index.alphabet_characters[alphabet_row] == first[:, None], axis=1
    )
    shifted_rank = (rank + rng.integers(1, np.maximum(sizes, 2))) % sizes
    within_partner = index.alphabet_characters[alphabet_row, shifted_rank]
    global_partner = (first + rng.integers(1, index.num_characters, count)) % (
        index.num_characters
    )
    second = np.where(within, within_partner, global_partner)

    def random_image(characters):
        slot = rng.integers(0, index.image_counts[characters])
        return index.character_images[characters, slot]

    return random_image(first), random_image(second)


def pair_arrays(
    split: OmniglotSplit,
    num_pairs: int,
    seed: int | np.random.Generator,
    same_alphabet_negatives: float = 0.5,
) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
    """Pairs as in-memory arrays ``((left, right), labels)``, labels shaped ``(n, 1)``.

    Handy for a fixed validation set of verification pairs.
    """
    pairs = sample_pairs(split, num_pairs, seed, same_alphabet_negatives)
    return (split.images[pairs.left], split.images[pairs.right]), pairs.same[
        :, None
    ]


@dataclasses.dataclass(frozen=True)
class Episodes:
    """Batches of images grouped by alphabet and character, for all-pairs training.

    ``images[e]`` holds the image positions (into one split) of episode ``e``:
    ``alphabets x characters x images_per_character`` of them, alphabet by alphabet and
    character by character; ``characters[e]`` holds their character ids.
    """

    images: np.ndarray  # (episodes, batch) image positions
    characters: np.ndarray  # (episodes, batch) character ids

    @property
    def batch_size(self) -> int:
        """Images per episode."""
        return int(self.images.shape[1])

    def __len__(self) -> int:
        return len(self.images)


def sample_episodes(
    split: OmniglotSplit | CharacterIndex,
    num_episodes: int,
    seed: int | np.random.Generator,
    alphabets: int = 4,
    characters: int = 8,
    images_per_character: int = 4,
) -> Episodes:
    """Draw episodes of ``alphabets`` alphabets x ``characters`` characters x images.

    Every image pair inside an episode is a training pair: two images of one character are
    a positive, two of different characters a negative, and because each episode takes
    several characters of few alphabets, many negatives come from one alphabet, as in a
    one-shot trial. Alphabets, characters and images are drawn without replacement within
    an episode; the same seed gives the same episodes.

    Raises:
        ValueError: for non-positive sizes, or an episode the split cannot fill (too few
            alphabets, characters per alphabet or images per character).
    """
    require_positive_integers(
        num_episodes=num_episodes,
        alphabets=alphabets,
        characters=characters,
        images_per_character=images_per_character,
    )
    if images_per_character < 2 and alphabets * characters < 2:
        raise ValueError("An episode needs at least two images to form a pair.")
    index = split.index() if isinstance(split, OmniglotSplit) else split
    eligible_characters = index.image_counts >= images_per_character
    members_per_alphabet = [
        [c for c in row[:size] if eligible_characters[c]]
        for row, size in zip(index.alphabet_characters, index.alphabet_sizes)
    ]
    usable = [
        row
        for row, members in enumerate(members_per_alphabet)
        if len(members) >= characters
    ]
    if len(usable) < alphabets:
        raise ValueError(
            f"An episode of {alphabets} alphabets x {characters} characters x "
            f"{images_per_character} images needs {alphabets} alphabets with {characters} "
            f"characters of at least {images_per_character} images each; this split has "
            f"{len(usable)} such alphabets. Ask for fewer alphabets, characters or images."
        )
    rng = (
        seed
        if isinstance(seed, np.random.Generator)
        else np.random.default_rng(seed)
    )
    batch = alphabets * characters * images_per_character
    images = np.empty((num_episodes, batch), np.int64)
    characters_of = np.empty((num_episodes, batch), np.int64)
    for episode in range(num_episodes):
        chosen = [
            rng.choice(members_per_alphabet[row], characters, replace=False)
            for row in rng.choice(usable, alphabets, replace=False)
        ]
        chars = np.concatenate(chosen)
        counts = index.image_counts[chars]
        # A random order of each character's valid image slots; keep the first few.
        # Invalid (padding) slots get keys >= 1, so they sort after every valid one.
        keys = rng.random((len(chars), counts.max())) + (
            np.arange(counts.max()) >= counts[:, None]
        )
        order = np.argsort(keys, axis=1)
        slots = order[:, :images_per_character]
        images[episode] = index.character_images[chars[:, None], slots].ravel()
        characters_of[episode] = np.repeat(
            index.character_ids[chars], images_per_character
        )
    return Episodes(images=images, characters=characters_of)
