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

import tensorflow as tf

from keras_objectives.ops import random as kr
from keras_objectives.ops import selection

DECISION_STREAM = 21
RANDOM_ID_STREAM = 22


def replacement_ids(vocabulary_size, special_ids):
    """The ids random replacement may insert, as a sorted Python list."""
    special = set(int(i) for i in special_ids)
    return [i for i in range(int(vocabulary_size)) if i not in special]


def _allowed(vocabulary_size, special, random_token_rate):
    allowed = replacement_ids(vocabulary_size, special)
    if random_token_rate > 0 and not allowed:
        raise ValueError(
            "Invalid value received for argument `special_token_ids`: every "
            f"id of the vocabulary (vocabulary_size={vocabulary_size}) is "
            "special, so random replacement has no id to insert. Set "
            "random_token_rate=0 or shrink special_token_ids."
        )
    return allowed


def random_ids(keys, length, allowed, stream=RANDOM_ID_STREAM):
    """`[B, length]` ids drawn uniformly from the static list `allowed`."""
    index = kr.randint(keys, length, len(allowed), stream)
    if allowed[-1] - allowed[0] + 1 == len(allowed):  # one contiguous run
        return index + allowed[0]
    return tf.gather(tf.constant(allowed, tf.int32), index)


def _thresholds(mask_token_rate, random_token_rate):
    return (selection.rate_threshold(mask_token_rate),
            selection.rate_threshold(mask_token_rate + random_token_rate))


def replace(keys, token_ids, unit_ids, allowed, mask_token_id,
            mask_token_rate=0.8, random_token_rate=0.1, selected=None):
    """80/10/10 replacement, one decision per unit.

    Args:
        keys: `[B]` uint32 keys.
        token_ids: `[B, K]` int32 ids to replace.
        unit_ids: `[B, K]` int32 in `[0, K)`: positions with the same unit
            id (a word, a span) share one decision.
        allowed: static list of ids random replacement draws from.
        mask_token_id, mask_token_rate, random_token_rate: the rates.
        selected: optional `[B, K]` bool, where to replace (default all).

    Returns:
        `[B, K]` int32 replaced ids.
    """
    width = token_ids.shape[-1]
    to_mask, to_random = _thresholds(mask_token_rate, random_token_rate)
    decision = selection.uniform24(keys, width, DECISION_STREAM)
    if unit_ids is not None:
        decision = tf.gather(decision, unit_ids, batch_dims=1)
    out = token_ids
    if to_random > to_mask:
        randomized = random_ids(keys, width, allowed)
        out = tf.where(decision < to_random, randomized, out)
    out = tf.where(decision < to_mask, mask_token_id, out)
    if selected is not None:
        out = tf.where(selected, out, token_ids)
    return out


def compact(token_ids, selected, mask_selection_length):
    """Gather a `[B, L]` selection (at most `S` per row) into `[B, S]` slots.

    Returns:
        `(positions, ids, used)`: positions ascending and 0-padded, the
        original ids there (0-padded) and the used slots.
    """
    rank = selection.running_count(selected)
    slots = tf.range(1, mask_selection_length + 1)[None, :]
    positions = tf.searchsorted(
        rank, tf.broadcast_to(slots, [tf.shape(rank)[0],
                                      mask_selection_length]))
    used = slots <= rank[:, -1:]
    positions = tf.where(used, positions, 0)
    ids = tf.where(used, tf.gather(token_ids, positions, batch_dims=1), 0)
    return positions, ids, used


def _outputs(token_ids, positions, ids, used):
    return {
        "token_ids": token_ids,
        "mask_positions": positions,
        "mask_ids": ids,
        "mask_weights": tf.cast(used, tf.float32),
    }


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
    allowed = _allowed(vocabulary_size, special, random_token_rate)
    eligible = selection.eligible_mask(token_ids, special, padding_mask)
    if not whole_word:
        selected = selection.select_tokens(
            keys, eligible, selection_rate, count_mode, mask_selection_length)
        positions, ids, used = compact(token_ids, selected,
                                       mask_selection_length)
        # Decide per slot, then write the slots back; unused slots add 0.
        new = replace(keys, ids, None, allowed, mask_token_id,
                      mask_token_rate, random_token_rate, used)
        batch = tf.broadcast_to(tf.range(tf.shape(positions)[0])[:, None],
                                tf.shape(positions))
        corrupted = tf.tensor_scatter_nd_add(
            token_ids, tf.stack([batch, positions], axis=-1), new - ids)
        return _outputs(corrupted, positions, ids, used)
    starts = selection.word_starts(token_ids, eligible, continuation_token_ids)
    selected, word_ids = selection.select_words(
        keys, eligible, starts, selection_rate, count_mode,
        mask_selection_length)
    corrupted = replace(keys, token_ids, word_ids, allowed, mask_token_id,
                        mask_token_rate, random_token_rate, selected)
    return _outputs(corrupted, *compact(token_ids, selected,
                                        mask_selection_length))


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
):
    """SpanBERT span masking: Geometric spans of whole words, per-span 80/10/10.

    Args are those of `masked_lm_mask`, plus `num_candidate_spans`,
    `geometric_p` and `max_span_length` (see `selection.select_spans`).
    With `continuation_token_ids=None` every token is a word. With
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
    allowed = _allowed(vocabulary_size, special, random_token_rate)
    eligible = selection.eligible_mask(token_ids, special, padding_mask)
    starts = selection.word_starts(token_ids, eligible, continuation_token_ids)
    selected, span_ids = selection.select_spans(
        keys, eligible, starts, selection_rate, count_mode,
        mask_selection_length, num_candidate_spans, geometric_p,
        max_span_length)
    corrupted = replace(keys, token_ids, tf.maximum(span_ids, 0), allowed,
                        mask_token_id, mask_token_rate, random_token_rate,
                        selected)
    out = _outputs(corrupted, *compact(token_ids, selected,
                                       mask_selection_length))
    if return_span_ids:
        out["span_ids"] = span_ids
    return out
