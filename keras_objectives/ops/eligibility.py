"""Which tokens may be selected: specials, padding, `##` continuations.

Pure TF on batched `[B, L]` tensors. `keras_objectives.ops.selection`
re-exports these next to the selection functions that use them.
"""

import tensorflow as tf


def _ranges(values):
    """Sorted ints -> list of inclusive `(lo, hi)` runs."""
    runs = []
    for v in sorted(set(int(v) for v in values)):
        if runs and v == runs[-1][1] + 1:
            runs[-1][1] = v
        else:
            runs.append([v, v])
    return runs


def isin(ids, values):
    """Elementwise `ids in values` for a static Python list of ints.

    A few contiguous runs (the reserved block of a vocabulary) compile to
    range comparisons; a scattered set (WordPiece `##` pieces) to a lookup
    table.
    """
    runs = _ranges(values)
    if not runs:
        return tf.zeros_like(ids, tf.bool)
    if len(runs) <= 4:
        out = None
        for lo, hi in runs:
            if lo == 0:  # ids are never negative
                hit = ids <= hi
            else:
                hit = (ids >= lo) & (ids <= hi)
            out = hit if out is None else out | hit
        return out
    top, hits = runs[-1][1], {int(v) for v in values}
    table = [i in hits for i in range(top + 1)]
    inside = tf.gather(tf.constant(table), tf.clip_by_value(ids, 0, top))
    return inside & (ids >= 0) & (ids <= top)


def eligible_mask(token_ids, special_ids, padding_mask=None):
    """True where a token may be selected: real (not padding), not special.

    Args:
        token_ids: int32 tensor.
        special_ids: list of ints, never selected.
        padding_mask: optional bool tensor, True on real tokens (by
            position).

    Examples:

    >>> eligible_mask(tf.constant([2, 150, 151, 3, 0]), [0, 1, 2, 3, 4],
    ...               tf.constant([True, True, True, True, False])).numpy()
    array([False,  True,  True, False, False])
    """
    eligible = tf.logical_not(isin(token_ids, special_ids))
    if padding_mask is not None:
        eligible &= tf.cast(padding_mask, tf.bool)
    return eligible
