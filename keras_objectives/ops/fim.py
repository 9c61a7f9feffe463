"""Fill-in-the-middle rearrangement as dense, vectorized TF ops.

A document is cut at two uniform points into prefix, middle and suffix and
rearranged so that a causal LM learns to infill:

* PSM: `[PRE] prefix [SUF] suffix [MID] middle`
* SPM: `[PRE] [SUF] suffix [MID] prefix middle` (the FIM paper's SPM
  variant that keeps `prefix middle` contiguous).

Each token's output position is computed in closed form, the three
sentinels of each rearranged document are extra "events", and one
`compact_by_key` lays everything out, so a row with several documents is
handled without any loop.

Reference: [Bavarian et al., 2022. Efficient Training of Language Models
to Fill in the Middle](https://arxiv.org/abs/2207.14255).
"""

import tensorflow as tf

from keras_objectives.ops import random as kr
from keras_objectives.ops.segments import compact_by_key
from keras_objectives.ops.segments import document_segments
from keras_objectives.ops.segments import positions
from keras_objectives.ops.segments import segment_first_and_length
from keras_objectives.ops.segments import segment_ids as _segment_ids
from keras_objectives.ops.segments import take


def fim_rearrange(
    keys,
    token_ids,
    padding_mask,
    *,
    prefix_id,
    middle_id,
    suffix_id,
    pad_id=0,
    document_boundary_ids=(),
    document_ids=None,
    fim_rate=0.5,
    spm_rate=0.5,
    output_length=None,
):
    """Rearrange documents into PSM or SPM fill-in-the-middle order.

    Documents are the runs of real tokens between `document_boundary_ids`
    (and changes of `document_ids`); boundary tokens stay where they are,
    so with `[SEP]` as a boundary the document's `[SEP]` follows its middle
    and acts as the paper's end-of-middle token. With no boundaries the
    whole row is one document (the paper's context-level FIM). Each
    document with at least one token is rearranged with probability
    `fim_rate`, in SPM with probability `spm_rate`, else in PSM. The two
    cut points are uniform integers on `[0, n]` (sorted), so any part may
    be empty.

    Each rearranged document grows by 3 tokens. Tokens pushed past
    `output_length` (default `R + 3`) are dropped: a row of length `R`
    never loses tokens when at most one document is rearranged (or when
    its padding leaves room).

    Args:
        keys: uint32 `[B]` keys.
        token_ids: int `[B, R]`.
        padding_mask: bool `[B, R]`, True on real tokens.
        prefix_id, middle_id, suffix_id: ids of `[PRE]`, `[MID]`, `[SUF]`.
        pad_id: int, padding id of the output.
        document_boundary_ids: ids that delimit documents.
        document_ids: optional int `[B, R]`.
        fim_rate: float, probability that a document is rearranged.
        spm_rate: float, probability that a rearranged one is in SPM.
        output_length: int or `None` (`R + 3`).

    Returns:
        dict: `token_ids`, `padding_mask` (`[B, output_length]`; and
        `document_ids` when given), and, per
        input position, `fim_mask` and `spm_mask` (its document was
        rearranged, in SPM), `prefix_mask`, `middle_mask`, `suffix_mask`
        (its part, inside rearranged documents).

    Examples:

    >>> tokens = tf.constant([[20, 21, 22, 23, 24, 3, 0]])
    >>> out = fim_rearrange(kr.example_keys(0, 0, [0]), tokens, tokens != 0,
    ...     prefix_id=8, middle_id=9, suffix_id=10, fim_rate=1.0,
    ...     spm_rate=0.0, document_boundary_ids=[3])
    >>> out["token_ids"].numpy().tolist()
    [[8, 20, 10, 23, 24, 9, 21, 22, 3, 0]]
    """
    length = token_ids.shape[-1]
    output_length = output_length or length + 3
    token_ids = tf.cast(token_ids, tf.int32)
    real = tf.cast(padding_mask, tf.bool)
    pos = positions(token_ids)
    movable, segment_start = document_segments(
        token_ids, real, document_boundary_ids, document_ids
    )
    segment_ids = _segment_ids(segment_start)

    def per_segment(stream):
        return take(kr.uniform(keys, length, stream), segment_ids)

    # First position and size of each movable segment.
    first, size = segment_first_and_length(segment_start)

    fim = movable & (per_segment(kr.FIM_DOCUMENT) < fim_rate)
    spm = fim & (per_segment(kr.FIM_SPM) < spm_rate)
    n1 = tf.cast(size + 1, tf.float32)
    cut_a = tf.minimum(tf.cast(per_segment(kr.FIM_CUT_A) * n1, tf.int32), size)
    cut_b = tf.minimum(tf.cast(per_segment(kr.FIM_CUT_B) * n1, tf.int32), size)
    a, b = tf.minimum(cut_a, cut_b), tf.maximum(cut_a, cut_b)

    k = pos - first
    is_prefix, is_suffix = fim & (k < a), fim & (k >= b)
    is_middle = fim & ~is_prefix & ~is_suffix
    psm_slot = tf.where(
        k < a, 1 + k, tf.where(k >= b, 2 + a + k - b, 3 + size - b + k)
    )
    spm_slot = tf.where(k >= b, 2 + k - b, 3 + size - b + k)
    slot = tf.where(spm, spm_slot, psm_slot)
    # Every rearranged document before this position's shifts it by 3.
    fim_first = tf.cast(segment_start & fim, tf.int32)
    shift = 3 * (tf.cumsum(fim_first, axis=-1) - tf.cast(fim, tf.int32))
    token_key = tf.where(fim, first + shift + slot, pos + shift)

    sentinel_slots = [
        tf.zeros_like(pos),
        tf.where(spm, 1, 1 + a),
        tf.where(spm, 2 + size - b, 2 + a + size - b),
    ]
    result = _layout(
        token_ids, real, document_ids, token_key,
        [first + shift + s for s in sentinel_slots], segment_start & fim,
        (prefix_id, suffix_id, middle_id), output_length, pad_id,
    )
    result.update(fim_mask=fim, spm_mask=spm, prefix_mask=is_prefix,
                  middle_mask=is_middle, suffix_mask=is_suffix)
    return result


def _layout(token_ids, real, document_ids, token_key, sentinel_keys,
            sentinel_valid, sentinel_ids, output_length, pad_id):
    """Tokens at `token_key` and the three sentinels of each rearranged
    document at `sentinel_keys`, laid out by one `compact_by_key`."""
    pos = tf.shape(token_ids)
    keys = tf.concat([token_key] + sentinel_keys, 1)
    valid = tf.concat([real] + [sentinel_valid] * 3, 1)
    out, out_mask = compact_by_key(
        tf.concat([token_ids] + [tf.fill(pos, i) for i in sentinel_ids], 1),
        keys, valid, output_length, pad_id,
    )
    result = {"token_ids": out, "padding_mask": out_mask}
    if document_ids is not None:
        # Sentinels belong to their document; padding copies the input's
        # last document id.
        document_ids = tf.cast(document_ids, tf.int32)
        out_ids, _ = compact_by_key(tf.concat([document_ids] * 4, 1), keys,
                                    valid, output_length, 0)
        result["document_ids"] = tf.where(
            out_mask, out_ids, document_ids[:, -1:]
        )
    return result
