"""Prefix LM split points and the two model forms of an (inputs, targets) pair.

A denoising objective (span corruption, iid denoising, prefix LM) produces
an `inputs` and a `targets` sequence per example. Two model forms consume
them:

* **encoder-decoder** (T5): the encoder reads `inputs`; the decoder reads
  `targets` shifted right behind a start token and predicts `targets`;
* **decoder-only** (seqio's `PrefixLMFeatureConverter`): one stream
  `inputs ++ targets` (no padding in between), shifted right behind a start
  token, attended bidirectionally over the start token and the inputs
  (`prefix_mask`, inputs length + 1 positions, seqio's
  `decoder_causal_attention`) and causally after; the loss is on the
  targets only.

All functions take batched `[B, ...]` tensors and keep static widths. The
masks in `x` are int32 (the backbones' input dtype): under a distribution
strategy Keras mean-reduces a first batch to build the model, which fails
on bool tensors.
"""

import tensorflow as tf

from keras_objectives.ops import random as kr
from keras_objectives.ops.segments import shift_right


def random_prefix_lengths(keys, lengths):
    """T5's `random_prefix_noise_mask` split point, one per row.

    Uniform on `[1, n - 1]` for a row of `n >= 2` real tokens (T5: on
    `[min(n - 1, 1), n - 1]`, so 0 for a single token).

    Args:
        keys: uint32 `[B]` example keys.
        lengths: int `[B]`, the real tokens of each row.

    Returns:
        int32 `[B]`, the number of prefix (inputs) tokens.

    Examples:

    >>> k = random_prefix_lengths(kr.example_keys(0, 0, tf.range(1000)),
    ...                           tf.fill([1000], 5))
    >>> sorted(set(k.numpy().tolist()))
    [1, 2, 3, 4]
    """
    lengths = tf.cast(lengths, tf.int32)
    high = tf.maximum(lengths - 1, 0)
    low = tf.minimum(high, 1)
    draw = kr.randint(keys, 1, (high - low + 1)[:, None], kr.PREFIX_SPLIT)
    return low + draw[:, 0]


def split_prefix(token_ids, lengths, prefix_lengths, eos_id, pad_id,
                 inputs_length, targets_length):
    """Cut rows into `inputs = prefix + [eos]`, `targets = suffix + [eos]`.

    T5's `prefix_lm` (`drop_nonnoise_tokens` / `drop_noise_tokens` on the
    prefix mask, with EOS appended as T5's output features do).

    Returns:
        `(inputs, inputs_lengths, targets, targets_lengths)`, padded to the
        static widths (rows longer than a width are cut).
    """
    token_ids = tf.cast(token_ids, tf.int32)
    lengths = tf.cast(lengths, tf.int32)[:, None]
    prefix = tf.cast(prefix_lengths, tf.int32)[:, None]
    row = tf.concat([token_ids, tf.zeros_like(token_ids[:, :1])], 1)

    def take(start, count, width):
        q = tf.range(width)[None, :]
        index = tf.minimum(start + q, row.shape[-1] - 1)
        out = tf.gather(row, index, batch_dims=1)
        out = tf.where(q < count, out, tf.where(q == count, eos_id, pad_id))
        return out, tf.minimum(count[:, 0] + 1, width)

    inputs, inputs_lengths = take(tf.zeros_like(prefix), prefix,
                                  inputs_length)
    targets, targets_lengths = take(prefix, lengths - prefix, targets_length)
    return inputs, inputs_lengths, targets, targets_lengths


def concatenate(inputs, inputs_lengths, targets, targets_lengths, width,
                pad_id):
    """`inputs[:len] ++ targets[:len]` per row, padded to `width`.

    Examples:

    >>> out = concatenate(tf.constant([[5, 6, 0]]), tf.constant([2]),
    ...                   tf.constant([[7, 0]]), tf.constant([1]), 4, 0)
    >>> out.numpy().tolist()
    [[5, 6, 7, 0]]
    """
    inputs_width = inputs.shape[-1]
    q = tf.range(width)[None, :]
    in_len = tf.cast(inputs_lengths, tf.int32)[:, None]
    total = in_len + tf.cast(targets_lengths, tf.int32)[:, None]
    index = tf.where(
        q < in_len,
        tf.minimum(q, inputs_width - 1),
        inputs_width + tf.clip_by_value(q - in_len, 0,
                                        targets.shape[-1] - 1),
    )
    both = tf.concat([tf.cast(inputs, tf.int32),
                      tf.cast(targets, tf.int32)], 1)
    out = tf.gather(both, index, batch_dims=1)
    return tf.where(q < total, out, pad_id)


def decoder_example(token_ids, lengths, prefix_lengths, start_id):
    """The decoder-only `(x, y, sample_weight)` of one `inputs ++ targets`.

    Args:
        token_ids: int `[B, L]`, the concatenated stream (padded).
        lengths: int `[B]`, its real length.
        prefix_lengths: int `[B]`, the inputs part.
        start_id: int, the token in front of the shifted stream.

    Returns:
        `x = {"token_ids", "padding_mask", "prefix_mask"}` (the stream
        shifted right, true on the `lengths` real positions, true on the
        first `prefix_lengths + 1`), `y = token_ids` and a float32 sample
        weight that is 1 on the targets part only.

    Examples:

    >>> x, y, w = decoder_example(tf.constant([[5, 6, 7, 8, 0]]),
    ...                           tf.constant([4]), tf.constant([2]), 0)
    >>> x["token_ids"].numpy().tolist(), x["prefix_mask"].numpy().tolist()
    ([[0, 5, 6, 7, 0]], [[1, 1, 1, 0, 0]])
    >>> y.numpy().tolist(), w.numpy().tolist()
    ([[5, 6, 7, 8, 0]], [[0.0, 0.0, 1.0, 1.0, 0.0]])
    """
    token_ids = tf.cast(token_ids, tf.int32)
    q = tf.range(token_ids.shape[-1])[None, :]
    lengths = tf.cast(lengths, tf.int32)[:, None]
    prefix = tf.cast(prefix_lengths, tf.int32)[:, None]
    # Past the real positions `token_ids` is padding: reuse it there.
    shifted = tf.where(q < lengths, shift_right(token_ids, start_id),
                       token_ids)
    x = {
        "token_ids": shifted,
        "padding_mask": tf.cast(q < lengths, tf.int32),
        "prefix_mask": tf.cast(q < prefix + 1, tf.int32),
    }
    weight = tf.cast((q >= prefix) & (q < lengths), tf.float32)
    return x, token_ids, weight


def encoder_decoder_example(inputs, inputs_lengths, targets, targets_lengths,
                            start_id):
    """The T5 encoder-decoder `(x, y, sample_weight)`.

    `x` holds keras-hub's `T5Backbone` inputs: `encoder_token_ids`,
    `encoder_padding_mask`, `decoder_token_ids` (targets shifted right behind
    `start_id`, T5's decoder start is the pad id) and
    `decoder_padding_mask`; `y` is the targets, weighted on real positions.
    """
    targets = tf.cast(targets, tf.int32)
    q_in = tf.range(inputs.shape[-1])[None, :]
    q_out = tf.range(targets.shape[-1])[None, :]
    targets_mask = q_out < tf.cast(targets_lengths, tf.int32)[:, None]
    x = {
        "encoder_token_ids": tf.cast(inputs, tf.int32),
        "encoder_padding_mask": tf.cast(
            q_in < tf.cast(inputs_lengths, tf.int32)[:, None], tf.int32
        ),
        # Past the real positions `targets` is padding: reuse it there.
        "decoder_token_ids": tf.where(
            targets_mask, shift_right(targets, start_id), targets
        ),
        "decoder_padding_mask": tf.cast(targets_mask, tf.int32),
    }
    return x, tf.cast(targets, tf.int32), tf.cast(targets_mask, tf.float32)


def features_example(inputs, inputs_lengths, targets, targets_lengths):
    """T5's feature dict: `inputs`, `targets` and their padding masks."""
    q_in = tf.range(inputs.shape[-1])[None, :]
    q_out = tf.range(targets.shape[-1])[None, :]
    return {
        "inputs": tf.cast(inputs, tf.int32),
        "inputs_padding_mask": (
            q_in < tf.cast(inputs_lengths, tf.int32)[:, None]
        ),
        "targets": tf.cast(targets, tf.int32),
        "targets_padding_mask": (
            q_out < tf.cast(targets_lengths, tf.int32)[:, None]
        ),
    }


FORMS = ("features", "encoder_decoder", "decoder")


def format_example(form, inputs, inputs_lengths, targets, targets_lengths,
                   sequence_length=None, start_id=0, pad_id=0):
    """One of `FORMS` from padded inputs and targets.

    `"features"` returns T5's dict (`features_example`),
    `"encoder_decoder"` and `"decoder"` return `(x, y, sample_weight)`
    (`encoder_decoder_example`, `decoder_example` on the concatenation
    padded to `sequence_length`).
    """
    if form == "features":
        return features_example(inputs, inputs_lengths, targets,
                                targets_lengths)
    if form == "encoder_decoder":
        return encoder_decoder_example(inputs, inputs_lengths, targets,
                                       targets_lengths, start_id)
    stream = concatenate(inputs, inputs_lengths, targets, targets_lengths,
                         sequence_length, pad_id)
    total = tf.minimum(inputs_lengths + targets_lengths, sequence_length)
    return decoder_example(stream, total, inputs_lengths, start_id)
