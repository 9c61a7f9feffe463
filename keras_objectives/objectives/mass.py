"""MASS: masked sequence-to-sequence pre-training (Song et al., 2019)."""

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.layers.mass_masker import MASSMasker
from keras_objectives.objectives.inputs_to_targets import InputsToTargets
from keras_objectives.objectives.registry import register
from keras_objectives.utils import invalid


@keras_objectives_export("keras_objectives.objectives.MASS")
@register("mass")
class MASS(InputsToTargets):
    """MASS: mask one contiguous fragment of each row, predict it.

    Song et al. (2019), "MASS: Masked Sequence to Sequence Pre-training for
    Language Generation": for a row of `n` tokens, one fragment of
    `k = round(fragment_ratio * n)` consecutive tokens (the paper's best,
    `k = n / 2`, is the default) is replaced by `[MASK]` in the inputs and
    is the whole target, so the decoder learns to generate from what the
    encoder read. `k = 1` is close to BERT's masked LM, `k = n` to a GPT
    language model. The fragment start is uniform on `[0, n - k]`, keyed
    per example (`keras_objectives.layers.MASSMasker`). See
    `InputsToTargets` for the two forms:

    * `form="decoder"` (default), on the shared body: the stream
      `masked row ++ fragment` of `sequence_length` tokens, attended
      bidirectionally over the masked row; the row is the longest that fits
      with its fragment (`raw_length`, 85 of 128 at 0.5).
    * `form="encoder_decoder"`, on `keras_hub.models.BartBackbone` (a
      vanilla Transformer, as in MASS): encoder on the `sequence_length`
      masked row, decoder on the fragment.

    Simplifications, against the paper: every fragment token becomes
    `[MASK]` (MASS replaces 80% / 10% random / 10% kept), the start is
    uniform (MASS favours the row's start and end), and the decoder's
    positions count from the fragment start token, not from the fragment's
    place in the row. It has no sentence score (`sentence_scoring` is
    `None`): minimal pairs are skipped with that reason.

    Args:
        special_tokens: `SpecialTokens` (needs `[MASK]`, `[PAD]`, `[SEP]`).
        sequence_length: int, the stream (decoder) or encoder length.
        seed: int, the data seed.
        form: `"decoder"` or `"encoder_decoder"`.
        fragment_ratio: float in (0, 1], the share of the row to mask.

    Examples:

    >>> from keras_objectives.data.special_tokens import (
    ...     SpecialTokens, reserved_tokens)
    >>> st = SpecialTokens.from_vocabulary(reserved_tokens() + ["a", "b"])
    >>> mass = MASS(st, sequence_length=128, seed=0)
    >>> mass.raw_length, mass.targets_length, mass.attention_mode
    (85, 43, 'prefix')
    >>> x, y, w = mass({"token_ids": tf.range(111, 196)})
    >>> int(tf.reduce_sum(w)), int(tf.reduce_sum(x["padding_mask"]))
    (43, 128)

    Reference:
        - [Song et al., 2019](https://arxiv.org/abs/1905.02450)
    """

    encoder_decoder_backbone = "bart"
    layer_arguments = ("fragment_ratio",)
    # MASS Figure 3 sweeps the fragment share k / m from 10% to 90%.
    search_space = {"fragment_ratio": [0.1, 0.3, 0.5, 0.7, 0.9]}

    def __init__(self, special_tokens, sequence_length=128, seed=0,
                 form="decoder", fragment_ratio=0.5):
        super().__init__(special_tokens, sequence_length, seed, form)
        decoder = self.form == "decoder"
        layer = MASSMasker(
            mask_token_id=self.special_tokens.require("mask_id"),
            fragment_ratio=fragment_ratio,
            pad_token_id=self.pad_id,
            form=self.form,
            sequence_length=self.sequence_length if decoder else None,
            seed=self.seed,
        )
        self._raw_length = self.sequence_length
        if decoder:  # The longest row that fits with its fragment.
            while (self._raw_length > 1 and self._raw_length
                   + layer.longest_fragment(self._raw_length)
                   > self.sequence_length):
                self._raw_length -= 1
            if self._raw_length < 2:
                raise invalid(
                    "sequence_length", sequence_length,
                    "a stream that holds a row of at least 2 tokens and "
                    "its fragment", "Raise `sequence_length`",
                )
        self.inputs_length = self._raw_length
        self.targets_length = layer.longest_fragment(self._raw_length)
        self.set_preprocessor(layer)

    @property
    def raw_length(self):
        return self._raw_length

    def expected_targets_length(self):
        # Full rows: every row has the longest fragment.
        return self.targets_length
