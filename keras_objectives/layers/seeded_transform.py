"""Base class of every objective's preprocessing layer."""

import random

import keras
import tensorflow as tf

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.ops import random as kr
from keras_objectives.utils import check_int


@keras_objectives_export("keras_objectives.layers.SeededTransform")
class SeededTransform(keras.layers.Layer):
    """A stateless, seeded, tf.data-safe preprocessing layer.

    Subclasses implement `transform(features, keys)` on *batched* features
    (a dict of rank >= 2 dense tensors, `token_ids` of shape `[B, L]`) and
    return any nest of tensors with a leading batch dimension. This base
    class handles the rest of the Keras preprocessing contract:

    * inputs may be a `token_ids` tensor or a dict of features;
    * inputs may be batched (`[B, L]`) or unbatched (`[L]`); the output has
      the same batching. Because randomness is keyed per example, a direct
      call, `ds.map(layer)` and `ds.batch(n).map(layer)` give the *same*
      values for the same example;
    * per-example keys come from `(seed, epoch, example_ids)` when the
      features carry `example_ids` (and optionally `epoch`), and otherwise
      from a hash of the row's token ids;
    * the seed is part of `get_config` (like `keras.layers.Dropout`); with
      `seed=None` one is drawn once at construction and stored.

    Args:
        seed: int or `None`. The run seed.
        dupe_factor: int or `None`. `None` (default) is dynamic corruption
            (RoBERTa): every epoch draws new noise. An int `k` is BERT's
            original static masking with `dupe_factor=k`: only `k` distinct
            corruptions of each example exist, and epoch `e` uses copy
            `e % k`.
    """

    def __init__(self, seed=None, dupe_factor=None, **kwargs):
        kwargs.setdefault("trainable", False)
        super().__init__(**kwargs)
        # Preprocessing: no autocasting or conversion of our dict inputs.
        self._convert_input_args = False
        self._allow_non_tensor_positional_args = True
        self.supports_jit = False
        if seed is None:
            seed = random.randint(0, 2**31 - 1)
        self.seed = check_int("seed", seed, minimum=0)
        self.dupe_factor = check_int(
            "dupe_factor", dupe_factor, minimum=1, allow_none=True
        )

    def keys(self, features):
        """uint32 per-example keys of shape `[B]` for batched `features`."""
        if "example_ids" in features:
            ids = features["example_ids"]
        else:
            ids = kr.content_keys(features["token_ids"])
        epoch = features.get("epoch", tf.zeros_like(ids))
        if self.dupe_factor is not None:
            epoch = tf.math.floormod(
                tf.cast(epoch, tf.int64), self.dupe_factor
            )
        return kr.example_keys(self.seed, epoch, ids)

    def transform(self, features, keys):
        raise NotImplementedError

    def call(self, inputs):
        with tf.device("cpu"):
            if isinstance(inputs, dict):
                features = dict(inputs)
            else:
                features = {"token_ids": inputs}
            features = {
                k: tf.convert_to_tensor(v) for k, v in features.items()
            }
            token_ids = features["token_ids"]
            rank = token_ids.shape.rank
            if rank not in (1, 2):
                raise ValueError(
                    "Invalid value received for argument `token_ids`. "
                    "Expected a dense rank-1 ([sequence_length]) or rank-2 "
                    "([batch, sequence_length]) integer tensor. Received: "
                    f"shape={token_ids.shape}. Pack or pad ragged input "
                    "first (see `keras_objectives.data.pack`)."
                )
            unbatched = rank == 1
            if unbatched:
                features = {
                    k: tf.expand_dims(v, 0) for k, v in features.items()
                }
            features["token_ids"] = tf.cast(features["token_ids"], tf.int32)
            outputs = self.transform(features, self.keys(features))
            if unbatched:
                outputs = tf.nest.map_structure(
                    lambda t: tf.squeeze(t, 0), outputs
                )
            return outputs

    def compute_output_shape(self, input_shape):
        raise NotImplementedError(
            f"{type(self).__name__} is a preprocessing layer; call it on "
            "tensors or map it over a tf.data.Dataset."
        )

    def get_config(self):
        return {
            **super().get_config(),
            "seed": self.seed,
            "dupe_factor": self.dupe_factor,
        }


def passthrough(features, exclude=()):
    """Features a transform should forward unchanged (`document_ids`, ...).

    The stream bookkeeping of `keras_objectives.data.make_dataset`
    (`example_ids`, `epoch`, `stream_index`) keys the noise and is not
    forwarded; nor is `word_starts` (segmented words, read by whole-word
    maskers), which is data for the transform, never a model input.
    """
    skip = {"token_ids", "example_ids", "epoch", "stream_index",
            "word_starts", *exclude}
    return {k: v for k, v in features.items() if k not in skip}


def padding_mask_of(features, pad_id):
    """The padding mask, from `padding_mask` if given (by position)."""
    if "padding_mask" in features:
        return tf.cast(features["padding_mask"], tf.bool)
    return tf.not_equal(features["token_ids"], pad_id)


__all__ = ["SeededTransform", "passthrough", "padding_mask_of", "check_int"]
