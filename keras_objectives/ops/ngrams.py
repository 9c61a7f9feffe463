"""Word boundaries from a `word_starts` feature, and n-gram blocks of words.

Chinese whole-word masking (BERT-wwm) reads its words from a per-token
`word_starts` feature (segmented once, when the corpus is prepared, see
`keras_objectives.data.word_boundaries`) instead of WordPiece `##` pieces.
N-gram masking (ERNIE, MacBERT) masks runs of 1 to `n` whole words. Both
reduce to units (a word, an n-gram) that `selection.select_words` selects
whole under a token budget:

* `starts_from_feature`: a word starts where `word_starts` says, and after
  every special token or padding (words never cross them);
* `ngram_blocks`: each row cuts its sequence of words into consecutive
  blocks whose lengths in words are drawn i.i.d. from
  `ngram_probabilities` (MacBERT: 1-4 words at 40/30/20/10%). A block cut
  short (by the end of the row, a special token or padding) is not
  selectable;
* `select_ngrams`: each complete block is selected independently with
  probability `q = rate * n / T` (`n` eligible tokens, `T` tokens in
  complete blocks), so the expected number of selected tokens is exactly
  `rate * n` and, since the choice never looks at a block's size, the
  lengths of the selected n-grams follow `ngram_probabilities` exactly.
  (Filling a fixed count instead, as MacBERT's and ALBERT's scripts do,
  skips the n-grams that overflow it, which favours short ones.) The count
  varies from row to row as under `count_mode="bernoulli"`; rows that draw
  more than `mask_selection_length` tokens keep a random subset of blocks
  that fits.

Pure TF on `[B, L]` tensors with per-row uint32 keys.
"""

import tensorflow as tf

from keras_objectives.ops import random as kr
from keras_objectives.ops import selection


def starts_from_feature(word_starts, eligible):
    """True on the first token of every eligible word.

    Examples:

    >>> starts_from_feature(tf.constant([[True, False, True, False]]),
    ...                     tf.constant([[False, True, True, True]])).numpy()
    array([[False,  True,  True, False]])
    """
    previous = tf.pad(eligible[:, :-1], [[0, 0], [1, 0]])
    return eligible & (tf.cast(word_starts, tf.bool)
                       | tf.logical_not(previous))


def check_ngram_probabilities(probabilities):
    """A tuple of floats > 0... summing to 1, or a ValueError."""
    try:
        values = tuple(float(p) for p in probabilities)
    except (TypeError, ValueError):
        values = ()
    if (not values or len(values) > 10 or any(p < 0 for p in values)
            or abs(sum(values) - 1.0) > 1e-6):
        raise ValueError(
            "Invalid value received for argument `ngram_probabilities`. "
            "Expected 1 to 10 non-negative floats summing to 1, the "
            "probability of masking 1, 2, ... words at once (MacBERT: "
            f"[0.4, 0.3, 0.2, 0.1]). Received: ngram_probabilities="
            f"{probabilities!r}"
        )
    return values


def ngram_lengths(keys, count, probabilities):
    """`[B, count]` int32 lengths in `1..len(probabilities)`, i.i.d."""
    u = selection.uniform24(keys, count, kr.NGRAM_LENGTH)
    lengths = tf.ones_like(u)
    total = 0.0
    for p in probabilities[:-1]:
        total += p
        lengths += tf.cast(u >= selection.rate_threshold(total), tf.int32)
    return lengths


def ngram_blocks(keys, eligible, starts, probabilities):
    """Cut each row's words into n-gram blocks.

    Args:
        keys: `[B]` uint32.
        eligible: `[B, L]` bool.
        starts: `[B, L]` bool, word starts (eligible positions only).
        probabilities: tuple of floats, `probabilities[k]` for `k + 1`
            words.

    Returns:
        `(block_starts, complete)`: `[B, L]` bool, True on the first token
        of each block (a block never crosses an ineligible position), and
        True on the tokens of blocks that have their drawn number of words.

    Examples:

    >>> keys = kr.example_keys(0, 0, [0])
    >>> eligible = tf.constant([[True] * 6])
    >>> block_starts, complete = ngram_blocks(keys, eligible, eligible,
    ...                                       (0.0, 1.0))
    >>> block_starts.numpy().astype(int), complete.numpy().astype(int)
    (array([[1, 0, 1, 0, 1, 0]]), array([[1, 1, 1, 1, 1, 1]]))
    """
    length = eligible.shape[-1]
    ordinal = selection.running_count(starts) - 1  # word index, -1 before
    sizes = ngram_lengths(keys, length, probabilities)
    ends = tf.cumsum(sizes, axis=-1)  # block k: words [ends[k-1], ends[k])
    block = tf.searchsorted(ends, tf.maximum(ordinal, 0), side="right")
    first_word = tf.where(
        block > 0, tf.gather(ends, tf.maximum(block - 1, 0), batch_dims=1),
        0)
    previous = tf.pad(eligible[:, :-1], [[0, 0], [1, 0]])
    block_starts = eligible & ((starts & tf.equal(ordinal, first_word))
                               | tf.logical_not(previous))
    # Words per unit vs the drawn size of its block.
    unit = selection.running_count(block_starts) - 1
    rows = tf.shape(eligible)[0]
    flat = tf.reshape(tf.maximum(unit, 0) + tf.range(rows)[:, None] * length,
                      [-1])
    words = tf.math.unsorted_segment_sum(
        tf.reshape(tf.cast(starts, tf.int32), [-1]), flat, rows * length)
    drawn = tf.gather(sizes, block, batch_dims=1)
    complete = tf.equal(tf.reshape(tf.gather(words, flat), tf.shape(unit)),
                        drawn) & eligible
    return block_starts, complete


def select_ngrams(keys, eligible, starts, rate, probabilities,
                  mask_selection_length):
    """Select whole n-gram blocks (module docstring) at `rate` per token.

    Returns:
        `(selected, unit_ids)`: `[B, L]` bool and `[B, L]` int32 block
        ordinals (for one 80/10/10 decision per n-gram).
    """
    block_starts, complete = ngram_blocks(keys, eligible, starts,
                                          probabilities)
    count = tf.cast(tf.reduce_sum(tf.cast(eligible, tf.int32), -1),
                    tf.float64)
    covered = tf.cast(tf.reduce_sum(tf.cast(complete, tf.int32), -1),
                      tf.float64)
    q = tf.minimum(tf.math.divide_no_nan(count * float(rate), covered), 1.0)
    return selection._select_words_xla(
        keys, eligible, block_starts, rate=q[:, None],
        count_mode="bernoulli",
        mask_selection_length=int(mask_selection_length),
        selectable=complete)
