"""Prefix LM (T5 `prefix_lm`), and the two model forms of inputs -> targets."""

import keras

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.objectives import flops
from keras_objectives.objectives.objective import Objective
from keras_objectives.objectives.registry import register
from keras_objectives.utils import check_choice

FORMS = ("decoder", "encoder_decoder")


class InputsToTargets(Objective):
    """Base of objectives that map an `inputs` sequence to a `targets` one.

    Prefix LM, span corruption and iid denoising all produce an (inputs,
    targets) pair per example and run in two forms:

    * `form="decoder"` (default): the shared body with
      `attention_mode="prefix"` reads the stream `inputs ++ targets`
      shifted right behind the start token, bidirectionally over the start
      token and the inputs, causally after (seqio's
      `PrefixLMFeatureConverter`); tied logits at every position, loss
      weight on the targets only. Total length `sequence_length`.
    * `form="encoder_decoder"`: `keras_hub.models.T5Backbone`, encoder on
      the inputs (`sequence_length` long), decoder on the targets shifted
      right behind the pad id; logits tied to the token embedding and, as
      `T5Seq2SeqLM`, scaled by `hidden_dim ** -0.5` when the backbone ties
      its embeddings.

    Subclasses set `self.layer` (the preprocessor, returning `(x, y,
    sample_weight)`), `inputs_length`, `targets_length` and
    `expected_targets_length()`.
    """

    attention_mode = "prefix"
    architecture = "decoder"

    def __init__(self, special_tokens, sequence_length=128, seed=0,
                 form="decoder"):
        super().__init__(special_tokens, sequence_length, seed)
        self.form = check_choice("form", form, FORMS)
        if self.form == "encoder_decoder":
            # `keras_objectives.models.backbones` names this mode.
            self.attention_mode = "encoder_decoder"
            self.architecture = "encoder_decoder"
        self.eos_id = self.special_tokens.require("eos_id")
        self.pad_id = self.special_tokens.require("pad_id")

    @property
    def preprocessor(self):
        return self.layer

    def expected_targets_length(self):
        """Mean loss-bearing positions of a full row."""
        raise NotImplementedError

    # --- model side ------------------------------------------------------
    def loss(self):
        """Cross-entropy per target token.

        `"mean_with_sample_weight"` divides by the summed weights: in the
        decoder form only about a fifth of the positions are targets, and
        Keras' default (divide by all positions) would report a loss that
        is not comparable with the encoder-decoder form or other objectives.
        """
        return keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, reduction="mean_with_sample_weight"
        )

    def build_graph(self, backbone):
        from keras_objectives.layers.lm_head import LMHead
        from keras_objectives.models.backbones import backbone_outputs
        from keras_objectives.models.backbones import check_attention_mode

        if self.form == "decoder":
            inputs = {
                name: keras.Input((None,), dtype=dtype, name=name)
                for name, dtype in (("token_ids", "int32"),
                                    ("padding_mask", "int32"),
                                    ("prefix_mask", "int32"))
            }
            sequence = backbone_outputs(backbone, inputs, "prefix")
            head = LMHead(token_embedding=backbone.token_embedding,
                          dtype=backbone.dtype_policy, name="lm_head")
            return inputs, head(sequence)
        check_attention_mode(backbone, "encoder_decoder")
        inputs = {
            f"{side}_{name}": keras.Input(
                (None,), dtype=dtype, name=f"{side}_{name}"
            )
            for side in ("encoder", "decoder")
            for name, dtype in (("token_ids", "int32"),
                                ("padding_mask", "int32"))
        }
        sequence = backbone(inputs)["decoder_sequence_output"]
        if getattr(backbone, "tie_embedding_weights", False):
            sequence = keras.layers.Rescaling(
                backbone.hidden_dim**-0.5, dtype=backbone.dtype_policy,
                name="tied_logits_scale",
            )(sequence)
        head = LMHead(token_embedding=backbone.token_embedding,
                      use_bias=False, dtype=backbone.dtype_policy,
                      name="lm_head")
        return inputs, head(sequence)

    # --- compute accounting ----------------------------------------------
    def accounting(self, dims, batch_size):
        """Tokens, loss positions (targets only) and training FLOPs.

        Decoder form: every one of the `sequence_length` positions goes
        through the body and gets logits. Encoder-decoder form (`dims` of a
        T5 backbone, both stacks): the encoder runs on `inputs_length`
        positions, the decoder on `targets_length` with self-attention over
        them and cross-attention over the inputs, and logits only there.
        The decoder stack has one more attention block (4 d^2 + d
        parameters) per layer than the encoder; that fixes the split of
        `dims.non_embedding_params` between the two stacks.
        """
        loss_positions = batch_size * self.expected_targets_length()
        if self.form == "decoder":
            tokens = batch_size * self.sequence_length
            step = flops.training_flops(dims, tokens=tokens,
                                        softmax_positions=tokens)
        else:
            d, layers = dims.hidden_dim, dims.num_layers
            extra = layers * (4 * d * d + d)
            encoder_params = (dims.non_embedding_params - extra) // 2
            encoder = flops.ModelDims(
                layers, d, dims.intermediate_dim, dims.vocabulary_size,
                self.inputs_length, encoder_params,
            )
            decoder = flops.ModelDims(
                layers, d, dims.intermediate_dim, dims.vocabulary_size,
                self.targets_length, encoder_params + extra,
            )
            in_tokens = batch_size * self.inputs_length
            out_tokens = batch_size * self.targets_length
            cross = flops.attention_flops_per_token(encoder) * out_tokens
            step = 3 * (
                flops.forward_flops(encoder, in_tokens, 0)
                + flops.forward_flops(decoder, out_tokens, out_tokens)
                + cross
            )
            tokens = in_tokens + out_tokens
        return {
            "tokens_per_step": tokens,
            "loss_positions_per_step": loss_positions,
            "flops_per_step": float(step),
        }

    def get_config(self):
        return {**super().get_config(), "form": self.form}


@keras_objectives_export("keras_objectives.objectives.PrefixLM")
@register("prefix_lm")
class PrefixLM(InputsToTargets):
    """Prefix language modeling: read a random prefix, predict the rest.

    T5's `prefix_lm` (`noise_density=0.5`, its only supported value): each
    row of `n` real tokens is split at `k`, uniform on `[1, n - 1]`; the
    prefix is the inputs and the suffix the targets (on average half the
    row). See `InputsToTargets` for the two forms:

    * `form="decoder"` (default, seqio's `PrefixLMFeatureConverter`): the
      stream is the row itself (`raw_length = sequence_length`), shifted
      right behind the pad id; `prefix_mask` covers the start token and the
      prefix (`k + 1` positions); the loss is on the suffix. Needs a body
      with `attention_mode="prefix"`.
    * `form="encoder_decoder"`: encoder inputs `prefix + [EOS]`, decoder
      targets `suffix + [EOS]` (T5 appends EOS to both), each
      `sequence_length` long (a prefix or a suffix can take the whole row
      but one token); `raw_length = sequence_length`.

    Args:
        special_tokens: `SpecialTokens` of the vocabulary (needs `[PAD]` and
            `[SEP]`).
        sequence_length: int, the stream length (decoder form) or the
            encoder length (encoder-decoder form).
        seed: int, the data seed (split points are keyed per example).
        form: `"decoder"` or `"encoder_decoder"`.

    Examples:

    >>> import tensorflow as tf
    >>> from keras_objectives.data.special_tokens import (
    ...     SpecialTokens, reserved_tokens)
    >>> st = SpecialTokens.from_vocabulary(reserved_tokens() + ["a", "b"])
    >>> plm = PrefixLM(st, sequence_length=6, seed=0)
    >>> plm.raw_length, plm.attention_mode
    (6, 'prefix')
    >>> x, y, w = plm({"token_ids": tf.constant([2, 111, 112, 111, 112, 3])})
    >>> sorted(x), y.numpy().tolist()
    (['padding_mask', 'prefix_mask', 'token_ids'], [2, 111, 112, 111, 112, 3])

    Reference:
        - [Raffel et al., 2020](https://arxiv.org/abs/1910.10683)
        - [Liu et al., 2018](https://arxiv.org/abs/1801.10198)
    """

    def __init__(self, special_tokens, sequence_length=128, seed=0,
                 form="decoder"):
        super().__init__(special_tokens, sequence_length, seed, form)
        from keras_objectives.layers.prefix_lm_splitter import PrefixLMSplitter

        self.inputs_length = self.sequence_length
        self.targets_length = self.sequence_length
        self.layer = PrefixLMSplitter(
            eos_token_id=self.eos_id,
            pad_token_id=self.pad_id,
            form=self.form,
            inputs_length=None if form == "decoder" else self.inputs_length,
            targets_length=None if form == "decoder" else self.targets_length,
            seed=self.seed,
        )

    def expected_targets_length(self):
        # E[n - k] = n / 2 for k uniform on [1, n - 1]; plus EOS in the
        # encoder-decoder form.
        return self.raw_length / 2 + (self.form == "encoder_decoder")
