"""ELECTRA's discriminator head: one binary logit per token."""

import keras
from keras import ops

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.utils import invalid


@keras_objectives_export("keras_objectives.layers.DiscriminatorHead")
class DiscriminatorHead(keras.layers.Layer):
    """Per-token "was this token replaced?" logits.

    ELECTRA's head (`get_discriminator_output`): a dense layer of the
    body's width with the body's activation, then a dense layer to one
    logit, squeezed. It emits logits; train it with a sigmoid
    cross-entropy `from_logits=True`, weighted by the padding mask.

    Args:
        activation: str, activation of the hidden dense layer (ELECTRA:
            the body's, GELU).
        kernel_initializer: initializer of both dense layers (BERT's
            `TruncatedNormal(stddev=0.02)` by default).
        **kwargs: `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: float `[B, L, hidden_dim]`, the body's sequence output.

    Returns:
        float `[B, L]` logits; positive means "replaced".

    Examples:

    >>> import numpy as np
    >>> head = DiscriminatorHead()
    >>> head(np.zeros((2, 5, 8), "float32")).shape
    TensorShape([2, 5])

    Reference:
        - [Clark et al., 2020](https://arxiv.org/abs/2003.10555)
    """

    def __init__(self, activation="gelu", kernel_initializer=None, **kwargs):
        super().__init__(**kwargs)
        try:
            if not isinstance(activation, str):
                raise TypeError
            keras.activations.get(activation)
        except (TypeError, ValueError):
            raise invalid(
                "activation", activation, "the name of a Keras activation"
            ) from None
        self.activation = activation
        if kernel_initializer is None:
            kernel_initializer = keras.initializers.TruncatedNormal(
                stddev=0.02
            )
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, inputs_shape):
        hidden_dim = inputs_shape[-1]
        self.dense = keras.layers.Dense(
            hidden_dim,
            activation=self.activation,
            kernel_initializer=self.kernel_initializer,
            dtype=self.dtype_policy,
            name="dense",
        )
        self.dense.build(inputs_shape)
        self.output_dense = keras.layers.Dense(
            1,
            kernel_initializer=self.kernel_initializer,
            dtype=self.dtype_policy,
            name="output_dense",
        )
        self.output_dense.build((*inputs_shape[:-1], hidden_dim))

    def call(self, inputs):
        return ops.squeeze(self.output_dense(self.dense(inputs)), axis=-1)

    def compute_output_shape(self, inputs_shape):
        return tuple(inputs_shape[:-1])

    def get_config(self):
        return {
            **super().get_config(),
            "activation": self.activation,
            "kernel_initializer": keras.initializers.serialize(
                self.kernel_initializer
            ),
        }
