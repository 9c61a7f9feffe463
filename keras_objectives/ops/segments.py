"""Row helpers the ops share: shifts, batched gathers, segments, layout.

Every function works on batched `[B, R]` tensors with a static `R` and is
plain dense TF, so it runs under XLA. A *segment* is a maximal run of
movable tokens of one document (`document_segments`); BART's sentence
permutation and document rotation and FIM's rearrangement act per segment,
and `compact_by_key` lays out a row after tokens were moved, deleted or
inserted.
"""

import tensorflow as tf

_BIG = 2**30


def shift_right(x, fill):
    """`x[:, i - 1]` with `fill` at `i = 0`, for `[B, R]` bool or int.

    Examples:

    >>> shift_right(tf.constant([[5, 6, 7]]), 0).numpy().tolist()
    [[0, 5, 6]]
    """
    first = tf.fill([tf.shape(x)[0], 1], tf.cast(fill, x.dtype))
    return tf.concat([first, x[:, :-1]], axis=1)


def shift_left(x, fill):
    """`x[:, i + 1]` with `fill` at the last position."""
    last = tf.fill([tf.shape(x)[0], 1], tf.cast(fill, x.dtype))
    return tf.concat([x[:, 1:], last], axis=1)


def positions(x):
    """int32 `[B, R]`: the position of every entry of `x` in its row."""
    return tf.broadcast_to(tf.range(x.shape[-1]), tf.shape(x))


def take(x, index):
    """`x[b, index[b, ...]]` per row (`tf.gather` with one batch dim)."""
    return tf.gather(x, index, batch_dims=1)


def is_any_of(token_ids, ids):
    """Bool mask of `token_ids` equal to any of the Python ints `ids`."""
    ids = [int(i) for i in (ids or ())]
    if not ids:
        return tf.zeros_like(token_ids, tf.bool)
    ids = tf.constant(ids, token_ids.dtype)
    return tf.reduce_any(token_ids[..., None] == ids, axis=-1)


def document_segments(
    token_ids, padding_mask, boundary_ids=(), document_ids=None
):
    """Movable positions and segment starts of each row.

    A segment is a maximal run of real, non-boundary tokens of one document
    (the `document_ids` change starts a new one). Each boundary token and
    each padding position is a segment of its own and never moves.

    Returns:
        `(movable, segment_start)`, two bool `[B, R]` tensors.

    Examples:

    >>> tokens = tf.constant([[2, 20, 21, 3, 22, 3, 0]])
    >>> movable, start = document_segments(tokens, tokens != 0, [2, 3])
    >>> movable.numpy().astype(int).tolist()
    [[0, 1, 1, 0, 1, 0, 0]]
    >>> start.numpy().astype(int).tolist()
    [[1, 1, 0, 1, 1, 1, 1]]
    """
    real = tf.cast(padding_mask, tf.bool)
    movable = real & ~is_any_of(token_ids, boundary_ids)
    start = movable & ~shift_right(movable, False)
    if document_ids is not None:
        document_ids = tf.cast(document_ids, tf.int32)
        start |= movable & (document_ids != shift_right(document_ids, -1))
    return movable, start | ~movable


def segment_ids(segment_start):
    """int32 `[B, R]`: the index of each position's segment in its row."""
    return tf.cumsum(tf.cast(segment_start, tf.int32), axis=-1) - 1


def segment_first_and_length(segment_start):
    """Per position: the first position and the length of its segment.

    Examples:

    >>> first, size = segment_first_and_length(
    ...     tf.constant([[True, False, False, True, False]]))
    >>> first.numpy().tolist(), size.numpy().tolist()
    ([[0, 0, 0, 3, 3]], [[3, 3, 3, 2, 2]])
    """
    length = segment_start.shape[-1]
    pos = positions(segment_start)
    starts = tf.sort(tf.where(segment_start, pos, length + pos), axis=-1)
    starts = tf.minimum(starts, length)
    starts = tf.concat([starts, tf.fill([tf.shape(pos)[0], 1], length)], 1)
    ids = segment_ids(segment_start)
    first = take(starts, ids)
    return first, take(starts, ids + 1) - first


def compact_by_key(values, sort_keys, valid, length, pad_value):
    """Keep `valid` entries, order them by `sort_keys`, pad to `length`.

    The dense replacement for deleting and inserting tokens: every kept
    token and every inserted one is an event with an integer output key;
    a stable `argsort` lays them out. Events past `length` are dropped.

    Returns:
        `(values, padding_mask)` of shape `[B, length]`.

    Examples:

    >>> values = tf.constant([[7, 8, 9, 4]])
    >>> keys = tf.constant([[1, 3, 5, 2]])  # the 4 goes between 7 and 8
    >>> valid = tf.constant([[True, False, True, True]])
    >>> out, mask = compact_by_key(values, keys, valid, 4, 0)
    >>> out.numpy().tolist(), mask.numpy().tolist()
    ([[7, 4, 9, 0]], [[True, True, True, False]])
    """
    if values.shape[-1] < length:
        pad = length - values.shape[-1]
        values = tf.pad(values, [[0, 0], [0, pad]])
        sort_keys = tf.pad(sort_keys, [[0, 0], [0, pad]])
        valid = tf.pad(valid, [[0, 0], [0, pad]])
    order = tf.argsort(
        tf.where(valid, sort_keys, _BIG), axis=-1, stable=True
    )[:, :length]
    count = tf.reduce_sum(tf.cast(valid, tf.int32), axis=-1)
    mask = tf.range(length)[None, :] < count[:, None]
    out = tf.where(mask, take(values, order), tf.cast(pad_value, values.dtype))
    return out, mask
