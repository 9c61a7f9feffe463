"""Prefix LM (T5 `prefix_lm`): read a random prefix, predict the rest."""

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.layers.prefix_lm_splitter import PrefixLMSplitter
from keras_objectives.objectives.inputs_to_targets import InputsToTargets
from keras_objectives.objectives.registry import register


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
        self.inputs_length = self.sequence_length
        self.targets_length = self.sequence_length
        decoder = self.form == "decoder"
        self.set_preprocessor(PrefixLMSplitter(
            eos_token_id=self.eos_id,
            pad_token_id=self.pad_id,
            form=self.form,
            inputs_length=None if decoder else self.inputs_length,
            targets_length=None if decoder else self.targets_length,
            seed=self.seed,
        ))

    @property
    def defines_next_token(self):
        """Decoder form: with an empty prefix, a next-token model."""
        return self.form == "decoder"

    def expected_targets_length(self):
        # E[n - k] = n / 2 for k uniform on [1, n - 1]; plus EOS in the
        # encoder-decoder form.
        return self.raw_length / 2 + (self.form == "encoder_decoder")
