"""MASS: mask one contiguous fragment, predict it (Song et al., 2019).

MASS (Masked Sequence to Sequence pre-training) masks a single contiguous
fragment of about half of each sentence: the encoder reads the sentence
with the fragment replaced by `[MASK]`, the decoder predicts the fragment.
These functions draw the fragment and cut the (inputs, targets) pair; the
two model forms are those of every (inputs, targets) objective
(`keras_objectives.ops.prefix_lm.format_example`).

All functions take batched `[B, ...]` tensors and keep static widths.
"""

import numpy as np
import tensorflow as tf

from keras_objectives.ops import random as kr
from keras_objectives.ops.segments import take


def fragment_lengths(lengths, fragment_ratio):
    """MASS's fragment length `k = round(fragment_ratio * n)`, per row.

    At least 1 for a non-empty row and at most `n` (`k = n` masks the whole
    sentence: MASS's GPT-like end point).

    Args:
        lengths: int `[B]` tensor (or list), the real tokens per row.
        fragment_ratio: float in (0, 1], the share of the row to mask.

    Returns:
        int32 `[B]`.

    Examples:

    >>> fragment_lengths([0, 1, 5, 128], 0.5).numpy().tolist()
    [0, 1, 3, 64]
    """
    n = tf.cast(lengths, tf.int32)
    k = tf.cast(tf.floor(tf.cast(n, tf.float32) * fragment_ratio + 0.5),
                tf.int32)
    return tf.clip_by_value(k, tf.minimum(n, 1), n)


def longest_fragment(width, fragment_ratio):
    """int, `fragment_lengths` of a full row of `width` tokens, in NumPy.

    The static width of the targets (same float32 arithmetic).

    Examples:

    >>> longest_fragment(85, 0.5), longest_fragment(128, 0.1)
    (43, 13)
    """
    k = int(np.floor(np.float32(width) * np.float32(fragment_ratio)
                     + np.float32(0.5)))
    return min(max(k, min(width, 1)), width)


def fragment_starts(keys, lengths, fragment_lengths_):
    """The first fragment position, uniform on `[0, n - k]`, per row.

    Drawn from `keys` on the `kr.SPAN_ANCHOR` stream (a fragment is a span;
    no transform draws both).

    Examples:

    >>> keys = kr.example_keys(0, 0, tf.range(1000))
    >>> s = fragment_starts(keys, tf.fill([1000], 6), tf.fill([1000], 3))
    >>> sorted(set(s.numpy().tolist()))
    [0, 1, 2, 3]
    """
    room = tf.cast(lengths, tf.int32) - tf.cast(fragment_lengths_, tf.int32)
    draw = kr.randint(keys, 1, (tf.maximum(room, 0) + 1)[:, None],
                      kr.SPAN_ANCHOR)
    return draw[:, 0]


def mask_fragment(token_ids, lengths, starts, fragment_lengths_, mask_id,
                  pad_id, targets_length):
    """Cut rows into MASS's masked inputs and fragment targets.

    Args:
        token_ids: int `[B, R]` rows.
        lengths: int `[B]`, the real tokens of each row.
        starts, fragment_lengths_: int `[B]`, the fragment of each row.
        mask_id, pad_id: ints.
        targets_length: int, the static width of the targets.

    Returns:
        `(inputs, inputs_lengths, targets, targets_lengths)`: the row with
        the fragment set to `mask_id` (padding set to `pad_id`), its
        length, the fragment padded to `targets_length`, its length.

    Examples:

    >>> out = mask_fragment(tf.constant([[5, 6, 7, 8, 0]]), tf.constant([4]),
    ...                     tf.constant([1]), tf.constant([2]), mask_id=4,
    ...                     pad_id=0, targets_length=3)
    >>> [t.numpy().tolist() for t in out]
    [[[5, 4, 4, 8, 0]], [4], [[6, 7, 0]], [2]]
    """
    token_ids = tf.cast(token_ids, tf.int32)
    lengths = tf.cast(lengths, tf.int32)
    start = tf.cast(starts, tf.int32)[:, None]
    k = tf.cast(fragment_lengths_, tf.int32)
    q = tf.range(token_ids.shape[-1])[None, :]
    inside = (q >= start) & (q < start + k[:, None])
    real = tf.where(q < lengths[:, None], token_ids, pad_id)
    inputs = tf.where(inside, mask_id, real)
    t = tf.range(targets_length)[None, :]
    index = tf.minimum(start + t, token_ids.shape[-1] - 1)
    targets = tf.where(t < k[:, None], take(token_ids, index), pad_id)
    return inputs, lengths, targets, k
