"""Base class of the objectives that map an `inputs` row to `targets`."""

import keras

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.layers.lm_head import LMHead
from keras_objectives.models.backbones import backbone_outputs
from keras_objectives.models.backbones import check_attention_mode
from keras_objectives.objectives import flops
from keras_objectives.objectives.objective import Objective
from keras_objectives.utils import check_choice

FORMS = ("decoder", "encoder_decoder")


@keras_objectives_export("keras_objectives.objectives.InputsToTargets")
class InputsToTargets(Objective):
    """Base of objectives that map an `inputs` sequence to a `targets` one.

    Prefix LM, span corruption, iid denoising and BART denoising all
    produce an (inputs, targets) pair per example and run in two forms:

    * `form="decoder"` (default): the shared body with
      `attention_mode="prefix"` reads the stream `inputs ++ targets`
      shifted right behind the start token, bidirectionally over the start
      token and the inputs, causally after (seqio's
      `PrefixLMFeatureConverter`); tied logits at every position, loss
      weight on the targets only. Total length `sequence_length`.
    * `form="encoder_decoder"`: a keras-hub encoder-decoder backbone
      (`encoder_decoder_backbone`, T5 unless the objective says
      otherwise), encoder on the inputs, decoder on the targets shifted
      right behind the decoder start token; logits tied to the token
      embedding and, as `T5Seq2SeqLM`, scaled by `hidden_dim ** -0.5` when
      the backbone ties its embeddings.

    Subclasses build their layer (a
    `keras_objectives.layers.InputsTargetsTransform` in `self.form`), pass
    it to `set_preprocessor`, and set `inputs_length`, `targets_length`
    and `expected_targets_length()`.

    Args:
        special_tokens: `SpecialTokens` of the vocabulary (needs `[PAD]`
            and `[SEP]`).
        sequence_length: int, the stream length (decoder form) or the
            encoder length (encoder-decoder form).
        seed: int, the data seed.
        form: `"decoder"` or `"encoder_decoder"`.
    """

    attention_mode = "prefix"
    architecture = "decoder"
    #: The keras-hub backbone of the encoder-decoder form (`"t5"` or
    #: `"bart"`, see `keras_objectives.models.make_backbone`); its decoder
    #: blocks fix the FLOPs split (`flops.encoder_decoder_training_flops`).
    #: `None`: no encoder-decoder form.
    encoder_decoder_backbone = "t5"

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
        return super().loss()

    def build_graph(self, backbone):
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
        through the body and gets logits. Encoder-decoder form (`dims` of
        both stacks): `flops.encoder_decoder_training_flops` with the
        encoder on `inputs_length` positions and the decoder on
        `targets_length`.
        """
        loss_positions = batch_size * self.expected_targets_length()
        if self.form == "decoder":
            tokens = batch_size * self.sequence_length
            step = flops.training_flops(dims, tokens=tokens,
                                        softmax_positions=tokens)
        else:
            tokens, step = flops.encoder_decoder_training_flops(
                dims, batch_size, self.inputs_length, self.targets_length,
                self.encoder_decoder_backbone)
        return {
            "tokens_per_step": tokens,
            "loss_positions_per_step": loss_positions,
            "flops_per_step": float(step),
        }

    def get_config(self):
        return {**super().get_config(), "form": self.form}
