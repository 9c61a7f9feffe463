"""T5 span corruption as batched, static-shape TF ops.

A transcription of `t5.data.preprocessors` (`random_spans_noise_mask`,
`iid_noise_mask`, `noise_span_to_unique_sentinel`,
`nonnoise_span_to_unique_sentinel`) that works on a whole batch at once,
with static output shapes and the per-example keys of
`keras_objectives.ops.random`. The static lengths they are given (T5's
`random_spans_helper` and the budgets) are in
`keras_objectives.ops.span_lengths`:

* every function takes `[B, L]` rows and a `[B]` vector of real lengths
  (the unpadded prefix of each row; positions past it are never noised);
* T5's shuffled-indicator segmentation becomes a sort of keyed random scores
  (one `tf.sort` per partition), and its `segment_sum` / `boolean_mask`
  become scatters with a dump slot, so nothing depends on data-dependent
  shapes and everything runs under XLA;
* counts use T5's float32 arithmetic and round-half-to-even, so they match
  T5 token for token.
"""

import tensorflow as tf

from keras_objectives.ops import random as kr


def span_counts(lengths, noise_density, mean_noise_span_length):
    """Per-row `(length, num_noise, num_spans)` as T5 computes them.

    `length = max(lengths, 2)`, `num_noise = round(length * density)`
    clipped to `[1, length - 1]`, `num_spans = max(1, round(num_noise /
    mean))`, in float32 with round-half-to-even. `num_spans` is further
    capped at the non-noise count (T5 fails there instead).
    """
    n = tf.maximum(tf.cast(lengths, tf.int32), 2)
    num_noise = tf.cast(
        tf.round(tf.cast(n, tf.float32) * noise_density), tf.int32
    )
    num_noise = tf.minimum(tf.maximum(num_noise, 1), n - 1)
    num_spans = tf.cast(
        tf.round(tf.cast(num_noise, tf.float32) / mean_noise_span_length),
        tf.int32,
    )
    num_spans = tf.minimum(tf.maximum(num_spans, 1), n - num_noise)
    return n, num_noise, num_spans


def random_segmentation(keys, num_items, num_segments, width, stream):
    """Uniform random partition of `num_items` into `num_segments` parts.

    T5's `_random_segmentation` shuffles `num_segments - 1` ones among the
    `num_items - 1` gaps. Here each gap gets a keyed random score and the
    `num_segments - 1` smallest win: the same uniform choice of cut points.

    Args:
        keys: uint32 `[B]` example keys.
        num_items: int `[B]`, items per row (`<= width`).
        num_segments: int `[B]`, in `[1, num_items]`.
        width: static int, the row width.
        stream: int, the random stream.

    Returns:
        bool `[B, width]`, true at item `i` (`1 <= i < num_items`) where a
        new segment starts: exactly `num_segments - 1` per row.
    """
    bits = tf.cast(kr.random_bits(keys, width, stream), tf.int64)
    index = tf.range(width, dtype=tf.int64)
    valid = (index >= 1) & (index < tf.cast(num_items, tf.int64)[:, None])
    # Unique scores (bits, then position); invalid gaps sort last.
    score = bits * width + index
    score = tf.where(valid, score, (2**32) * width + index)
    threshold = tf.gather(
        tf.sort(score, axis=-1),
        tf.clip_by_value(num_segments - 1, 0, width - 1),
        batch_dims=1,
    )
    return valid & (score < threshold[:, None])


def scatter_rows(values, positions, include, width, fill=0):
    """`out[b, positions[b, i]] = values[b, i]` where `include`, else `fill`.

    Positions must be unique among included entries of a row; entries that
    are not included or fall outside `[0, width)` are dropped.
    """
    values = tf.convert_to_tensor(values)
    include = include & (positions >= 0) & (positions < width)
    positions = tf.where(include, positions, width)
    batch = tf.shape(values)[0]
    rows = tf.range(batch, dtype=positions.dtype)[:, None] * (width + 1)
    out = tf.math.unsorted_segment_sum(
        tf.reshape(values - fill, [-1]),
        tf.reshape(positions + rows, [-1]),
        batch * (width + 1),
    )
    return tf.reshape(out, [-1, width + 1])[:, :width] + fill


def random_spans_noise_mask(
    keys,
    lengths,
    width,
    noise_density=0.15,
    mean_noise_span_length=3.0,
    random_roll=False,
):
    """T5's `random_spans_noise_mask` for a batch of rows.

    The first `lengths[b]` positions of row `b` are split into `num_spans`
    non-noise spans and as many noise spans, interleaved starting with
    non-noise, with span lengths a uniform random partition of each count
    (see `span_counts`). Without `random_roll` the last real token is
    always noise (T5's default, T5 issue #905); `random_roll=True` rolls the
    mask of the real tokens by a uniform offset in `[0, length)`.

    Args:
        keys: uint32 `[B]` example keys.
        lengths: int `[B]`, the number of real tokens of each row.
        width: static int, the row width `L`.
        noise_density: float, the share of noise tokens.
        mean_noise_span_length: float, the mean noise span length.
        random_roll: bool, roll the mask by a random offset.

    Returns:
        bool `[B, width]`, true on noise. Always false past `lengths`.

    Examples:

    >>> keys = kr.example_keys(0, 0, tf.range(2))
    >>> mask = random_spans_noise_mask(keys, tf.constant([20, 10]), 20)
    >>> tf.reduce_sum(tf.cast(mask, tf.int32), axis=1).numpy()
    array([3, 2], dtype=int32)
    >>> bool(mask[0, 19]), bool(mask[1, 9]), bool(mask[1, 10])
    (True, True, False)
    """
    lengths = tf.cast(lengths, tf.int32)
    batch_shape = tf.shape(lengths)
    if noise_density == 0.0:
        return tf.zeros(tf.concat([batch_shape, [width]], 0), tf.bool)
    work = max(width, 2)
    n, num_noise, num_spans = span_counts(
        lengths, noise_density, mean_noise_span_length
    )
    num_nonnoise = n - num_noise
    noise_starts = random_segmentation(
        keys, num_noise, num_spans, work, kr.NOISE_SEGMENTS
    )
    nonnoise_starts = random_segmentation(
        keys, num_nonnoise, num_spans, work, kr.NONNOISE_SEGMENTS
    )
    index = tf.broadcast_to(tf.range(work), tf.shape(noise_starts))
    # Where non-noise segment k starts (k >= 1), in the non-noise stream.
    nonnoise_segment = tf.cumsum(tf.cast(nonnoise_starts, tf.int32), axis=1)
    segment_start = scatter_rows(
        index, nonnoise_segment, nonnoise_starts, work
    )
    # Noise token i of segment k sits after every non-noise token of
    # segments 0..k, that is before non-noise segment k + 1.
    next_segment = tf.cumsum(tf.cast(noise_starts, tf.int32), axis=1) + 1
    nonnoise_before = tf.where(
        next_segment < num_spans[:, None],
        tf.gather(segment_start, tf.minimum(next_segment, work - 1),
                  batch_dims=1),
        num_nonnoise[:, None],
    )
    positions = index + nonnoise_before
    if random_roll:
        offset = kr.randint(keys, 1, n[:, None], kr.SPAN_ROLL)
        positions = tf.math.floormod(positions + offset, n[:, None])
    include = (index < num_noise[:, None]) & (positions < lengths[:, None])
    mask = scatter_rows(tf.ones_like(index), positions, include, width)
    return mask > 0


def iid_noise_mask(keys, lengths, width, noise_density=0.15):
    """T5's `iid_noise_mask`: each real token is noise with probability p.

    Examples:

    >>> keys = kr.example_keys(0, 0, tf.range(2))
    >>> mask = iid_noise_mask(keys, tf.constant([6, 3]), 6, 0.5)
    >>> mask.shape, bool(tf.reduce_any(mask[1, 3:]))
    (TensorShape([2, 6]), False)
    """
    lengths = tf.cast(lengths, tf.int32)
    u = kr.uniform(keys, width, kr.IID_NOISE)
    return (u < noise_density) & (tf.range(width) < lengths[:, None])


def limit_noise_spans(noise_mask, max_spans, targets_length):
    """Un-noise the spans that do not fit the sentinel or targets budget.

    Span `k` (counted from the left) stays noise only if `k < max_spans`
    and its targets (`<extra_id_0> span_0 ... <extra_id_k> span_k`, then
    EOS) fit in `targets_length`. The spans past the first one that does
    not fit are left in the inputs uncorrupted, so the example stays
    recoverable and ends with EOS. A no-op when the budget holds.

    Args:
        noise_mask: bool `[B, L]`.
        max_spans: int or int `[B]`, the most sentinels a row may use.
        targets_length: static int, the targets budget.
    """
    noise = tf.cast(noise_mask, tf.int32)
    previous = tf.pad(noise[:, :-1], [[0, 0], [1, 0]])
    span = tf.cumsum(noise * (1 - previous), axis=1) - 1
    # Targets used through this token: tokens, sentinels, then EOS.
    used = tf.cumsum(noise, axis=1) + span + 2
    max_spans = tf.reshape(tf.cast(max_spans, tf.int32), [-1, 1])
    fails = noise_mask & ((used > targets_length) | (span >= max_spans))
    first_failing = tf.reduce_min(
        tf.where(fails, span, tf.int32.max), axis=1, keepdims=True
    )
    return noise_mask & (span < first_failing)


def noise_spans_to_sentinels(
    token_ids,
    noise_mask,
    lengths,
    sentinel_ids,
    eos_id,
    pad_id,
    inputs_length,
    targets_length,
):
    """T5's inputs and targets for a noise mask, padded to static widths.

    The inputs keep every non-noise token and replace noise span `k` with
    `sentinel_ids[k]` (`<extra_id_k>`) (T5's `noise_span_to_unique_sentinel`),
    then EOS. The targets are, for every noise span, its sentinel followed
    by its tokens, then EOS. When the mask starts with a non-noise token and
    ends with a noise token (always so for `random_spans_noise_mask` without
    `random_roll`) this is exactly T5's `nonnoise_span_to_unique_sentinel`;
    for other masks (iid, rolled) T5 puts a span *before* its sentinel and
    adds a trailing one, while here sentinel `k` always precedes span `k`.

    Args:
        token_ids: int `[B, L]`.
        noise_mask: bool `[B, L]` (see `limit_noise_spans` for budgets).
        lengths: int `[B]`, real tokens per row; the rest is dropped.
        sentinel_ids: list of ints, `sentinel_ids[k]` is `<extra_id_k>`.
        eos_id: int, appended to inputs and targets.
        pad_id: int, the fill value.
        inputs_length: static int, the inputs width.
        targets_length: static int, the targets width.

    Returns:
        `(inputs, inputs_lengths, targets, targets_lengths)`: int32
        `[B, inputs_length]`, `[B]`, `[B, targets_length]`, `[B]`.

    Examples:

    >>> tokens = tf.constant([[20, 21, 22, 23, 24, 25, 0]])
    >>> noise = tf.constant([[False, True, True, False, False, True, False]])
    >>> out = noise_spans_to_sentinels(
    ...     tokens, noise, tf.constant([6]), [99, 98], eos_id=1, pad_id=0,
    ...     inputs_length=6, targets_length=7)
    >>> [t.numpy().tolist() for t in out]
    [[[20, 99, 23, 24, 98, 1]], [6], [[99, 21, 22, 98, 25, 1, 0]], [6]]
    """
    token_ids = tf.cast(token_ids, tf.int32)
    width = token_ids.shape[-1]
    real = tf.range(width) < tf.cast(lengths, tf.int32)[:, None]
    noise = noise_mask & real
    previous = tf.pad(noise[:, :-1], [[0, 0], [1, 0]])
    first = noise & ~previous
    span = tf.cumsum(tf.cast(first, tf.int32), axis=1) - 1
    sentinels = tf.gather(
        tf.constant(list(sentinel_ids), tf.int32),
        tf.clip_by_value(span, 0, len(sentinel_ids) - 1),
    )
    num_spans = tf.reduce_sum(tf.cast(first, tf.int32), axis=1)
    num_noise = tf.reduce_sum(tf.cast(noise, tf.int32), axis=1)
    eos = tf.fill([tf.shape(num_spans)[0], 1], eos_id)
    always = tf.ones_like(eos, tf.bool)

    # Inputs: non-noise tokens and one sentinel per span, then EOS.
    keep = real & ~(noise & previous)
    inputs_lengths = tf.reduce_sum(tf.cast(keep, tf.int32), axis=1) + 1
    inputs = scatter_rows(
        tf.concat([tf.where(first, sentinels, token_ids), eos], 1),
        tf.concat([tf.cumsum(tf.cast(keep, tf.int32), axis=1) - 1,
                   inputs_lengths[:, None] - 1], 1),
        tf.concat([keep, always], 1),
        inputs_length,
        pad_id,
    )

    # Targets: token j of the noise goes after its span's sentinel.
    targets_lengths = num_noise + num_spans + 1
    at = tf.cumsum(tf.cast(noise, tf.int32), axis=1) + span
    targets = scatter_rows(
        tf.concat([token_ids, sentinels, eos], 1),
        tf.concat([at, at - 1, targets_lengths[:, None] - 1], 1),
        tf.concat([noise, first, always], 1),
        targets_length,
        pad_id,
    )
    return (
        inputs,
        tf.minimum(inputs_lengths, inputs_length),
        targets,
        tf.minimum(targets_lengths, targets_length),
    )
