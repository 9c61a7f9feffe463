"""GPT-style causal (next-token) language modeling."""

import keras

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.layers.causal_lm_shifter import CausalLMShifter
from keras_objectives.layers.lm_head import LMHead
from keras_objectives.models.backbones import backbone_outputs
from keras_objectives.models.backbones import required_inputs
from keras_objectives.objectives import flops
from keras_objectives.objectives.objective import Objective
from keras_objectives.objectives.registry import register


@keras_objectives_export("keras_objectives.objectives.CausalLM")
@register("causal_lm")
class CausalLM(Objective):
    """Causal language modeling: predict every next token.

    The transform consumes `sequence_length + 1` packed tokens, so that the
    model sees `sequence_length` inputs and every input position has a
    target. Padding reaches the loss only through the sample weight, taken
    by position. With packed documents the `[SEP]` (EOS) that ends a document
    is a target like any other token; with a document-masked body each
    document attends only to itself (Megatron's `reset_attention_mask`).

    Args:
        special_tokens: `SpecialTokens` of the vocabulary.
        sequence_length: int, the model input length.
        seed: int, the data seed (unused: the transform is deterministic).

    Examples:

    >>> from keras_objectives.data.special_tokens import (
    ...     SpecialTokens, reserved_tokens)
    >>> st = SpecialTokens.from_vocabulary(reserved_tokens() + ["a", "b"])
    >>> clm = CausalLM(st, sequence_length=4)
    >>> clm.raw_length
    5
    >>> x, y, w = clm({"token_ids": tf.constant([2, 111, 112, 111, 3])})
    >>> x["token_ids"].numpy().tolist(), y.numpy().tolist()
    ([2, 111, 112, 111], [111, 112, 111, 3])

    Reference:
        - [Radford et al., 2018](https://openai.com/research/language-unsupervised)
    """

    attention_mode = "causal"
    architecture = "decoder"

    def __init__(self, special_tokens, sequence_length=128, seed=0):
        super().__init__(special_tokens, sequence_length, seed)
        self.set_preprocessor(self.make_layer())

    def make_layer(self):
        """The transform: `CausalLMShifter` (`FillInTheMiddle` swaps it)."""
        return CausalLMShifter(
            pad_token_id=self.special_tokens.pad_id or 0, seed=self.seed
        )

    @property
    def raw_length(self):
        return self.sequence_length + 1

    def build_graph(self, backbone):
        inputs = {
            name: keras.Input((None,), dtype="int32", name=name)
            for name in required_inputs(backbone, self.attention_mode)
        }
        sequence = backbone_outputs(backbone, inputs, self.attention_mode)
        head = LMHead(
            token_embedding=backbone.token_embedding,
            dtype=backbone.dtype_policy,
            name="lm_head",
        )
        return inputs, head(sequence)

    def accounting(self, dims, batch_size):
        tokens = batch_size * self.sequence_length
        return {
            "tokens_per_step": tokens,
            "loss_positions_per_step": tokens,
            "flops_per_step": float(
                flops.training_flops(dims, tokens=tokens,
                                     softmax_positions=tokens)
            ),
        }
