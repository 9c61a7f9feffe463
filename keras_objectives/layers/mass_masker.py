"""MASS: mask one contiguous fragment of each row, predict it."""

import tensorflow as tf

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.layers.inputs_targets_transform import (
    InputsTargetsTransform,
)
from keras_objectives.layers.seeded_transform import padding_mask_of
from keras_objectives.ops import mass
from keras_objectives.utils import check_int
from keras_objectives.utils import invalid


@keras_objectives_export("keras_objectives.layers.MASSMasker")
class MASSMasker(InputsTargetsTransform):
    """MASS fragment masking (Song et al., 2019).

    For a row of `n` real tokens, a fragment of `k = round(fragment_ratio
    * n)` consecutive tokens (at least 1, at most `n`) starts at a position
    uniform on `[0, n - k]`, keyed per example. The inputs are the row with
    the fragment set to `mask_token_id`; the targets are the fragment.

    * `form="encoder_decoder"`: encoder on the masked row, decoder on the
      fragment shifted right behind `decoder_start_token_id`.
    * `form="decoder"`: one prefix-attention stream `inputs ++ targets` of
      `sequence_length` (bidirectional over the masked row, causal over the
      fragment, loss on the fragment).
    * `form="features"`: the dict of `inputs`, `targets` and their masks.

    Args:
        mask_token_id: int, the `[MASK]` id.
        fragment_ratio: float in (0, 1], the share of the row to mask
            (MASS: 0.5).
        pad_token_id: int, the fill value (and the default decoder start).
        form: `"encoder_decoder"`, `"decoder"` or `"features"`.
        targets_length: int or `None` (the longest fragment of a full row).
        sequence_length: int, the stream length of the `"decoder"` form
            (`None`: row width plus the longest fragment).
        decoder_start_token_id: int or `None` (the pad id).
        seed: int, the run seed.

    Examples:

    >>> layer = MASSMasker(mask_token_id=4, form="features", seed=0)
    >>> out = layer({"token_ids": tf.constant([20, 21, 22, 23, 24, 25])})
    >>> out["inputs"].numpy().tolist(), out["targets"].numpy().tolist()
    ([20, 4, 4, 4, 24, 25], [21, 22, 23])

    Reference:
        - [Song et al., 2019](https://arxiv.org/abs/1905.02450)
    """

    def __init__(self, mask_token_id, fragment_ratio=0.5, pad_token_id=0,
                 form="encoder_decoder", targets_length=None,
                 sequence_length=None, decoder_start_token_id=None,
                 **kwargs):
        super().__init__(pad_token_id=pad_token_id, form=form,
                         decoder_start_token_id=decoder_start_token_id,
                         **kwargs)
        self.mask_token_id = check_int("mask_token_id", mask_token_id,
                                       minimum=0)
        try:
            ratio = float(fragment_ratio)
        except (TypeError, ValueError):
            ratio = -1.0
        if not 0.0 < ratio <= 1.0:
            raise invalid("fragment_ratio", fragment_ratio,
                          "a float in (0, 1]", "MASS uses 0.5")
        self.fragment_ratio = ratio
        self.targets_length = check_int("targets_length", targets_length,
                                        minimum=1, allow_none=True)
        self.sequence_length = check_int("sequence_length", sequence_length,
                                         minimum=2, allow_none=True)

    def longest_fragment(self, width):
        """int, the fragment of a full row of `width` tokens."""
        return mass.longest_fragment(width, self.fragment_ratio)

    def transform(self, features, keys):
        token_ids = features["token_ids"]
        width = int(token_ids.shape[-1])
        longest = self.longest_fragment(width)
        targets_length = self.targets_length or longest
        if targets_length < longest:
            raise invalid(
                "targets_length", targets_length,
                f"at least {longest}, the fragment of a {width}-token row",
                f"Set it to {longest} or cut shorter rows",
            )
        stream = self.sequence_length or width + targets_length
        if self.form == "decoder" and stream < width + longest:
            raise invalid(
                "sequence_length", stream,
                f"at least {width + longest} (a {width}-token row and its "
                "fragment)", "Cut shorter rows (see `MASS.raw_length`)",
            )
        mask = padding_mask_of(features, self.pad_token_id)
        lengths = tf.reduce_sum(tf.cast(mask, tf.int32), axis=1)
        k = mass.fragment_lengths(lengths, self.fragment_ratio)
        starts = mass.fragment_starts(keys, lengths, k)
        outputs = mass.mask_fragment(
            token_ids, lengths, starts, k, self.mask_token_id,
            self.pad_token_id, targets_length,
        )
        return self.format_example(*outputs, sequence_length=stream)

    def get_config(self):
        return {
            **super().get_config(),
            "mask_token_id": self.mask_token_id,
            "fragment_ratio": self.fragment_ratio,
            "targets_length": self.targets_length,
            "sequence_length": self.sequence_length,
        }
