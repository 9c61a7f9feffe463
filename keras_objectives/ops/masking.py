"""BERT-style corruption: select, then replace 80/10/10, as pure TF ops.

`masked_lm_mask` (tokens or whole words) and `span_mask` (SpanBERT) take
batched `[B, L]` int32 `token_ids` and per-row uint32 `keys` (from
`SeededTransform.keys`) and return a dict:

| key              | shape    | meaning                                       |
|------------------|----------|-----------------------------------------------|
| `token_ids`      | `[B, L]` | corrupted ids                                 |
| `mask_positions` | `[B, S]` | selected positions, ascending, 0-padded       |
| `mask_ids`       | `[B, S]` | original ids there, 0-padded                  |
| `mask_weights`   | `[B, S]` | float32, 1 on used slots                      |

Writing `mask_ids` back at `mask_positions` rebuilds the input exactly.
Selected tokens become `mask_token_id` with probability `mask_token_rate`,
a random id with probability `random_token_rate`, else stay. Random ids are
uniform over the ids of `[0, vocabulary_size)` that are not special, so a
special token is never inserted (keras-hub and HF can insert `[CLS]` or
`[PAD]`). Whole words and spans take one 80/10/10 decision per unit; each
piece of a randomly replaced unit gets its own random id.
"""

import math

import tensorflow as tf

from keras_objectives.ops import ngrams
from keras_objectives.ops import random as kr
from keras_objectives.ops import replacement
from keras_objectives.ops import selection


def geometric_span_lengths(keys, num_spans, p=0.2, max_length=10,
                           stream=kr.SPAN_LENGTH):
    """Span lengths ~ Geometric(p) truncated to `[1, max_length]`.

    SpanBERT renormalizes the geometric over `1..max_length` (mean 3.80 at
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
    """Mean of `geometric_span_lengths` (3.797 for SpanBERT's p=0.2, 10)."""
    weights = [p * (1 - p) ** (i - 1) for i in range(1, max_length + 1)]
    return sum(i * w for i, w in enumerate(weights, 1)) / sum(weights)


def select_spans(keys, eligible, starts, rate, count_mode,
                 mask_selection_length, num_candidate_spans, p=0.2,
                 max_span_length=10):
    """Select SpanBERT spans of whole words under a token budget.

    Each row draws `num_candidate_spans` spans at once: a length in words
    from `geometric_span_lengths` and an anchor at a uniformly random word
    start. A span covers its words but stops at the first special token or
    padding. Spans are taken in order until the budget (from `count_mode`;
    a Binomial(n, rate) draw for `bernoulli`) is reached and the last one is
    cut there, as in SpanBERT, so the count modes hold exactly for tokens.
    As in SpanBERT, a span whose anchor is already masked is skipped. A span
    that runs into an earlier one stops there (SpanBERT runs on through it;
    this changes which tokens are masked only where spans collide), so
    spans never overlap. Rows whose candidates run out first (very short or
    fragmented rows) get fewer tokens.

    Args:
        keys, eligible, rate, count_mode, mask_selection_length: as in
            `selection.select_tokens`.
        starts: `[B, L]` bool, from `selection.word_starts`.
        num_candidate_spans: int, spans drawn per row (static).
        p, max_span_length: the span length distribution.

    Returns:
        `(selected, span_ids)`: `[B, L]` bool, and `[B, L]` int32, the
        index of the span that covers each position (`-1` if none).
    """
    length = eligible.shape[-1]
    spans = num_candidate_spans
    ordinal = selection.running_count(starts)
    num_words = ordinal[:, -1]
    n = tf.reduce_sum(tf.cast(eligible, tf.int32), -1)
    if count_mode == "bernoulli":
        draws = selection.uniform24(keys, length, kr.SELECTION_COUNT) < (
            selection.rate_threshold(rate))
        budget = tf.reduce_sum(tf.cast(eligible & draws, tf.int32), -1)
        budget = tf.minimum(budget, mask_selection_length)
    else:
        budget = selection.selection_count(keys, n, rate, count_mode,
                                           mask_selection_length)

    sizes = geometric_span_lengths(keys, spans, p, max_span_length)
    anchors = kr.randint(keys, spans, tf.maximum(num_words, 1)[:, None],
                         kr.SPAN_ANCHOR)
    begin = selection.first_at_least(ordinal, anchors + 1)
    word_end = selection.first_at_least(ordinal, anchors + sizes + 1)
    gaps = selection.running_count(tf.logical_not(eligible))
    here = tf.gather(gaps, tf.minimum(begin, length - 1), batch_dims=1)
    end = tf.minimum(word_end, selection.first_at_least(gaps, here + 1))

    # One short sequential pass over the spans (unrolled): skip a span whose
    # anchor is masked, stop a span at the next masked token.
    stops = []
    for c in range(spans):
        start, stop = begin[:, c], end[:, c]
        ok = num_words > 0
        if c:
            before, until = begin[:, :c], tf.stack(stops, axis=1)
            ok &= tf.logical_not(tf.reduce_any(
                (before <= start[:, None]) & (start[:, None] < until), -1))
            ahead = tf.where((before > start[:, None]) & (until > before),
                             before, length)
            stop = tf.minimum(stop, tf.reduce_min(ahead, axis=-1))
        stops.append(tf.where(ok, stop, start))
    stop = tf.stack(stops, axis=1)

    # The span that reaches the budget is cut; the ones after it dropped.
    added = stop - begin
    total = tf.cumsum(added, axis=-1)
    crossing = tf.reduce_sum(tf.cast(total < budget[:, None], tf.int32), -1)
    index = tf.range(spans)[None, :]
    cut = begin + budget[:, None] - (total - added)
    stop = tf.where(index < crossing[:, None], stop,
                    tf.where(index == crossing[:, None], cut, begin))
    # Paint the disjoint spans: +(c + 1) at their start, -(c + 1) at their
    # end, then a running sum.
    marks = tf.where(stop > begin, index + 1, 0)
    rows = tf.broadcast_to(tf.range(tf.shape(begin)[0])[:, None],
                           tf.shape(begin))
    edges = tf.tensor_scatter_nd_add(
        tf.zeros(tf.stack([tf.shape(begin)[0], length + 1]), tf.int32),
        tf.concat([tf.stack([rows, begin], -1), tf.stack([rows, stop], -1)],
                  axis=1),
        tf.concat([marks, -marks], axis=1))
    span_ids = selection.running_count(edges[:, :length]) - 1
    return span_ids >= 0, span_ids


def masked_lm_mask(
    token_ids,
    keys,
    vocabulary_size,
    mask_token_id,
    special_token_ids,
    mask_selection_length,
    selection_rate=0.15,
    mask_token_rate=0.8,
    random_token_rate=0.1,
    count_mode="prob_round",
    padding_mask=None,
    continuation_token_ids=None,
    whole_word=False,
    word_starts=None,
    replacement_unit="word",
    ngram_probabilities=None,
):
    """Masked-LM corruption of single tokens or whole words.

    Args:
        token_ids: `[B, L]` int32.
        keys: `[B]` uint32 per-row keys.
        vocabulary_size: int.
        mask_token_id: int, the `[MASK]` id.
        special_token_ids: list of ints never selected or inserted
            (`mask_token_id` is added to it).
        mask_selection_length: int `S`, the static number of output slots.
        selection_rate: float, the share of eligible tokens selected.
        mask_token_rate, random_token_rate: the 80/10/10 split.
        count_mode: see `keras_objectives.ops.selection`.
        padding_mask: optional `[B, L]` bool, True on real tokens.
        continuation_token_ids: list of the `##` piece ids (whole words).
        whole_word: bool, select whole words.
        word_starts: optional `[B, L]` bool, True on the first token of
            each word (segmented Chinese); with `whole_word`, words come
            from it instead of `##` pieces (`ngrams.starts_from_feature`).
        replacement_unit: `"word"`: one 80/10/10 decision per selected
            word (or n-gram); `"token"`: one per token (BERT-wwm's
            per-character choice). Single tokens decide per token anyway.
        ngram_probabilities: optional tuple, select n-grams of 1, 2, ...
            words (tokens without `whole_word`) with these probabilities
            (`ngrams.select_ngrams`, which ignores `count_mode`); `None`
            selects single units.

    Returns:
        The dict described in this module's docstring.

    Examples:

    >>> keys = kr.example_keys(7, 0, [0])
    >>> out = masked_lm_mask(tf.constant([[2, 200, 201, 202, 203, 3]]), keys,
    ...                      vocabulary_size=300, mask_token_id=4,
    ...                      special_token_ids=[0, 1, 2, 3, 4],
    ...                      mask_selection_length=2, selection_rate=0.5,
    ...                      mask_token_rate=1.0, random_token_rate=0.0,
    ...                      count_mode="exact_ceil")
    >>> out["token_ids"].numpy().tolist(), out["mask_ids"].numpy().tolist()
    ([[2, 200, 201, 4, 4, 3]], [[202, 203]])
    """
    special = sorted(set(special_token_ids) | {int(mask_token_id)})
    allowed = replacement.allowed_ids(vocabulary_size, special,
                                      random_token_rate)
    eligible = selection.eligible_mask(token_ids, special, padding_mask)
    rates = (mask_token_id, mask_token_rate, random_token_rate)
    if not whole_word and ngram_probabilities is None:
        selected = selection.select_tokens(
            keys, eligible, selection_rate, count_mode, mask_selection_length)
        return replacement.corrupt(keys, token_ids, selected,
                                   mask_selection_length, allowed, *rates)
    if not whole_word:
        starts = eligible
    elif word_starts is not None:
        starts = ngrams.starts_from_feature(word_starts, eligible)
    else:
        starts = selection.word_starts(token_ids, eligible,
                                       continuation_token_ids)
    if ngram_probabilities is not None:
        selected, unit_ids = ngrams.select_ngrams(
            keys, eligible, starts, selection_rate, tuple(ngram_probabilities),
            mask_selection_length)
    else:
        selected, unit_ids = selection.select_words(
            keys, eligible, starts, selection_rate, count_mode,
            mask_selection_length)
    if replacement_unit == "token":
        unit_ids = None
    return replacement.corrupt(keys, token_ids, selected,
                               mask_selection_length, allowed, *rates,
                               unit_ids=unit_ids)


def span_mask(
    token_ids,
    keys,
    vocabulary_size,
    mask_token_id,
    special_token_ids,
    mask_selection_length,
    num_candidate_spans,
    selection_rate=0.15,
    mask_token_rate=0.8,
    random_token_rate=0.1,
    count_mode="prob_round",
    geometric_p=0.2,
    max_span_length=10,
    padding_mask=None,
    continuation_token_ids=None,
    return_span_ids=False,
    word_starts=None,
):
    """SpanBERT span masking: Geometric spans of whole words, per-span 80/10/10.

    Args are those of `masked_lm_mask`, plus `num_candidate_spans`,
    `geometric_p` and `max_span_length` (see `selection.select_spans`).
    With `continuation_token_ids=None` every token is a word; a
    `word_starts` feature (segmented Chinese) gives the words instead. With
    `return_span_ids=True` the dict also holds `span_ids` (`[B, L]`, the
    span covering each position, -1 elsewhere).

    Examples:

    >>> keys = kr.example_keys(3, 0, [0])
    >>> out = span_mask(tf.constant([[2] + list(range(200, 210)) + [3]]),
    ...                 keys, vocabulary_size=300, mask_token_id=4,
    ...                 special_token_ids=[0, 1, 2, 3, 4],
    ...                 mask_selection_length=5, num_candidate_spans=4,
    ...                 selection_rate=0.5, count_mode="exact_ceil",
    ...                 mask_token_rate=1.0, random_token_rate=0.0)
    >>> out["token_ids"].numpy().tolist()
    [[2, 4, 4, 4, 4, 4, 205, 206, 207, 208, 209, 3]]
    """
    special = sorted(set(special_token_ids) | {int(mask_token_id)})
    allowed = replacement.allowed_ids(vocabulary_size, special,
                                      random_token_rate)
    eligible = selection.eligible_mask(token_ids, special, padding_mask)
    if word_starts is not None:
        starts = ngrams.starts_from_feature(word_starts, eligible)
    else:
        starts = selection.word_starts(token_ids, eligible,
                                       continuation_token_ids)
    selected, span_ids = select_spans(
        keys, eligible, starts, selection_rate, count_mode,
        mask_selection_length, num_candidate_spans, geometric_p,
        max_span_length)
    out = replacement.corrupt(keys, token_ids, selected,
                              mask_selection_length, allowed,
                              mask_token_id, mask_token_rate,
                              random_token_rate,
                              unit_ids=tf.maximum(span_ids, 0))
    if return_span_ids:
        out["span_ids"] = span_ids
    return out
