"""What ELECTRA computes around its generator: sizes, replacement, loss.

Pure functions of `ReplacedTokenDetection` and `ElectraGenerator`: the
generator's sizes and parameters from the discriminator's, the replacement
of the selected tokens by the generator's samples, and the weighted means
of the joint loss.
"""

import keras
from keras import ops


def generator_dims(num_layers, num_heads, hidden_dim, intermediate_dim,
                   size_ratio=0.25, generator_num_layers=None):
    """The generator's sizes from the discriminator's, as ELECTRA scales them.

    Width, feedforward and head count are multiplied by `size_ratio` (ELECTRA
    Table 6: "multiplier for hidden-size, FFN-size, and
    num-attention-heads"), heads rounded down to a divisor of the width; the
    depth is kept unless `generator_num_layers` is given. ELECTRA-Small
    (256 wide, 4 heads, FFN 1024) at 0.25 gives 64 wide, 1 head, FFN 256.

    Args:
        num_layers, num_heads, hidden_dim, intermediate_dim: the
            discriminator's.
        size_ratio: float in (0, 1] (ELECTRA: 0.25; best 1/4 to 1/2).
        generator_num_layers: int or `None` (the same depth).

    Returns:
        dict with `num_layers`, `num_heads`, `hidden_dim`,
        `intermediate_dim`.

    Examples:

    >>> generator_dims(12, 12, 768, 3072, size_ratio=1 / 3)
    {'num_layers': 12, 'num_heads': 4, 'hidden_dim': 256, 'intermediate_dim': 1024}
    """  # noqa: E501
    hidden = max(1, int(round(hidden_dim * size_ratio)))
    heads = max(1, min(hidden, int(round(num_heads * size_ratio))))
    while hidden % heads:
        heads -= 1
    return {
        "num_layers": int(generator_num_layers or num_layers),
        "num_heads": heads,
        "hidden_dim": hidden,
        "intermediate_dim": max(1, int(round(intermediate_dim * size_ratio))),
    }


def generator_parameters(dims, embedding_dim, normalize_first=True):
    """Non-embedding parameters of an `ElectraGenerator` body.

    Per block `4 h^2 + 4 h` (attention with biases) `+ 2 h f + f + h`
    (feedforward) `+ 4 h` (two layer norms); plus the embedding layer norm
    (`2 E`), the projection `E -> h` (`E h + h`, when `E != h`) and the final
    layer norm (`2 h`, pre-LN bodies). The shared embeddings and the MLM head
    are not counted (FLOP accounting counts the head per masked slot).

    Args:
        dims: dict from `generator_dims`.
        embedding_dim: int, the shared embedding width `E`.
        normalize_first: bool, whether the generator has a final layer norm.

    Examples:

    >>> generator_parameters(generator_dims(2, 2, 32, 64), 32)
    1544
    """
    h, f = dims["hidden_dim"], dims["intermediate_dim"]
    block = 4 * h * h + 2 * h * f + 9 * h + f
    total = dims["num_layers"] * block + 2 * embedding_dim
    if embedding_dim != h:
        total += embedding_dim * h + h
    if normalize_first:
        total += 2 * h
    return total


def selected_positions(mask_positions, mask_weights, length):
    """Bool `[B, length]`: true at the positions of the real mask slots.

    Examples:

    >>> import numpy as np
    >>> keras.ops.convert_to_numpy(selected_positions(
    ...     np.array([[2, 0]]), np.array([[1.0, 0.0]]), 4))
    array([[False, False,  True, False]])
    """
    return ops.any(_hits(mask_positions, mask_weights, length), axis=1)


def _hits(mask_positions, mask_weights, length):
    # hit[b, p, l]: slot p of row b is real and points at position l.
    return ops.logical_and(
        ops.equal(
            ops.expand_dims(ops.cast(mask_positions, "int32"), -1),
            ops.arange(length, dtype="int32"),
        ),
        ops.expand_dims(ops.not_equal(mask_weights, 0), -1),
    )


def replace_tokens(token_ids, mask_positions, mask_weights, sampled_ids):
    """Write samples into a sequence at the selected positions.

    Args:
        token_ids: int `[B, L]`, the original (unmasked) tokens.
        mask_positions: int `[B, P]`, the selected positions (unique among
            the real slots; padded slots have weight 0).
        mask_weights: `[B, P]`, nonzero on real slots.
        sampled_ids: int `[B, P]`, the generator's samples.

    Returns:
        `(replaced_token_ids, is_replaced)`, both int32 `[B, L]`. A position
        is replaced when it was selected *and* the sample differs from the
        original: ELECTRA's `masked * (1 - [sampled == original])`, so a
        correct sample counts as original.

    Examples:

    >>> import numpy as np
    >>> replaced, labels = replace_tokens(
    ...     np.array([[10, 11, 12, 13]]), np.array([[1, 2, 0]]),
    ...     np.array([[1, 1, 0]]), np.array([[20, 12, 99]]))
    >>> keras.ops.convert_to_numpy(replaced), keras.ops.convert_to_numpy(labels)
    (array([[10, 20, 12, 13]], dtype=int32), array([[0, 1, 0, 0]], dtype=int32))
    """  # noqa: E501
    token_ids = ops.cast(token_ids, "int32")
    hit = _hits(mask_positions, mask_weights, ops.shape(token_ids)[-1])
    selected = ops.any(hit, axis=1)
    sampled = ops.expand_dims(ops.cast(sampled_ids, "int32"), -1)
    values = ops.sum(ops.where(hit, sampled, 0), axis=1)
    replaced = ops.where(selected, values, token_ids)
    is_replaced = ops.logical_and(selected, ops.not_equal(replaced, token_ids))
    return replaced, ops.cast(is_replaced, "int32")


def weighted_mean(values, weights):
    """`sum(values * weights) / sum(weights)`, 0 when there is no weight."""
    weights = ops.cast(weights, values.dtype)
    return ops.divide_no_nan(ops.sum(values * weights), ops.sum(weights))


def scale_for_replicas(loss):
    """Divide by the replicas in sync, as `keras.losses.Loss` does."""
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        if replicas > 1:
            loss = loss / replicas
    return loss
