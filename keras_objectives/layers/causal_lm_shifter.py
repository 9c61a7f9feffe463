"""Shift packed features into next-token prediction examples."""

import keras
import tensorflow as tf

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.layers.seeded_transform import SeededTransform
from keras_objectives.layers.seeded_transform import padding_mask_of
from keras_objectives.layers.seeded_transform import passthrough
from keras_objectives.utils import check_int


@keras_objectives_export("keras_objectives.layers.CausalLMShifter")
class CausalLMShifter(SeededTransform):
    """Turn a packed row of `L + 1` tokens into a causal LM example.

    Inputs are `token_ids[..., :-1]`, targets `token_ids[..., 1:]`, and the
    sample weight is `padding_mask[..., 1:]`. The padding mask is taken *by
    position* (from `padding_mask`), never by comparing token values, so an
    EOS that shares its id with padding still gets a label (HF #23530).
    `document_ids` and other per-position features are shifted with the
    inputs. The layer draws no random numbers; it subclasses
    `SeededTransform` for the shared batched/unbatched handling.

    Args:
        pad_token_id: int, used only when no `padding_mask` is given.

    Examples:

    >>> shifter = CausalLMShifter(seed=0)
    >>> x, y, w = shifter({"token_ids": tf.constant([5, 6, 7, 0]),
    ...                    "padding_mask": tf.constant([1, 1, 1, 0])})
    >>> x["token_ids"].numpy().tolist(), y.numpy().tolist()
    ([5, 6, 7], [6, 7, 0])
    >>> w.numpy().tolist()
    [1.0, 1.0, 0.0]
    """

    def __init__(self, pad_token_id=0, **kwargs):
        super().__init__(**kwargs)
        self.pad_token_id = check_int("pad_token_id", pad_token_id, minimum=0)

    def transform(self, features, keys):
        token_ids = features["token_ids"]
        padding_mask = padding_mask_of(features, self.pad_token_id)
        x = {
            "token_ids": token_ids[:, :-1],
            "padding_mask": padding_mask[:, :-1],
        }
        for name, value in passthrough(features, ("padding_mask",)).items():
            if value.shape.rank == 2:
                x[name] = value[:, :-1]
        y = token_ids[:, 1:]
        sample_weight = tf.cast(padding_mask[:, 1:], tf.float32)
        return keras.utils.pack_x_y_sample_weight(x, y, sample_weight)

    def get_config(self):
        return {**super().get_config(), "pad_token_id": self.pad_token_id}
