"""Sample one member objective per example, in one static output format."""

import keras
import tensorflow as tf

from keras_objectives.api_export import deserialize
from keras_objectives.api_export import keras_objectives_export
from keras_objectives.layers.seeded_transform import SeededTransform
from keras_objectives.ops import random as kr
from keras_objectives.utils import check_int


def to_prefix_format(x, y, sample_weight):
    """Convert an objective's output to the shared decoder-body format.

    The format is `x = {token_ids, padding_mask, prefix_mask}` with `y` and
    `sample_weight` aligned to the positions (`[B, L]`):

    * outputs with a `prefix_mask` (prefix LM, span corruption, denoising
      in decoder form) are kept;
    * causal outputs get an empty prefix (`prefix_mask` all False);
    * masked-LM outputs (`mask_positions`) become dense: `y` holds the
      original token at each selected position and the sample weight is 1
      there; the prefix covers every real token (bidirectional attention).
    """
    token_ids = x["token_ids"]
    padding_mask = tf.cast(x["padding_mask"], tf.bool)
    if "mask_positions" in x:
        length = tf.shape(token_ids)[-1]
        weights = tf.cast(sample_weight, tf.float32)
        one_hot = tf.one_hot(x["mask_positions"], length) * weights[..., None]
        y = tf.cast(
            tf.reduce_sum(one_hot * tf.cast(y, tf.float32)[..., None], -2),
            tf.int32,
        )
        sample_weight = tf.minimum(tf.reduce_sum(one_hot, -2), 1.0)
        prefix_mask = padding_mask
    elif "prefix_mask" in x:
        prefix_mask = tf.cast(x["prefix_mask"], tf.bool)
    else:
        prefix_mask = tf.zeros_like(padding_mask)
    out = {
        "token_ids": tf.cast(token_ids, tf.int32),
        "padding_mask": padding_mask,
        "prefix_mask": prefix_mask,
    }
    return out, tf.cast(y, tf.int32), tf.cast(sample_weight, tf.float32)


@keras_objectives_export("keras_objectives.layers.MixtureTransform")
class MixtureTransform(SeededTransform):
    """Pick one member transform per example and run it.

    Every member (the preprocessing layer of a member objective, which
    returns `(x, y, sample_weight)`) runs on the batch, on the first
    `raw_lengths[i]` tokens it needs; its output is converted to the
    shared decoder-body format (`to_prefix_format`), an optional mode token
    is prepended, and each row keeps the output of the member drawn for it
    from `(seed, epoch, example_id)`. Shapes stay static: every member
    emits `sequence_length` positions.

    Rates may follow a linear schedule: from `rates` at stream position 0
    to `final_rates` at `schedule_examples` (positions come from the
    pipeline's `stream_index` feature).

    Args:
        members: list of the members' preprocessing layers (or their
            `keras.saving.serialize_keras_object` configs).
        raw_lengths: list of ints, the packed tokens each member reads.
        rates: list of floats summing to 1.
        mode_token_ids: list of ints or `None`, prepended per member.
        sequence_length: int, the output length.
        final_rates: optional list of floats summing to 1.
        schedule_examples: int, the stream position where `final_rates`
            are reached.
    """

    def __init__(self, members, raw_lengths, rates, mode_token_ids,
                 sequence_length, final_rates=None, schedule_examples=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.members = [m if isinstance(m, keras.layers.Layer)
                        else deserialize(m) for m in members]
        self.raw_lengths = [check_int("raw_lengths", n, minimum=1)
                            for n in raw_lengths]
        self.rates = [float(r) for r in rates]
        self.mode_token_ids = list(mode_token_ids)
        self.sequence_length = check_int("sequence_length", sequence_length,
                                         minimum=2)
        self.final_rates = (None if final_rates is None
                            else [float(r) for r in final_rates])
        self.schedule_examples = check_int(
            "schedule_examples", schedule_examples, minimum=1,
            allow_none=True,
        )

    @property
    def raw_length(self):
        """The packed tokens a row must hold: the longest member's."""
        return max(self.raw_lengths)

    def _rates(self, features, batch):
        start = tf.constant(self.rates, tf.float32)[None, :]
        if self.final_rates is None:
            return tf.tile(start, [batch, 1])
        if "stream_index" not in features:
            raise ValueError(
                "A scheduled `Mixture` needs the `stream_index` feature, "
                "which `keras_objectives.data.make_dataset` emits. Build the "
                "dataset with it, or drop `final_rates`."
            )
        progress = tf.cast(features["stream_index"], tf.float32) / float(
            self.schedule_examples
        )
        progress = tf.clip_by_value(progress, 0.0, 1.0)[:, None]
        end = tf.constant(self.final_rates, tf.float32)[None, :]
        return (1.0 - progress) * start + progress * end

    def transform(self, features, keys):
        batch = tf.shape(features["token_ids"])[0]
        outputs = []
        members = zip(self.members, self.raw_lengths, self.mode_token_ids,
                      strict=True)
        for member, raw, mode_id in members:
            sliced = {
                k: (v[:, :raw] if v.shape.rank == 2 else v)
                for k, v in features.items()
            }
            x, y, w = to_prefix_format(*member(sliced))
            if mode_id is not None:
                x, y, w = _prepend(x, y, w, mode_id)
            if x["token_ids"].shape[-1] != self.sequence_length:
                raise ValueError(
                    f"Mixture member {type(member).__name__} emits "
                    f"{x['token_ids'].shape[-1]} positions, not "
                    f"sequence_length={self.sequence_length}. Build members "
                    "with `Mixture`, which sizes them."
                )
            outputs.append((x, y, w))
        cumulative = tf.cumsum(self._rates(features, batch), axis=-1)
        u = kr.scalar_uniform(keys, stream=kr.MIXTURE_MEMBER)[:, None]
        choice = tf.reduce_sum(
            tf.cast(u >= cumulative[:, :-1], tf.int32), axis=-1
        )
        choice = tf.minimum(choice, len(outputs) - 1)

        def pick(*values):
            stacked = tf.stack(values, axis=1)  # [B, M, L]
            return tf.gather(stacked, choice, axis=1, batch_dims=1)

        x, y, w = tf.nest.map_structure(pick, *outputs)
        x["mixture_ids"] = choice
        return x, y, w

    def get_config(self):
        return {
            **super().get_config(),
            "members": [keras.saving.serialize_keras_object(m)
                        for m in self.members],
            "raw_lengths": self.raw_lengths,
            "rates": self.rates,
            "mode_token_ids": self.mode_token_ids,
            "sequence_length": self.sequence_length,
            "final_rates": self.final_rates,
            "schedule_examples": self.schedule_examples,
        }


def _prepend(x, y, w, token_id):
    batch = tf.shape(x["token_ids"])[0]
    column = tf.fill([batch, 1], tf.constant(token_id, tf.int32))
    true = tf.ones([batch, 1], tf.bool)
    x = {
        "token_ids": tf.concat([column, x["token_ids"]], -1),
        "padding_mask": tf.concat([true, x["padding_mask"]], -1),
        "prefix_mask": tf.concat([true, x["prefix_mask"]], -1),
    }
    y = tf.concat([tf.zeros([batch, 1], tf.int32), y], -1)
    w = tf.concat([tf.zeros([batch, 1], tf.float32), w], -1)
    return x, y, w
