"""Compute accounting: FLOPs of a forward and a training step.

The formulas are Kaplan et al. (2020) and PaLM's MFU accounting (Chowdhery
et al., 2022), split so that objectives can say where they pay the output
softmax:

* forward, per token through the body:
  `2 * N + 2 * 2 * L * d * num_layers`, where `N` is the number of
  non-embedding parameters (one multiply-add = 2 FLOPs per parameter) and
  the second term is the attention scores `QK^T` and the weighted values
  `AV` over `L` keys of width `d`. A causal mask is counted as full
  attention (no saving for the masked half), as PaLM does, so every
  attention mode costs the same and the comparison stays fair;
* the output softmax, per position where logits are computed:
  `2 * d * V` (a causal LM pays it at every position, an MLM only at the
  masked ones);
* training = 3 x forward (the backward pass costs twice the forward).

Embedding lookups are free; layer norms, biases of the softmax and the
softmax itself are negligible and not counted.
"""

import dataclasses

from keras_objectives.api_export import keras_objectives_export


@keras_objectives_export("keras_objectives.objectives.flops.ModelDims")
@dataclasses.dataclass(frozen=True)
class ModelDims:
    """The dimensions FLOP accounting needs.

    Args:
        num_layers: int, Transformer blocks.
        hidden_dim: int, model width `d`.
        intermediate_dim: int, feedforward width.
        vocabulary_size: int, `V`.
        sequence_length: int, `L`, the number of keys each query sees.
        non_embedding_params: int, `N`, every parameter except token,
            position and segment embeddings.

    Examples:

    >>> dims = ModelDims(2, 32, 64, 100, 16, non_embedding_params=1000)
    >>> forward_flops_per_token(dims)
    6096
    """

    num_layers: int
    hidden_dim: int
    intermediate_dim: int
    vocabulary_size: int
    sequence_length: int
    non_embedding_params: int

    @classmethod
    def from_backbone(cls, backbone, sequence_length):
        """Read the dimensions of a `TransformerBody`, BERT or GPT-2.

        Non-embedding parameters are all parameters minus the token
        embedding (tied or not; the output projection is counted by
        `softmax_flops`), the position embedding and, for BERT, the segment
        embedding. BERT's pooler is counted although MLM does not use it.

        For an encoder-decoder backbone, `num_layers` and the parameters
        cover both stacks; the objective must split them.
        """
        embeddings = [backbone.token_embedding]
        for name in ("position_embedding", "segment_embedding"):
            layer = getattr(backbone, name, None)
            if layer is not None:
                embeddings.append(layer)
        embedding_params = sum(layer.count_params() for layer in embeddings)
        return cls(
            num_layers=int(backbone.num_layers),
            hidden_dim=int(backbone.hidden_dim),
            intermediate_dim=int(backbone.intermediate_dim),
            vocabulary_size=int(backbone.vocabulary_size),
            sequence_length=int(sequence_length),
            non_embedding_params=int(backbone.count_params())
            - embedding_params,
        )

    def get_config(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_config(cls, config):
        return cls(**config)


@keras_objectives_export(
    "keras_objectives.objectives.flops.attention_flops_per_token"
)
def attention_flops_per_token(dims):
    """`2 * 2 * L * d * num_layers`: scores and values, causal as full."""
    return 4 * dims.sequence_length * dims.hidden_dim * dims.num_layers


@keras_objectives_export(
    "keras_objectives.objectives.flops.forward_flops_per_token"
)
def forward_flops_per_token(dims):
    """Forward FLOPs of one token through the body (no output softmax).

    `2 * N_nonembedding + 2 * 2 * L * d * num_layers`.
    """
    return 2 * dims.non_embedding_params + attention_flops_per_token(dims)


@keras_objectives_export("keras_objectives.objectives.flops.softmax_flops")
def softmax_flops(dims, positions):
    """Forward FLOPs of the output projection at `positions` positions.

    `2 * d * V` per position where logits are computed.

    >>> dims = ModelDims(2, 32, 64, 100, 16, non_embedding_params=1000)
    >>> softmax_flops(dims, 3)
    19200
    """
    return 2 * dims.hidden_dim * dims.vocabulary_size * positions


@keras_objectives_export("keras_objectives.objectives.flops.forward_flops")
def forward_flops(dims, tokens, softmax_positions, extra_params=0):
    """Forward FLOPs of a step.

    Args:
        dims: `ModelDims` of the body.
        tokens: int, tokens that pass through the body.
        softmax_positions: int, positions where vocabulary logits are
            computed.
        extra_params: int, parameters of a head transform applied at each
            softmax position (for example BERT's dense + layer norm).
    """
    return (
        forward_flops_per_token(dims) * tokens
        + softmax_flops(dims, softmax_positions)
        + 2 * extra_params * softmax_positions
    )


@keras_objectives_export("keras_objectives.objectives.flops.training_flops")
def training_flops(dims, tokens, softmax_positions, extra_params=0):
    """Training FLOPs of a step: 3 x `forward_flops` (forward + backward).

    >>> dims = ModelDims(2, 32, 64, 100, 16, non_embedding_params=1000)
    >>> training_flops(dims, tokens=16, softmax_positions=16)
    599808
    """
    return 3 * forward_flops(dims, tokens, softmax_positions, extra_params)


# Per decoder layer, the parameters the decoder stack has beyond the
# encoder's: the cross-attention block (4 d^2) and its layer norm, with
# T5's scale only (d) or BART's biases and norm (6 d).
DECODER_EXTRA_PARAMS = {
    "t5": lambda d: 4 * d * d + d,
    "bart": lambda d: 4 * d * d + 6 * d,
}


@keras_objectives_export(
    "keras_objectives.objectives.flops.encoder_decoder_training_flops"
)
def encoder_decoder_training_flops(dims, batch_size, inputs_length,
                                   targets_length, backbone="t5"):
    """Tokens and training FLOPs of an encoder-decoder step.

    `dims` covers both stacks (`ModelDims.from_backbone` of a T5 or BART
    backbone). The decoder stack has, per layer, the parameters of
    `DECODER_EXTRA_PARAMS[backbone]` more than the encoder; that fixes the
    split of `dims.non_embedding_params` between the two. The encoder runs
    on `inputs_length` positions, the decoder on `targets_length` with
    self-attention over them and cross-attention over the inputs, and
    logits only there.

    Returns:
        `(tokens, flops)`: the positions through either stack, and 3 x the
        forward FLOPs.

    Examples:

    >>> dims = ModelDims(2, 32, 64, 100, 16, non_embedding_params=50_000)
    >>> encoder_decoder_training_flops(dims, 2, 16, 8)
    (48, 7799040)
    """
    d, layers = dims.hidden_dim, dims.num_layers
    extra = layers * DECODER_EXTRA_PARAMS[backbone](d)
    encoder_params = (dims.non_embedding_params - extra) // 2
    encoder = ModelDims(layers, d, dims.intermediate_dim,
                        dims.vocabulary_size, inputs_length, encoder_params)
    decoder = ModelDims(layers, d, dims.intermediate_dim,
                        dims.vocabulary_size, targets_length,
                        encoder_params + extra)
    in_tokens = batch_size * inputs_length
    out_tokens = batch_size * targets_length
    cross = attention_flops_per_token(encoder) * out_tokens
    step = 3 * (
        forward_flops(encoder, in_tokens, 0)
        + forward_flops(decoder, out_tokens, out_tokens)
        + cross
    )
    return in_tokens + out_tokens, step
