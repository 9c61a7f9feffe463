"""A language-model head that emits logits, at all or at gathered positions."""

import keras
from keras import ops

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.utils import check_int
from keras_objectives.utils import invalid


@keras_objectives_export("keras_objectives.layers.LMHead")
class LMHead(keras.layers.Layer):
    """Project hidden states to vocabulary logits, optionally tied.

    One head for causal LM (logits at every position) and masked LM (logits
    only at `mask_positions`, so the `[.., vocabulary_size]` softmax is paid
    only where there is a label). With a `token_embedding` the output matrix
    is the transposed input embedding (`token_embedding(x, reverse=True)`);
    without it the head owns an output kernel.

    An optional BERT-style transform (dense, activation, layer norm) runs
    before the projection when `intermediate_activation` is set, as in
    `keras_hub.layers.MaskedLMHead`; leave it `None` for the GPT-style head.

    Args:
        vocabulary_size: int, the number of logits. Optional when
            `token_embedding` is given (must then match its `input_dim`).
        token_embedding: optional `keras_hub.layers.ReversibleEmbedding`
            (for example `backbone.token_embedding`) to tie the output
            projection to.
        use_bias: bool, add a learned per-token output bias.
        intermediate_activation: `None` (no transform) or an activation name
            for the dense + layer norm transform before the projection.
        layer_norm_epsilon: float, epsilon of the transform's layer norm.
        kernel_initializer: initializer of the untied kernel and transform.
        **kwargs: `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: float `[B, L, hidden_dim]` hidden states.
        mask_positions: optional int `[B, P]`; when given, logits are
            computed only at these positions.

    Returns:
        Logits `[B, L, vocabulary_size]`, or `[B, P, vocabulary_size]` with
        `mask_positions`.

    Examples:

    >>> import numpy as np
    >>> import keras_hub
    >>> embedding = keras_hub.layers.ReversibleEmbedding(10, 4)
    >>> head = LMHead(token_embedding=embedding)
    >>> hidden = embedding(np.array([[1, 2, 3]]))
    >>> head(hidden).shape
    TensorShape([1, 3, 10])
    >>> head(hidden, mask_positions=np.array([[2]])).shape
    TensorShape([1, 1, 10])
    """

    def __init__(
        self,
        vocabulary_size=None,
        token_embedding=None,
        use_bias=True,
        intermediate_activation=None,
        layer_norm_epsilon=1e-5,
        kernel_initializer="glorot_uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        if token_embedding is None and vocabulary_size is None:
            raise invalid(
                "vocabulary_size",
                vocabulary_size,
                "an int when no `token_embedding` is given",
                "Pass `vocabulary_size=` or "
                "`token_embedding=backbone.token_embedding`",
            )
        if token_embedding is not None:
            if vocabulary_size not in (None, token_embedding.input_dim):
                raise invalid(
                    "vocabulary_size",
                    vocabulary_size,
                    "the `input_dim` of `token_embedding` "
                    f"({token_embedding.input_dim})",
                    "Drop `vocabulary_size` to use the embedding's",
                )
            vocabulary_size = token_embedding.input_dim
        self.vocabulary_size = check_int(
            "vocabulary_size", vocabulary_size, minimum=1
        )
        self.token_embedding = token_embedding
        self.use_bias = bool(use_bias)
        self.intermediate_activation = intermediate_activation
        if intermediate_activation is not None:
            keras.activations.get(intermediate_activation)
        self.layer_norm_epsilon = float(layer_norm_epsilon)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, inputs_shape, mask_positions_shape=None):
        hidden_dim = inputs_shape[-1]
        if self.token_embedding is not None:
            if hidden_dim != self.token_embedding.output_dim:
                raise ValueError(
                    "Invalid input shape received for `LMHead`: the hidden "
                    f"size {hidden_dim} differs from the tied embedding's "
                    f"`output_dim` {self.token_embedding.output_dim}. "
                    f"Received inputs shape: {inputs_shape}. Tie the head "
                    "to the embedding of the backbone it sits on."
                )
        self._dense = None
        if self.intermediate_activation is not None:
            self._dense = keras.layers.Dense(
                hidden_dim,
                activation=self.intermediate_activation,
                kernel_initializer=self.kernel_initializer,
                dtype=self.dtype_policy,
                name="intermediate_dense",
            )
            self._dense.build((None, None, hidden_dim))
            self._layer_norm = keras.layers.LayerNormalization(
                epsilon=self.layer_norm_epsilon,
                dtype=self.dtype_policy,
                name="intermediate_layer_norm",
            )
            self._layer_norm.build((None, None, hidden_dim))
        if self.token_embedding is None:
            self.kernel = self.add_weight(
                name="kernel",
                shape=(hidden_dim, self.vocabulary_size),
                initializer=self.kernel_initializer,
            )
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias", shape=(self.vocabulary_size,), initializer="zeros"
            )

    def call(self, inputs, mask_positions=None):
        x = inputs
        if mask_positions is not None:
            index = ops.expand_dims(ops.cast(mask_positions, "int32"), -1)
            x = ops.take_along_axis(x, index, axis=1)
        if self._dense is not None:
            x = self._layer_norm(self._dense(x))
        if self.token_embedding is not None:
            logits = self.token_embedding(x, reverse=True)
        else:
            logits = ops.matmul(x, self.kernel)
        logits = ops.cast(logits, self.compute_dtype)
        if self.use_bias:
            logits = logits + ops.cast(self.bias, self.compute_dtype)
        return logits

    def compute_output_shape(self, inputs_shape, mask_positions_shape=None):
        if mask_positions_shape is not None:
            return (*mask_positions_shape, self.vocabulary_size)
        return (*inputs_shape[:-1], self.vocabulary_size)

    def get_config(self):
        embedding = None
        if self.token_embedding is not None:
            embedding = keras.layers.serialize(self.token_embedding)
        return {
            **super().get_config(),
            "vocabulary_size": self.vocabulary_size,
            "token_embedding": embedding,
            "use_bias": self.use_bias,
            "intermediate_activation": self.intermediate_activation,
            "layer_norm_epsilon": self.layer_norm_epsilon,
            "kernel_initializer": keras.initializers.serialize(
                self.kernel_initializer
            ),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("token_embedding"), dict):
            config["token_embedding"] = keras.layers.deserialize(
                config["token_embedding"]
            )
        return cls(**config)
