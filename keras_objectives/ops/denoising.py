"""BART noising as dense, vectorized TF ops.

Every function works on batched `[B, R]` tensors with a static `R`, draws
its randomness from `keras_objectives.ops.random` with per-row `keys`, and
has no Python loop over tokens: positions move by `argsort` on integer keys
and tokens are deleted or inserted by sorting "events" on their output keys
(`compact_by_key`), so everything runs under XLA.

The pieces, in the order `bart_noise` applies them:

1. `document_segments`: split each row into movable runs (documents)
   between boundary tokens (`[CLS]`, `[SEP]`, ...), padding and changes of
   `document_ids`. Boundaries and padding never move.
2. `sentence_permutation`: shuffle the sentences of each document.
3. `document_rotation`: rotate a document to start at a random token.
4. `infilling_spans`: pick Poisson-length spans (BART's text infilling).
5. token masking and token deletion, then one `compact_by_key` builds the
   corrupted row (composed by `keras_objectives.layers.BARTNoiser`).

Reference: [Lewis et al., 2019](https://arxiv.org/abs/1910.13461).
"""

import math

import tensorflow as tf

from keras_objectives.ops import random as kr

_BIG = 2**30
# Streams: a distinct integer per independent random use.
_PERMUTE, _ROTATE, _SPANS, _TOKENS = 10, 20, 30, 40


def is_any_of(token_ids, ids):
    """Bool mask of `token_ids` equal to any of the Python ints `ids`."""
    ids = [int(i) for i in (ids or ())]
    if not ids:
        return tf.zeros_like(token_ids, tf.bool)
    ids = tf.constant(ids, token_ids.dtype)
    return tf.reduce_any(token_ids[..., None] == ids, axis=-1)


def shift_right(x, fill):
    """`x[:, i - 1]` with `fill` at `i = 0`, for `[B, R]` bool or int."""
    first = tf.fill([tf.shape(x)[0], 1], tf.constant(fill, x.dtype))
    return tf.concat([first, x[:, :-1]], axis=1)


def _shift_left(x, fill):
    last = tf.fill([tf.shape(x)[0], 1], tf.constant(fill, x.dtype))
    return tf.concat([x[:, 1:], last], axis=1)


def _positions(x):
    length = x.shape[-1]
    return tf.broadcast_to(tf.range(length), tf.shape(x))


def _take(x, index):
    return tf.gather(x, index, batch_dims=1)


def _round(x):
    """Round half up (not to even), as an int32."""
    return tf.cast(tf.floor(x + 0.5), tf.int32)


def default_max_span_length(poisson_lambda):
    """fairseq's truncation: the first `k >= lambda` with pmf below 1e-7.

    >>> default_max_span_length(3.0)
    17
    """
    k = int(math.floor(poisson_lambda))
    while _poisson_pmf(poisson_lambda, k) >= 1e-7:
        k += 1
    return k


def _poisson_pmf(lam, k):
    return math.exp(-lam + k * math.log(lam) - math.lgamma(k + 1))


def poisson_span_lengths(
    keys, num_spans, poisson_lambda=3.0, max_span_length=None, stream=0
):
    """Span lengths ~ Poisson(lambda) truncated to `[0, max_span_length]`.

    Inverse-CDF sampling from `ops.random.uniform`; the truncated
    distribution is renormalized (as fairseq's `Categorical(ps)`).

    Args:
        keys: uint32 `[B]` per-row keys.
        num_spans: int, spans drawn per row.
        poisson_lambda: float, the Poisson mean before truncation.
        max_span_length: int or `None` (fairseq's rule,
            `default_max_span_length`, 17 for lambda 3).
        stream: int random stream.

    Returns:
        int32 `[B, num_spans]`.

    Examples:

    >>> keys = kr.example_keys(0, 0, tf.range(4))
    >>> lengths = poisson_span_lengths(keys, 1000)
    >>> 2.8 < float(tf.reduce_mean(tf.cast(lengths, tf.float32))) < 3.2
    True
    """
    if max_span_length is None:
        max_span_length = default_max_span_length(poisson_lambda)
    pmf = [_poisson_pmf(poisson_lambda, k) for k in range(max_span_length)]
    total = sum(pmf) + _poisson_pmf(poisson_lambda, max_span_length)
    cdf = tf.constant([sum(pmf[: k + 1]) / total for k in range(len(pmf))])
    u = kr.uniform(keys, num_spans, stream)
    return tf.reduce_sum(tf.cast(u[..., None] >= cdf, tf.int32), axis=-1)


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


def _segment_first_and_length(segment_start):
    """Per position: first position and length of its segment."""
    length = segment_start.shape[-1]
    pos = _positions(segment_start)
    starts = tf.sort(tf.where(segment_start, pos, length + pos), axis=-1)
    starts = tf.minimum(starts, length)
    starts = tf.concat([starts, tf.fill([tf.shape(pos)[0], 1], length)], 1)
    segment_ids = tf.cumsum(tf.cast(segment_start, tf.int32), axis=-1) - 1
    first = _take(starts, segment_ids)
    return first, _take(starts, segment_ids + 1) - first


def sentence_permutation(
    keys, token_ids, movable, segment_start, sentence_end_ids=(), rate=1.0
):
    """Gather indices that shuffle the sentences inside each segment.

    A sentence ends after the last of a run of `sentence_end_ids` tokens
    ("?!" ends one sentence, as in fairseq) or at the segment's end. Each
    segment is shuffled with probability `rate`; segments keep their place.

    Returns:
        int32 `[B, R]`: output position `j` takes input position `out[j]`.

    Examples:

    >>> tokens = tf.constant([[2, 20, 5, 21, 22, 5, 23, 5, 3]])
    >>> movable, start = document_segments(tokens, tokens != 0, [2, 3])
    >>> order = sentence_permutation(
    ...     kr.example_keys(0, 0, [1]), tokens, movable, start, [5])
    >>> tf.gather(tokens, order, batch_dims=1).numpy().tolist()
    [[2, 23, 5, 21, 22, 5, 20, 5, 3]]
    """
    length = token_ids.shape[-1]
    if length * length >= 2**31:
        raise ValueError(
            "Invalid value received for argument `token_ids`. Expected a "
            f"sequence length below 46341. Received: length={length}."
        )
    segment_ids = tf.cumsum(tf.cast(segment_start, tf.int32), axis=-1) - 1
    end = movable & is_any_of(token_ids, sentence_end_ids)
    brk = end & ~_shift_left(end, False)
    sentence_start = segment_start | shift_right(brk, False)
    sentence_ids = tf.cumsum(tf.cast(sentence_start, tf.int32), axis=-1) - 1
    u = _take(kr.uniform(keys, length, _PERMUTE), segment_ids)
    shuffle = movable & (u < rate)
    perm = kr.permutation(keys, length, _PERMUTE + 1)
    rank = tf.where(shuffle, _take(perm, sentence_ids), sentence_ids)
    return tf.argsort(segment_ids * length + rank, axis=-1, stable=True)


def document_rotation(keys, movable, segment_start, rate=0.0):
    """Gather indices that rotate each segment to start at a random token.

    Each segment is rotated with probability `rate`; its new first token is
    uniform over its tokens (so one time in `n` it is left unchanged).

    Returns:
        int32 `[B, R]` gather indices.

    Examples:

    >>> tokens = tf.constant([[2, 20, 21, 22, 23, 3]])
    >>> movable, start = document_segments(tokens, tokens != 0, [2, 3])
    >>> order = document_rotation(
    ...     kr.example_keys(0, 0, [0]), movable, start, rate=1.0)
    >>> tf.gather(tokens, order, batch_dims=1).numpy().tolist()
    [[2, 21, 22, 23, 20, 3]]
    """
    length = movable.shape[-1]
    pos = _positions(movable)
    first, size = _segment_first_and_length(segment_start)
    segment_ids = tf.cumsum(tf.cast(segment_start, tf.int32), axis=-1) - 1
    u = _take(kr.uniform(keys, length, _ROTATE), segment_ids)
    v = _take(kr.uniform(keys, length, _ROTATE + 1), segment_ids)
    size = tf.maximum(size, 1)
    offset = tf.minimum(
        tf.cast(v * tf.cast(size, tf.float32), tf.int32), size - 1
    )
    source = first + tf.math.floormod(pos - first + offset, size)
    return tf.where(movable & (u < rate), source, pos)


def infilling_spans(
    keys, eligible, rate=0.3, poisson_lambda=3.0, max_span_length=None
):
    """BART text infilling: Poisson-length spans covering `rate` of tokens.

    Exactly `num_noise = round(rate * n)` of the `n` eligible tokens are
    covered. Span lengths are drawn (`poisson_span_lengths`) until they sum
    to at least `num_noise`, and the last one is cut to hit it exactly (as
    fairseq). The spans, zero-length ones included, are then placed as
    items among the `n - num_noise` untouched tokens, every arrangement
    equally likely, so spans never overlap. A length-0 span is an insertion
    point. Spans are counted over eligible tokens, so one may straddle a
    special token (which stays).

    Args:
        keys: uint32 `[B]` keys.
        eligible: bool `[B, R]`, tokens that may be covered.
        rate: float, the fraction of eligible tokens to cover.
        poisson_lambda, max_span_length: see `poisson_span_lengths`.

    Returns:
        `(noise_mask, span_start, insert_positions)`: bool `[B, R]` covered
        tokens, bool `[B, R]` first token of each span, and int32 `[B, R]`
        one entry per possible span: the position a `[MASK]` is inserted
        before (length-0 spans; `R` means after the last position) or -1.

    Examples:

    >>> eligible = tf.ones([2, 40], tf.bool)
    >>> noise, start, inserts = infilling_spans(
    ...     kr.example_keys(0, 0, [0, 1]), eligible)
    >>> tf.reduce_sum(tf.cast(noise, tf.int32), axis=1).numpy().tolist()
    [12, 12]
    """
    length = eligible.shape[-1]
    max_spans = length
    batch = tf.shape(eligible)[0]
    n = tf.reduce_sum(tf.cast(eligible, tf.int32), axis=-1)
    num_noise = tf.minimum(_round(rate * tf.cast(n, tf.float32)), n)
    lengths = poisson_span_lengths(
        keys, max_spans, poisson_lambda, max_span_length, _SPANS
    )
    total = tf.cumsum(lengths, axis=-1)
    num_full = tf.reduce_sum(
        tf.cast(total < num_noise[:, None], tf.int32), axis=-1
    )
    num_spans = tf.where(
        num_noise > 0, tf.minimum(num_full + 1, max_spans), 0
    )[:, None]
    s = tf.range(max_spans)[None, :]
    lengths = tf.where(
        s < num_spans - 1,
        lengths,
        tf.where(s == num_spans - 1, num_noise[:, None] - total + lengths, 0),
    )
    before = tf.cumsum(lengths, axis=-1, exclusive=True)
    # Items: n - num_noise untouched tokens and num_spans spans.
    num_items = (n - num_noise)[:, None] + num_spans
    item = tf.range(length + max_spans)[None, :]
    scores = kr.uniform(keys, length + max_spans, _SPANS + 1)
    scores = tf.where(item < num_items, scores, 2.0)
    chosen = tf.argsort(scores, axis=-1)
    chosen = tf.where(item < num_spans, chosen, _BIG)
    slots = tf.sort(chosen, axis=-1)[:, :max_spans]
    valid = s < num_spans
    starts = tf.where(valid, slots - s + before, length)

    # Coverage in the compact (eligible-only) index space, by a +1/-1
    # difference array.
    nonzero = valid & (lengths > 0)
    rows = tf.broadcast_to(tf.range(batch)[:, None], tf.shape(starts))

    def scatter(index, value):
        index = tf.stack([rows, tf.where(nonzero, index, length)], -1)
        return tf.tensor_scatter_nd_add(
            tf.zeros([batch, length + 1], tf.int32),
            tf.reshape(index, [-1, 2]),
            tf.reshape(tf.where(nonzero, value, 0), [-1]),
        )

    covered = tf.cumsum(scatter(starts, 1) - scatter(starts + lengths, 1), 1)
    first = scatter(starts, 1)
    compact = tf.maximum(
        tf.cumsum(tf.cast(eligible, tf.int32), axis=-1) - 1, 0
    )
    noise_mask = eligible & (_take(covered[:, :length], compact) > 0)
    span_start = eligible & (_take(first[:, :length], compact) > 0)

    # Compact index -> position, for the insertion points.
    pos = _positions(eligible)
    where_eligible = tf.sort(tf.where(eligible, pos, length + pos), axis=-1)
    at = _take(where_eligible, tf.clip_by_value(starts, 0, length - 1))
    after_last = _take(where_eligible, tf.maximum(n - 1, 0)[:, None]) + 1
    at = tf.where(starts >= n[:, None], after_last, at)
    insert_positions = tf.where(valid & (lengths == 0), at, -1)
    return noise_mask, span_start, insert_positions


def select_tokens(keys, available, n, rates, stream=_TOKENS):
    """Disjoint uniform subsets of `available`, `round(rate * n)` each.

    Counts are cut to what is available, in the order of `rates`.

    Args:
        keys: uint32 `[B]` keys.
        available: bool `[B, R]`.
        n: int32 `[B]`, the count the rates refer to.
        rates: list of floats.

    Returns:
        A list of bool `[B, R]` masks, one per rate.

    Examples:

    >>> available = tf.ones([1, 10], tf.bool)
    >>> a, b = select_tokens(kr.example_keys(0, 0, [0]), available,
    ...                      tf.constant([10]), [0.2, 0.5])
    >>> int(tf.reduce_sum(tf.cast(a, tf.int32))), bool(tf.reduce_any(a & b))
    (2, False)
    """
    length = available.shape[-1]
    scores = tf.where(available, kr.uniform(keys, length, stream), 2.0)
    rank = tf.argsort(tf.argsort(scores, axis=-1), axis=-1)
    left = tf.reduce_sum(tf.cast(available, tf.int32), axis=-1)
    low, masks = tf.zeros_like(left), []
    for rate in rates:
        count = tf.minimum(_round(rate * tf.cast(n, tf.float32)), left - low)
        masks.append(
            available
            & (rank >= low[:, None])
            & (rank < (low + count)[:, None])
        )
        low += count
    return masks


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
    out = tf.where(mask, _take(values, order), tf.cast(pad_value, values.dtype))
    return out, mask

