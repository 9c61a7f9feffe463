"""Which tokens a masked-LM objective selects: eligibility, budgets, units.

Pure TF on batched `[B, L]` tensors with per-row uint32 `keys` (see
`keras_objectives.ops.random`). Three selection units share one recipe:

* `select_tokens`: single tokens (BERT, RoBERTa);
* `select_words`: whole words, found from WordPiece `##` continuation
  pieces (BERT whole-word masking);
* `select_spans`: contiguous runs of words with Geometric(p) lengths
  (SpanBERT).

Every position gets a hash priority that is unique within its row (the hash
is a bijection of the position for a fixed key), so "pick k at random" is
"take the k highest priorities" with one `top_k`, ties cannot happen, and
the chosen set is a uniformly random k-subset.

`count_mode` fixes how many tokens a row gets, `n` being its eligible count:

| count_mode    | tokens selected                       | from                 |
|---------------|---------------------------------------|----------------------|
| `bernoulli`   | each token with probability `rate`    | HF collators         |
| `exact_ceil`  | `ceil(rate * n)`                      | keras-hub (tf path)  |
| `exact_round` | `min(S, max(1, round(rate * n)))`     | BERT's original code |
| `prob_round`  | `floor(rate * n + U)`, `U ~ U[0, 1)`  | fairseq              |

`S` is `mask_selection_length`. `prob_round` is the default: its mean is
exactly `rate * n` (no `ceil` bias, which over-masks short rows: a row of 10
tokens gets 20%, not 15%, under `exact_ceil`), and its count varies by at
most one token (Bernoulli's has a standard deviation of `sqrt(n p (1-p))`,
about 4 tokens at length 128). `round` is Python 3's (half to even).
"""

import math

import tensorflow as tf

from keras_objectives.ops import random as kr

COUNT_MODES = ("bernoulli", "exact_ceil", "exact_round", "prob_round")

# Independent random streams (see `keras_objectives.ops.random`).
PRIORITY_STREAM = 11
COUNT_STREAM = 12
SPAN_LENGTH_STREAM = 13
SPAN_ANCHOR_STREAM = 14

_ONE = 1 << 24  # uniforms have 24 bits: u < rate  <=>  u24 < ceil(rate * 2^24)


def rate_threshold(rate):
    """The integer `t` with `u < rate <=> u24 < t` for 24-bit uniforms."""
    return int(math.ceil(float(rate) * _ONE))


def uniform24(keys, length, stream):
    """Uniform int32 in `[0, 2^24)`: `kr.uniform(...) * 2^24`, cast-free."""
    bits = kr.random_bits(keys, length, stream)
    return tf.bitcast(tf.bitwise.right_shift(bits, tf.constant(8, tf.uint32)),
                      tf.int32)


def priorities(keys, length, stream=PRIORITY_STREAM):
    """Random int32 priorities in `[0, 2^31)`, distinct within a row.

    `random_bits` is a bijection of the position for a fixed key, so the 32
    bit values are distinct; dropping the lowest bit leaves them distinct
    up to a ~`L^2 / 2^33` chance (broken by position). `priority >> 7` is
    the row's 24-bit uniform, so `priority >> 7 >= 2^24 - rate_threshold(r)`
    is a Bernoulli(r) draw.
    """
    bits = kr.random_bits(keys, length, stream)
    return tf.bitcast(tf.bitwise.right_shift(bits, tf.constant(1, tf.uint32)),
                      tf.int32)


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
            hit = (ids >= lo) & (ids <= hi) if lo != hi else tf.equal(ids, lo)
            out = hit if out is None else out | hit
        return out
    top = runs[-1][1]
    table = [False] * (top + 1)
    for lo, hi in runs:
        table[lo:hi + 1] = [True] * (hi - lo + 1)
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


def word_starts(token_ids, eligible, continuation_ids=None):
    """True on the first piece of each eligible word.

    A word is an eligible token that is not a `##` continuation piece, plus
    the continuation pieces that follow it. A continuation piece after a
    special token or padding starts a word of its own, so words never cross
    ineligible positions. With `continuation_ids=None` every eligible token
    is a word.
    """
    if continuation_ids is None:
        return eligible
    continuation = isin(token_ids, continuation_ids)
    previous = tf.pad(eligible[:, :-1], [[0, 0], [1, 0]])
    return eligible & (tf.logical_not(continuation) | tf.logical_not(previous))


def selection_count(keys, num_eligible, rate, count_mode, max_count):
    """Tokens to select per row (`[B]` int32) under an exact `count_mode`.

    `bernoulli` is per token and has no count; `select_spans` draws it as
    a binomial. Rate 0 selects nothing in every mode (BERT's `max(1, .)`
    applies only to rates above 0). The result is capped at `max_count`.
    """
    n = tf.cast(num_eligible, tf.float64)
    x = n * float(rate)
    if count_mode == "exact_ceil":
        # The epsilon keeps float error from rounding 0.7 * 10 up to 8.
        k = tf.math.ceil(x - 1e-9)
    elif count_mode == "exact_round":
        k = tf.where(n > 0, tf.maximum(tf.round(x), 1.0), 0.0)
        k = k if rate > 0 else tf.zeros_like(k)
    elif count_mode == "prob_round":
        u = tf.cast(kr.scalar_uniform(keys, COUNT_STREAM), tf.float64)
        k = tf.floor(x + u)
    else:
        raise ValueError(f"count_mode={count_mode!r} has no exact count")
    return tf.minimum(tf.cast(k, tf.int32), max_count)


def _top(priority, k):
    length = priority.shape[-1]
    if k <= length:
        return tf.math.top_k(priority, k)
    values, indices = tf.math.top_k(priority, length)
    pad = [[0, 0], [0, k - length]]
    return (tf.pad(values, pad, constant_values=-1),
            tf.pad(indices, pad, constant_values=length))


def _accept(values, sizes, num_eligible, keys, rate, count_mode, capacity):
    """Accept a prefix of units sorted by priority under the token budget.

    `sizes` are the units' token counts (`[B, K]`). Exact modes never exceed
    their count `k`; `prob_round` accepts the unit that crosses the budget
    `rate * n` with probability `(rate * n - before) / size`, so the
    expected token count is exactly `rate * n` even for multi-token units.
    """
    valid = values >= 0
    sizes = tf.where(valid, sizes, capacity + 1)
    total = tf.cumsum(sizes, axis=-1)
    fits = valid & (total <= capacity)
    if count_mode == "bernoulli":
        cut = _ONE - rate_threshold(rate)
        return fits & (tf.bitwise.right_shift(values, 7) >= cut)
    if count_mode != "prob_round":
        k = selection_count(keys, num_eligible, rate, count_mode, capacity)
        return fits & (total <= k[:, None])
    budget = tf.cast(num_eligible, tf.float32)[:, None] * float(rate)
    coin = kr.scalar_uniform(keys, COUNT_STREAM)[:, None]
    before = tf.cast(total - sizes, tf.float32)
    crossing = coin * tf.cast(sizes, tf.float32) < budget - before
    return fits & ((tf.cast(total, tf.float32) <= budget) | crossing)


def select_tokens(keys, eligible, rate, count_mode, mask_selection_length):
    """Select single tokens.

    Args:
        keys: `[B]` uint32 per-row keys.
        eligible: `[B, L]` bool, from `eligible_mask`.
        rate: float, the selection rate.
        count_mode: one of `COUNT_MODES`.
        mask_selection_length: int `S`, the most tokens a row may get.
            `bernoulli` rows that draw more keep the `S` with the highest
            priority (a uniformly random subset).

    Returns:
        `(positions, selected)`: `[B, S]` int32 positions sorted ascending
        (0 where unused) and `[B, S]` bool, True on used slots.
    """
    length = eligible.shape[-1]
    size = mask_selection_length
    priority = tf.where(eligible, priorities(keys, length), -1)
    values, indices = _top(priority, size)
    n = tf.reduce_sum(tf.cast(eligible, tf.int32), -1)
    accepted = _accept(values, tf.ones_like(indices), n, keys, rate,
                       count_mode, size)
    positions = tf.sort(tf.where(accepted, indices, length), axis=-1)
    selected = positions < length
    return tf.where(selected, positions, 0), selected


def _first_at_least(cumulative, targets):
    """Index of the first position where `cumulative >= targets` (or L)."""
    return tf.searchsorted(cumulative, targets, side="left")


def select_words(keys, eligible, starts, rate, count_mode,
                 mask_selection_length):
    """Select whole words in random order under a token budget.

    Words are taken in random order while the budget allows; a word is
    never split. Exact modes stop before the first word that would exceed
    their count `k` (so rows get at most `k`, a little less when a long
    word blocks the end; BERT and HF instead skip that word and keep
    trying shorter ones). `prob_round` takes the crossing word with
    probability `(rate * n - before) / word_length`, keeping the expected
    count at `rate * n`. `bernoulli` selects each word with probability
    `rate`. No row gets more than `mask_selection_length` tokens.

    Args:
        keys, eligible, rate, count_mode, mask_selection_length: as in
            `select_tokens`.
        starts: `[B, L]` bool, from `word_starts`.

    Returns:
        `(selected, word_ids)`: `[B, L]` bool and `[B, L]` int32, the
        word's ordinal within its row (one 80/10/10 decision per word).
    """
    length = eligible.shape[-1]
    size = min(mask_selection_length, length)
    ordinal = tf.cumsum(tf.cast(starts, tf.int32), axis=-1)
    num_words = ordinal[:, -1:]
    word_ids = tf.maximum(ordinal - 1, 0)
    # One priority per word ordinal.
    priority = tf.where(tf.range(length)[None, :] < num_words,
                        priorities(keys, length), -1)
    values, words = tf.math.top_k(priority, size)
    first = _first_at_least(ordinal, words + 1)
    boundary = tf.cumsum(
        tf.cast(starts | tf.logical_not(eligible), tf.int32), axis=-1)
    here = tf.gather(boundary, tf.minimum(first, length - 1), batch_dims=1)
    sizes = _first_at_least(boundary, here + 1) - first
    n = tf.reduce_sum(tf.cast(eligible, tf.int32), -1)
    accepted = _accept(values, sizes, n, keys, rate, count_mode,
                       mask_selection_length)
    count = tf.reduce_sum(tf.cast(accepted, tf.int32), -1)
    threshold = tf.gather(values, tf.maximum(count - 1, 0), batch_dims=1)
    token_priority = tf.gather(priority, word_ids, batch_dims=1)
    selected = (eligible & (token_priority >= threshold[:, None])
                & (count > 0)[:, None])
    return selected, word_ids


def geometric_span_lengths(keys, num_spans, p=0.2, max_length=10,
                           stream=SPAN_LENGTH_STREAM):
    """Span lengths ~ Geometric(p) truncated to `[1, max_length]`.

    SpanBERT renormalizes the geometric over `1..max_length` (mean 3.78 at
    `p=0.2`, `max_length=10`); drawn by inverse CDF from one uniform each.

    Examples:

    >>> lengths = geometric_span_lengths(kr.example_keys(0, 0, [0]), 4)
    >>> lengths.shape, int(tf.reduce_min(lengths)) >= 1
    (TensorShape([1, 4]), True)
    """
    if p >= 1.0:
        return tf.ones(tf.concat([tf.shape(keys), [num_spans]], 0), tf.int32)
    u = kr.uniform(keys, num_spans, stream)
    q = 1.0 - p
    mass = 1.0 - q**max_length
    draws = tf.floor(tf.math.log1p(-u * mass) / math.log(q)) + 1.0
    return tf.clip_by_value(tf.cast(draws, tf.int32), 1, max_length)


def mean_span_length(p=0.2, max_length=10):
    """Mean of `geometric_span_lengths` (3.78 for SpanBERT)."""
    weights = [p * (1 - p) ** (i - 1) for i in range(1, max_length + 1)]
    return sum(i * w for i, w in enumerate(weights, 1)) / sum(weights)


def select_spans(keys, eligible, starts, rate, count_mode,
                 mask_selection_length, num_candidate_spans, p=0.2,
                 max_span_length=10):
    """Select SpanBERT spans of whole words under a token budget.

    Each row draws `num_candidate_spans` spans at once: a length in words
    from `geometric_span_lengths` and an anchor at a uniformly random word
    start. A span covers its words but stops at the first special token or
    padding. As in SpanBERT, a span whose anchor is already covered by an
    earlier span is skipped, spans are taken in order until the budget
    (from `count_mode`; a Binomial(n, rate) draw for `bernoulli`) is
    reached, and the last span is cut at the budget, so the count modes
    hold exactly for tokens. Rows whose candidates run out first (very short
    segments) get fewer tokens.

    Args:
        keys, eligible, rate, count_mode, mask_selection_length: as in
            `select_tokens`.
        starts: `[B, L]` bool, from `word_starts`.
        num_candidate_spans: int, spans drawn per row (static).
        p, max_span_length: the span length distribution.

    Returns:
        `(selected, span_ids)`: `[B, L]` bool, and `[B, L]` int32, the
        index of the span that covers each position (`-1` if none).
    """
    length = eligible.shape[-1]
    spans = num_candidate_spans
    ordinal = tf.cumsum(tf.cast(starts, tf.int32), axis=-1)
    num_words = ordinal[:, -1]
    n = tf.reduce_sum(tf.cast(eligible, tf.int32), -1)
    if count_mode == "bernoulli":
        draws = uniform24(keys, length, COUNT_STREAM) < rate_threshold(rate)
        budget = tf.reduce_sum(tf.cast(eligible & draws, tf.int32), -1)
        budget = tf.minimum(budget, mask_selection_length)
    else:
        budget = selection_count(keys, n, rate, count_mode,
                                 mask_selection_length)

    sizes = geometric_span_lengths(keys, spans, p, max_span_length)
    anchors = kr.randint(keys, spans, tf.maximum(num_words, 1)[:, None],
                         SPAN_ANCHOR_STREAM)
    begin = _first_at_least(ordinal, anchors + 1)
    word_end = _first_at_least(ordinal, anchors + sizes + 1)
    gaps = tf.cumsum(tf.cast(tf.logical_not(eligible), tf.int32), axis=-1)
    here = tf.gather(gaps, tf.minimum(begin, length - 1), batch_dims=1)
    end = tf.minimum(word_end, _first_at_least(gaps, here + 1))

    # SpanBERT re-draws an anchor that is already masked: skip it. Spans are
    # few, so this short sequential pass over them is unrolled.
    valid = []
    for c in range(spans):
        ok = num_words > 0
        if c:
            inside = ((begin[:, c:c + 1] >= begin[:, :c])
                      & (begin[:, c:c + 1] < end[:, :c])
                      & tf.stack(valid, axis=1))
            ok &= tf.logical_not(tf.reduce_any(inside, axis=-1))
        valid.append(ok)
    valid = tf.stack(valid, axis=1)

    position = tf.range(length)[None, None, :]
    covers = (valid[:, :, None] & (position >= begin[:, :, None])
              & (position < end[:, :, None]))
    index = tf.range(spans)[None, :, None]
    span_of = tf.reduce_min(tf.where(covers, index, spans), axis=1)
    added = tf.math.bincount(span_of, minlength=spans + 1,
                             maxlength=spans + 1, axis=-1)[:, :spans]
    total = tf.cumsum(added, axis=-1)
    # The span that reaches the budget is cut; the ones before it are whole.
    crossing = tf.reduce_sum(tf.cast(total < budget[:, None], tf.int32), -1)
    before = tf.gather(total - added, tf.minimum(crossing, spans - 1),
                       batch_dims=1)
    in_crossing = (span_of == crossing[:, None]) & (crossing < spans)[:, None]
    rank = tf.cumsum(tf.cast(in_crossing, tf.int32), axis=-1)
    selected = (span_of < crossing[:, None]) | (
        in_crossing & (rank <= (budget - before)[:, None]))
    return selected, tf.where(selected, span_of, -1)
