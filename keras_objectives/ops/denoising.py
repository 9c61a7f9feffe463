"""BART noising as dense, vectorized TF ops.

Every function works on batched `[B, R]` tensors with a static `R`, draws
its randomness from `keras_objectives.ops.random` with per-row `keys`, and
has no Python loop over tokens: positions move by `argsort` on integer keys
and tokens are deleted or inserted by sorting "events" on their output keys
(`compact_by_key`), so everything runs under XLA. The row helpers they
share with the other ops live in `keras_objectives.ops.segments`.

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
from keras_objectives.ops.segments import is_any_of
from keras_objectives.ops.segments import positions
from keras_objectives.ops.segments import segment_first_and_length
from keras_objectives.ops.segments import segment_ids as _segment_ids
from keras_objectives.ops.segments import shift_left
from keras_objectives.ops.segments import shift_right
from keras_objectives.ops.segments import take

_BIG = 2**30


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
    >>> from keras_objectives.ops.segments import document_segments
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
    segment_ids = _segment_ids(segment_start)
    end = movable & is_any_of(token_ids, sentence_end_ids)
    brk = end & ~shift_left(end, False)
    sentence_start = segment_start | shift_right(brk, False)
    sentence_ids = tf.cumsum(tf.cast(sentence_start, tf.int32), axis=-1) - 1
    u = take(kr.uniform(keys, length, kr.SENTENCE_SHUFFLE), segment_ids)
    shuffle = movable & (u < rate)
    perm = kr.permutation(keys, length, kr.SENTENCE_ORDER)
    rank = tf.where(shuffle, take(perm, sentence_ids), sentence_ids)
    return tf.argsort(segment_ids * length + rank, axis=-1, stable=True)


def document_rotation(keys, movable, segment_start, rate=0.0):
    """Gather indices that rotate each segment to start at a random token.

    Each segment is rotated with probability `rate`; its new first token is
    uniform over its tokens (so one time in `n` it is left unchanged).

    Returns:
        int32 `[B, R]` gather indices.

    Examples:

    >>> tokens = tf.constant([[2, 20, 21, 22, 23, 3]])
    >>> from keras_objectives.ops.segments import document_segments
    >>> movable, start = document_segments(tokens, tokens != 0, [2, 3])
    >>> order = document_rotation(
    ...     kr.example_keys(0, 0, [0]), movable, start, rate=1.0)
    >>> tf.gather(tokens, order, batch_dims=1).numpy().tolist()
    [[2, 21, 22, 23, 20, 3]]
    """
    length = movable.shape[-1]
    pos = positions(movable)
    first, size = segment_first_and_length(segment_start)
    segment_ids = _segment_ids(segment_start)
    u = take(kr.uniform(keys, length, kr.ROTATE), segment_ids)
    v = take(kr.uniform(keys, length, kr.ROTATE_OFFSET), segment_ids)
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
        keys, max_spans, poisson_lambda, max_span_length, kr.INFILL_LENGTHS
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
    scores = kr.uniform(keys, length + max_spans, kr.INFILL_PLACES)
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
    noise_mask = eligible & (take(covered[:, :length], compact) > 0)
    span_start = eligible & (take(first[:, :length], compact) > 0)

    # Compact index -> position, for the insertion points.
    pos = positions(eligible)
    where_eligible = tf.sort(tf.where(eligible, pos, length + pos), axis=-1)
    at = take(where_eligible, tf.clip_by_value(starts, 0, length - 1))
    after_last = take(where_eligible, tf.maximum(n - 1, 0)[:, None]) + 1
    at = tf.where(starts >= n[:, None], after_last, at)
    insert_positions = tf.where(valid & (lengths == 0), at, -1)
    return noise_mask, span_start, insert_positions


def select_tokens(keys, available, n, rates, stream=kr.TOKEN_SELECTION):
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

