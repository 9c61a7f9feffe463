"""Counter-based, stateless random numbers keyed per example.

Every random draw in the data path is a pure function of
`(seed, epoch, example_id, position, stream)`. We hash those integers with a
32-bit integer mixer (Wellons' `lowbias32`), so

* the same key always gives the same numbers, on any worker, after a restart,
  and whatever `num_parallel_calls` is;
* a batched call and an unbatched call give *identical* numbers for the same
  example (each row carries its own key), which `tf.random.stateless_*` cannot
  do with one seed per call;
* everything is plain dense TF ops, so it runs under XLA and on TPU hosts.

`stream` separates independent uses inside one transform (selection scores,
80/10/10 decisions, random replacement ids, ...). Every op takes its stream
ids from the one table below, so a reader sees them all in one place. An id
may repeat across transforms that never share a key, never within one, and
the values are part of every golden output: add new ids, never renumber.
"""

import tensorflow as tf

# --- The random-stream ids of every op ----------------------------------
# ops.selection (MaskedLMMasker, SpanMasker).
SELECTION_PRIORITY = 11  # Priority order of the eligible tokens (words).
SELECTION_COUNT = 12  # prob_round's coin, bernoulli's draws.
SPAN_LENGTH = 13  # SpanBERT's geometric span lengths.
SPAN_ANCHOR = 14  # SpanBERT's span anchors.
# ops.masking (MaskedLMMasker, SpanMasker).
MASK_DECISION = 21  # The 80/10/10 decision per token (word, span).
RANDOM_ID = 22  # The random replacement id.
NGRAM_LENGTH = 23  # ops.ngrams: how many words an n-gram block covers.
# ops.denoising (BARTNoiser).
SENTENCE_SHUFFLE = 10  # Is a document's sentence order shuffled?
SENTENCE_ORDER = 11  # The permutation of its sentences.
ROTATE = 20  # Is a document rotated?
ROTATE_OFFSET = 21  # Its new first token.
INFILL_LENGTHS = 30  # Poisson span lengths of text infilling.
INFILL_PLACES = 31  # Where the infilled spans go.
TOKEN_SELECTION = 40  # Token masking and deletion.
# ops.fim (FIMTransform).
FIM_DOCUMENT = 50  # Is a document rearranged?
FIM_SPM = 51  # In SPM rather than PSM?
FIM_CUT_A = 52  # The two cut points.
FIM_CUT_B = 53
# ops.span_corruption (SpanCorruptor).
NOISE_SEGMENTS = 101  # T5's random partition of the noise tokens...
NONNOISE_SEGMENTS = 102  # ... and of the other tokens.
SPAN_ROLL = 103  # The random roll of the mask.
IID_NOISE = 104  # iid denoising's per-token draw.
# ops.prefix_lm (PrefixLMSplitter).
PREFIX_SPLIT = 111  # The split point of prefix LM.
# layers.MixtureTransform.
MIXTURE_MEMBER = 0x31C5  # The member drawn per example.

_M1 = 0x7FEB352D
_M2 = 0x846CA68B
_GOLDEN = 0x9E3779B9


def _u32(x):
    x = tf.convert_to_tensor(x)
    if x.dtype == tf.uint32:
        return x
    if x.dtype == tf.int64 or x.dtype == tf.uint64:
        x = tf.cast(x, tf.int64)
        lo = tf.cast(tf.bitwise.bitwise_and(x, 0xFFFFFFFF), tf.uint32)
        hi = tf.cast(tf.bitwise.right_shift(x, 32), tf.uint32)
        return tf.bitwise.bitwise_xor(lo, mix32(hi + _GOLDEN))
    return tf.bitcast(tf.cast(x, tf.int32), tf.uint32)


def mix32(x):
    """Bijective avalanche mix of a uint32 tensor (`lowbias32`)."""
    x = tf.convert_to_tensor(x, tf.uint32)
    shift = tf.bitwise.right_shift
    xor = tf.bitwise.bitwise_xor
    x = xor(x, shift(x, tf.constant(16, tf.uint32)))
    x = x * tf.constant(_M1, tf.uint32)
    x = xor(x, shift(x, tf.constant(15, tf.uint32)))
    x = x * tf.constant(_M2, tf.uint32)
    x = xor(x, shift(x, tf.constant(16, tf.uint32)))
    return x


def combine(key, value):
    """Fold an integer tensor `value` into a uint32 `key` (broadcasting)."""
    key = _u32(key)
    value = _u32(value)
    return mix32(tf.bitwise.bitwise_xor(key, mix32(value + _GOLDEN)))


def example_keys(seed, epoch, example_ids):
    """Per-example uint32 keys from a run seed, an epoch and example ids.

    Args:
        seed: int or scalar integer tensor, the run seed.
        epoch: scalar or `[batch]` integer tensor.
        example_ids: scalar or `[batch]` integer tensor (int32 or int64).

    Returns:
        A uint32 tensor with the broadcast shape of `epoch` and `example_ids`.

    Examples:

    >>> a = example_keys(1, 0, [0, 1, 2])
    >>> b = example_keys(1, 0, [0, 1, 2])
    >>> bool(tf.reduce_all(a == b))
    True
    >>> bool(tf.reduce_any(a == example_keys(1, 1, [0, 1, 2])))
    False
    """
    key = combine(tf.constant(0x5EED, tf.uint32), seed)
    key = combine(key, epoch)
    return combine(key, example_ids)


def content_keys(token_ids):
    """A uint32 key per row computed from its token ids (a content hash).

    Used when a caller gives no `example_ids`: the transform is then still a
    pure function of its input, but identical rows get identical noise.
    """
    token_ids = tf.convert_to_tensor(token_ids)
    h = mix32(_u32(token_ids) + _GOLDEN)
    length = tf.shape(token_ids)[-1]
    pos = mix32(tf.cast(tf.range(length), tf.uint32) * tf.constant(
        _GOLDEN, tf.uint32))
    h = mix32(tf.bitwise.bitwise_xor(h, pos))
    # Order-sensitive reduction: sum of position-mixed hashes (wraps mod 2^32).
    return mix32(tf.reduce_sum(h, axis=-1))


def random_bits(keys, length, stream=0):
    """uint32 random bits of shape `keys.shape + [length]`.

    Args:
        keys: uint32 tensor of per-example keys (scalar or `[batch]`).
        length: int or scalar tensor, the number of positions.
        stream: int, separates independent uses of the same key.
    """
    return random_bits_at(keys, tf.range(length), stream)


def random_bits_at(keys, positions, stream=0):
    """The bits `random_bits` gives at `positions`, without the gather.

    `random_bits_at(keys, p, s)` equals `tf.gather(random_bits(keys, L, s),
    p, batch_dims=1)` for any int32 positions `p` (each number is a hash of
    its position), which lets a transform draw one number per word or span
    directly at its ordinal.

    Args:
        keys: uint32 tensor of per-example keys (scalar or `[batch]`).
        positions: int tensor, `[length]` or `keys.shape + [length]`.
        stream: int, as in `random_bits`.

    Examples:

    >>> keys = example_keys(0, 0, [3, 4])
    >>> at = random_bits_at(keys, tf.constant([[2, 0], [1, 1]]))
    >>> bool(tf.reduce_all(at == tf.gather(random_bits(keys, 3), [[2, 0],
    ...                                    [1, 1]], batch_dims=1)))
    True
    """
    positions = tf.convert_to_tensor(positions)
    if positions.dtype != tf.uint32:  # positions are small: no int64 fold
        positions = tf.bitcast(tf.cast(positions, tf.int32), tf.uint32)
    keys = combine(_u32(keys), tf.constant(stream, tf.int32))
    return combine(keys[..., tf.newaxis], positions)


def uniform(keys, length, stream=0):
    """float32 uniforms in `[0, 1)` of shape `keys.shape + [length]`.

    Examples:

    >>> u = uniform(example_keys(0, 0, [3, 4]), 5)
    >>> u.shape
    TensorShape([2, 5])
    >>> bool(tf.reduce_all((u >= 0.0) & (u < 1.0)))
    True
    """
    bits = random_bits(keys, length, stream)
    top24 = tf.bitwise.right_shift(bits, tf.constant(8, tf.uint32))
    return tf.cast(top24, tf.float32) * (1.0 / 16777216.0)


def randint(keys, length, maxval, stream=0):
    """Integers uniform on `[0, maxval)`, shape `keys.shape + [length]`.

    `maxval` may be a tensor broadcastable to the output. Bias is below
    `maxval / 2**24`, negligible for vocabularies and sequence lengths.
    """
    u = uniform(keys, length, stream)
    maxval = tf.cast(maxval, tf.float32)
    out = tf.cast(tf.floor(u * maxval), tf.int32)
    return tf.minimum(out, tf.cast(maxval, tf.int32) - 1)


def scalar_uniform(keys, stream=0):
    """One float32 uniform per key, shape `keys.shape`."""
    return uniform(keys, 1, stream)[..., 0]


def permutation(keys, length, stream=0):
    """A uniformly random permutation of `range(length)` per key."""
    bits = random_bits(keys, length, stream)
    # Argsort of distinct-ish random values; ties (p ~ n^2 / 2^32) fall back to
    # a stable order, which keeps the result deterministic.
    values = tf.bitcast(
        tf.bitwise.bitwise_xor(bits, tf.constant(0x80000000, tf.uint32)),
        tf.int32,
    )
    return tf.argsort(values, axis=-1, stable=True)
