"""Prefix LM: split each row at a random point (T5 `prefix_lm`)."""

import tensorflow as tf

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.layers.inputs_targets_transform import (
    InputsTargetsTransform,
)
from keras_objectives.layers.seeded_transform import padding_mask_of
from keras_objectives.ops import prefix_lm
from keras_objectives.utils import check_int
from keras_objectives.utils import invalid


@keras_objectives_export("keras_objectives.layers.PrefixLMSplitter")
class PrefixLMSplitter(InputsTargetsTransform):
    """Split each row into a prefix (inputs) and a suffix (targets).

    T5's `prefix_lm` with its `random_prefix_noise_mask`: the split point
    `k` is uniform on `[1, n - 1]` for a row of `n` real tokens (the
    unpadded prefix given by `padding_mask`); the first `k` tokens are the
    inputs, the rest the targets.

    * `form="decoder"` (default; seqio's `PrefixLMFeatureConverter`): one
      stream, the row itself. `token_ids` is the row shifted right behind
      `decoder_start_token_id`, `prefix_mask` is true on the first `k + 1`
      positions (the start token and the prefix: seqio's
      `decoder_causal_attention`), `y` is the row and the sample weight is
      1 on the suffix only. The stream has the row's width.
    * `form="encoder_decoder"`: T5's inputs `prefix + [EOS]` for the
      encoder and targets `suffix + [EOS]` for the decoder, as
      `(x, y, sample_weight)` for `keras_hub.models.T5Backbone`.
    * `form="features"`: T5's dict of `inputs`, `targets` and their
      padding masks.

    Args:
        eos_token_id: int, appended to inputs and targets (not in the
            `"decoder"` form, which keeps the row unchanged).
        pad_token_id: int, the fill value (and the default decoder start).
        form: `"decoder"`, `"encoder_decoder"` or `"features"`.
        inputs_length: int or `None` (the row width: always fits).
        targets_length: int or `None` (the row width: always fits).
        decoder_start_token_id: int or `None` (the pad id, as T5 and seqio).
        seed: int, the run seed.

    Examples:

    >>> layer = PrefixLMSplitter(eos_token_id=3, seed=0)
    >>> x, y, w = layer({"token_ids": tf.constant([20, 21, 22, 23, 0]),
    ...                  "padding_mask": tf.constant([1, 1, 1, 1, 0])})
    >>> x["token_ids"].numpy().tolist(), y.numpy().tolist()
    ([0, 20, 21, 22, 0], [20, 21, 22, 23, 0])
    >>> x["prefix_mask"].numpy().tolist(), w.numpy().tolist()
    ([1, 1, 1, 1, 0], [0.0, 0.0, 0.0, 1.0, 0.0])

    Reference:
        - [Raffel et al., 2020](https://arxiv.org/abs/1910.10683)
        - [Liu et al., 2018](https://arxiv.org/abs/1801.10198)
    """

    def __init__(
        self,
        eos_token_id,
        pad_token_id=0,
        form="decoder",
        inputs_length=None,
        targets_length=None,
        decoder_start_token_id=None,
        **kwargs,
    ):
        super().__init__(pad_token_id=pad_token_id, form=form,
                         decoder_start_token_id=decoder_start_token_id,
                         **kwargs)
        self.eos_token_id = check_int("eos_token_id", eos_token_id, minimum=0)
        self.inputs_length = check_int("inputs_length", inputs_length,
                                       minimum=1, allow_none=True)
        self.targets_length = check_int("targets_length", targets_length,
                                        minimum=1, allow_none=True)

    def transform(self, features, keys):
        token_ids = features["token_ids"]
        width = int(token_ids.shape[-1])
        if width < 2:
            raise invalid(
                "token_ids", f"rows of {width} token(s)",
                "rows of at least 2 tokens",
                "Pack longer rows (see `objective.raw_length`)",
            )
        mask = padding_mask_of(features, self.pad_token_id)
        lengths = tf.reduce_sum(tf.cast(mask, tf.int32), axis=1)
        split = prefix_lm.random_prefix_lengths(keys, lengths)
        if self.form == "decoder":
            row = tf.where(mask, token_ids, self.pad_token_id)
            return prefix_lm.decoder_example(row, lengths, split,
                                             self.start_id)
        # A prefix has at most n - 1 tokens and a suffix n - 1, plus EOS.
        for name in ("inputs_length", "targets_length"):
            given = getattr(self, name)
            if given is not None and given < width:
                raise invalid(
                    name, given, f"at least the row width ({width}): a "
                    "prefix or suffix can hold all but one token, plus EOS",
                    f"Set it to {width} or cut shorter rows",
                )
        outputs = prefix_lm.split_prefix(
            token_ids, lengths, split, self.eos_token_id, self.pad_token_id,
            self.inputs_length or width, self.targets_length or width,
        )
        return self.format_example(*outputs)

    def get_config(self):
        return {
            **super().get_config(),
            "eos_token_id": self.eos_token_id,
            "inputs_length": self.inputs_length,
            "targets_length": self.targets_length,
        }
