"""Explicit attention masks and position ids for the shared body.

The objective decides which key `j` a query `i` may attend to; the body only
applies the mask. Everything here is `keras.ops`, so it runs under XLA and on
every backend.

| mode            | query `i` may attend key `j` iff                       |
|-----------------|---------------------------------------------------------|
| `bidirectional` | always                                                  |
| `causal`        | `j <= i`                                                |
| `prefix`        | `j <= i` or (`prefix[i]` and `prefix[j]`)               |

and always `padding[j]`, and `doc[i] == doc[j]` with document masking.
"""

import keras
from keras import ops

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.utils import check_choice
from keras_objectives.utils import check_int

ATTENTION_MODES = ("bidirectional", "causal", "prefix")


@keras_objectives_export("keras_objectives.models.compute_attention_mask")
def compute_attention_mask(
    padding_mask,
    attention_mode="bidirectional",
    prefix_mask=None,
    document_ids=None,
):
    """The boolean `[B, L, L]` self-attention mask of one attention mode.

    Args:
        padding_mask: `[B, L]` bool or int, true on real tokens.
        attention_mode: `"bidirectional"`, `"causal"` or `"prefix"`.
        prefix_mask: `[B, L]` bool or int, true where attention is
            bidirectional. Required for `"prefix"`, ignored otherwise.
        document_ids: optional `[B, L]` int. When given, attention is
            block-diagonal: a query only sees keys of its own document.

    Returns:
        A bool tensor `mask[b, i, j]`, true when query `i` may attend key `j`.

    Examples:

    >>> import numpy as np
    >>> padding = np.array([[1, 1, 1, 0]])
    >>> mask = compute_attention_mask(padding, "causal")
    >>> keras.ops.convert_to_numpy(mask)[0].astype(int)
    array([[1, 0, 0, 0],
           [1, 1, 0, 0],
           [1, 1, 1, 0],
           [1, 1, 1, 0]])
    >>> prefix = np.array([[1, 1, 0, 0]])
    >>> mask = compute_attention_mask(padding, "prefix", prefix_mask=prefix)
    >>> keras.ops.convert_to_numpy(mask)[0].astype(int)
    array([[1, 1, 0, 0],
           [1, 1, 0, 0],
           [1, 1, 1, 0],
           [1, 1, 1, 0]])
    """
    check_choice("attention_mode", attention_mode, ATTENTION_MODES)
    padding_mask = ops.cast(padding_mask, "bool")
    length = ops.shape(padding_mask)[-1]
    i = ops.expand_dims(ops.arange(length), axis=1)
    j = ops.expand_dims(ops.arange(length), axis=0)
    if attention_mode == "bidirectional":
        allowed = ops.ones((length, length), dtype="bool")
    else:
        allowed = j <= i
    if attention_mode == "prefix":
        if prefix_mask is None:
            raise ValueError(
                "Invalid value received for argument `prefix_mask`. "
                "Expected a `[batch, length]` mask when "
                "attention_mode='prefix'. Received: prefix_mask=None. "
                "Pass the objective's `prefix_mask` feature."
            )
        prefix = ops.cast(prefix_mask, "bool")
        both = ops.logical_and(
            ops.expand_dims(prefix, axis=2), ops.expand_dims(prefix, axis=1)
        )
        allowed = ops.logical_or(ops.expand_dims(allowed, 0), both)
    # Keys must be real tokens: [B, 1, L] & [(B|1), L, L] -> [B, L, L].
    mask = ops.logical_and(ops.expand_dims(padding_mask, axis=1), allowed)
    if document_ids is not None:
        mask = ops.logical_and(mask, _same_document(document_ids))
    return mask


@keras_objectives_export("keras_objectives.models.compute_position_ids")
def compute_position_ids(padding_mask, document_ids=None):
    """Position ids `[B, L]`, restarting at 0 in each document.

    Without `document_ids` positions are `0..L-1`. With them, a token's
    position is the number of earlier tokens of its own document (Megatron's
    `reset_position_ids`), so documents packed into one row each start at 0.

    Args:
        padding_mask: `[B, L]` bool or int, used for the shape only.
        document_ids: optional `[B, L]` int document index of each token.

    Returns:
        An int32 tensor `[B, L]`.

    Examples:

    >>> import numpy as np
    >>> docs = np.array([[0, 0, 0, 1, 1, 2]])
    >>> keras.ops.convert_to_numpy(
    ...     compute_position_ids(np.ones((1, 6)), docs))
    array([[0, 1, 2, 0, 1, 0]], dtype=int32)
    """
    shape = ops.shape(padding_mask)
    if document_ids is None:
        positions = ops.arange(shape[-1], dtype="int32")
        return ops.broadcast_to(ops.expand_dims(positions, 0), shape)
    length = shape[-1]
    i = ops.expand_dims(ops.arange(length), axis=1)
    j = ops.expand_dims(ops.arange(length), axis=0)
    earlier = ops.expand_dims(j < i, axis=0)
    same = ops.logical_and(_same_document(document_ids), earlier)
    return ops.sum(ops.cast(same, "int32"), axis=-1)


def _same_document(document_ids):
    document_ids = ops.cast(document_ids, "int32")
    return ops.equal(
        ops.expand_dims(document_ids, axis=2),
        ops.expand_dims(document_ids, axis=1),
    )


def _check_length(shape, max_sequence_length):
    length = shape[-1]
    if length is not None and length > max_sequence_length:
        raise ValueError(
            "Invalid input shape received: the sequence length "
            f"{length} is larger than the body's `max_sequence_length`, "
            f"max_sequence_length={max_sequence_length}. Received input "
            f"shape: {tuple(shape)}. Build the body with "
            f"max_sequence_length>={length} or shorten the sequences."
        )


class AttentionMask(keras.layers.Layer):
    """A layer wrapping `compute_attention_mask` for functional models.

    Args:
        attention_mode: `"bidirectional"`, `"causal"` or `"prefix"`.
        max_sequence_length: int, inputs longer than this raise an error.

    Call arguments:
        padding_mask: `[B, L]`, true on real tokens.
        prefix_mask: `[B, L]`, required for `"prefix"`.
        document_ids: optional `[B, L]`, block-diagonal per document.

    Returns:
        A bool `[B, L, L]` mask.
    """

    def __init__(self, attention_mode, max_sequence_length, **kwargs):
        super().__init__(**kwargs)
        self.attention_mode = check_choice(
            "attention_mode", attention_mode, ATTENTION_MODES
        )
        self.max_sequence_length = check_int(
            "max_sequence_length", max_sequence_length, minimum=1
        )

    def call(self, padding_mask, prefix_mask=None, document_ids=None):
        _check_length(padding_mask.shape, self.max_sequence_length)
        return compute_attention_mask(
            padding_mask, self.attention_mode, prefix_mask, document_ids
        )

    def compute_output_shape(self, padding_mask_shape, *args, **kwargs):
        return (*padding_mask_shape, padding_mask_shape[-1])

    def compute_output_spec(self, padding_mask, *args, **kwargs):
        _check_length(padding_mask.shape, self.max_sequence_length)
        shape = (*padding_mask.shape, padding_mask.shape[-1])
        return keras.KerasTensor(shape, dtype="bool")

    def get_config(self):
        return {
            **super().get_config(),
            "attention_mode": self.attention_mode,
            "max_sequence_length": self.max_sequence_length,
        }


class PositionIds(keras.layers.Layer):
    """A layer wrapping `compute_position_ids` for functional models.

    Args:
        max_sequence_length: int, inputs longer than this raise an error.

    Call arguments:
        padding_mask: `[B, L]`, for the shape.
        document_ids: optional `[B, L]`; positions restart in each document.

    Returns:
        An int32 `[B, L]` tensor.
    """

    def __init__(self, max_sequence_length, **kwargs):
        super().__init__(**kwargs)
        self.max_sequence_length = check_int(
            "max_sequence_length", max_sequence_length, minimum=1
        )

    def call(self, padding_mask, document_ids=None):
        _check_length(padding_mask.shape, self.max_sequence_length)
        return compute_position_ids(padding_mask, document_ids)

    def compute_output_spec(self, padding_mask, *args, **kwargs):
        _check_length(padding_mask.shape, self.max_sequence_length)
        return keras.KerasTensor(padding_mask.shape, dtype="int32")

    def get_config(self):
        return {
            **super().get_config(),
            "max_sequence_length": self.max_sequence_length,
        }
