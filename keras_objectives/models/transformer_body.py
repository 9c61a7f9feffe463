"""The shared Transformer body whose attention mask the objective sets."""

import keras
import keras_hub

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.models.attention_mask import ATTENTION_MODES
from keras_objectives.models.attention_mask import AttentionMask
from keras_objectives.models.attention_mask import PositionIds
from keras_objectives.utils import check_choice
from keras_objectives.utils import check_int
from keras_objectives.utils import invalid


def select_inputs(model, inputs):
    """Keep only a functional model's named inputs from a feature dict.

    Keras matches a dict with extra keys to the inputs *by position* (with a
    warning), which silently feeds, say, `document_ids` into `token_ids`.
    Selecting by name avoids that and names any missing feature.
    """
    expected = model.input
    if not isinstance(inputs, dict) or not isinstance(expected, dict):
        return inputs
    missing = sorted(set(expected) - set(inputs))
    if missing:
        raise ValueError(
            f"Invalid value received for argument `inputs`: `{model.name}` "
            f"needs the features {missing}. Received: inputs keys="
            f"{sorted(inputs)}. Expected keys: {sorted(expected)}."
        )
    return {name: inputs[name] for name in expected}


def reverse_dtype(dtype):
    """The dtype of a tied output projection under the policy `dtype`.

    An `Embedding` reads its float32 table without autocasting, so under
    `mixed_bfloat16` the tied logits `x @ embeddings.T` would multiply
    bfloat16 hidden states by a float32 table and run (forward and
    backward) in float32: a third of the matmul time of a 4 x 256 MLM
    body on an AMX CPU (docs/performance.md). Under a mixed policy the
    projection runs in the compute dtype, like every other matmul; the
    loss still reads float32 logits. `None` (the layer's default, no cast)
    when variables and compute share a dtype, so float32 is unchanged.

    >>> reverse_dtype("mixed_bfloat16"), reverse_dtype("float32")
    ('bfloat16', None)
    """
    policy = keras.dtype_policies.get(dtype)
    if policy.compute_dtype == policy.variable_dtype:
        return None
    return policy.compute_dtype


@keras.saving.register_keras_serializable(package="keras_objectives")
def gelu_float32(x):
    """The exact GELU computed in float32, returned in `x`'s dtype.

    TensorFlow's CPU kernels for element-wise bfloat16 ops convert every
    element to float32 and back: the exact GELU's forward and backward
    (erfc, exp, squares, products over `[B, L, intermediate_dim]`) take
    3x longer in bfloat16 than in float32 with two casts around it. Under
    a mixed policy the body's feedforward uses this function; the matmul
    before it and the one after it stay in bfloat16.

    >>> import numpy as np
    >>> x = np.array([-1.0, 0.0, 2.0], "float32")
    >>> bool(np.allclose(gelu_float32(x), keras.activations.gelu(x)))
    True
    """
    dtype = keras.backend.standardize_dtype(x.dtype)
    y = keras.activations.gelu(keras.ops.cast(x, "float32"))
    return keras.ops.cast(y, dtype)


def feedforward_activation(activation, dtype):
    """`activation`, or its float32 form under a mixed policy `dtype`.

    >>> feedforward_activation("gelu", "float32")
    'gelu'
    >>> feedforward_activation("gelu", "mixed_bfloat16").__name__
    'gelu_float32'
    """
    if activation == "gelu" and reverse_dtype(dtype) is not None:
        return gelu_float32
    return activation


def _initializer():
    # BERT and GPT-2 both initialize from N(0, 0.02).
    return keras.initializers.TruncatedNormal(stddev=0.02)


@keras_objectives_export("keras_objectives.models.TransformerBody")
class TransformerBody(keras_hub.models.Backbone):
    """A Transformer stack that takes an explicit attention mode.

    One body serves every objective of a controlled comparison: BERT-style
    MLM runs it `"bidirectional"`, GPT-style LM `"causal"`, prefix LM and the
    decoder-only forms of T5/BART/UL2 `"prefix"` (bidirectional over the
    prefix, causal after it). Packed rows can additionally be made
    block-diagonal per document (`document_masking`) with positions that
    restart in each document (`reset_position_ids`), as Megatron-LM's
    `reset_attention_mask` and `reset_position_ids`.

    It is built from keras-hub layers (`ReversibleEmbedding`,
    `PositionEmbedding`, `TransformerEncoder` called with an explicit
    `attention_mask`), subclasses `keras_hub.models.Backbone`, and so saves
    with `save_to_preset` and reloads with
    `keras_hub.models.Backbone.from_preset`.

    Args:
        vocabulary_size: int, the size of the token vocabulary.
        num_layers: int, the number of Transformer blocks.
        num_heads: int, attention heads per block.
        hidden_dim: int, the model width; divisible by `num_heads`.
        intermediate_dim: int, the width of the feedforward layer.
        max_sequence_length: int, the number of learned positions; longer
            inputs raise an error.
        attention_mode: `"bidirectional"`, `"causal"` or `"prefix"`. A
            `"prefix"` body takes a `prefix_mask` input and can also express
            the other two modes (all-true or all-false prefix).
        document_masking: bool, take a `document_ids` input and restrict
            attention to the query's own document.
        reset_position_ids: bool, take a `document_ids` input and restart
            positions at 0 at each document start.
        dropout: float, dropout rate of embeddings, attention and
            feedforward.
        layer_norm_epsilon: float, epsilon of every layer norm.
        normalize_first: bool, pre-LN blocks with a final layer norm
            (GPT-2) when `True`; post-LN blocks with an embedding layer norm
            (BERT) when `False`.
        activation: str, the feedforward activation.
        dtype: `None`, a dtype or a `keras.DTypePolicy` for the weights and
            computations.

    Call arguments:
        A dict with `token_ids` (int `[B, L]`) and `padding_mask` (`[B, L]`,
        true on real tokens), plus `prefix_mask` (`[B, L]`, true where
        attention is bidirectional) when `attention_mode="prefix"`, plus
        `document_ids` (int `[B, L]`) when `document_masking` or
        `reset_position_ids`.

    Returns:
        The sequence output, a float tensor `[B, L, hidden_dim]`.

    Examples:

    >>> import numpy as np
    >>> body = TransformerBody(
    ...     vocabulary_size=50, num_layers=1, num_heads=2, hidden_dim=8,
    ...     intermediate_dim=16, max_sequence_length=16,
    ...     attention_mode="causal")
    >>> body({"token_ids": np.ones((2, 5), "int32"),
    ...       "padding_mask": np.ones((2, 5), "int32")}).shape
    TensorShape([2, 5, 8])
    >>> sorted(body.input)
    ['padding_mask', 'token_ids']

    Reference:
        - [Vaswani et al., 2017](https://arxiv.org/abs/1706.03762)
        - [Shoeybi et al., 2019 (Megatron-LM)](
          https://arxiv.org/abs/1909.08053)
    """

    def __init__(
        self,
        vocabulary_size,
        num_layers,
        num_heads,
        hidden_dim,
        intermediate_dim,
        max_sequence_length=512,
        attention_mode="bidirectional",
        document_masking=False,
        reset_position_ids=False,
        dropout=0.0,
        layer_norm_epsilon=1e-5,
        normalize_first=True,
        activation="gelu",
        dtype=None,
        **kwargs,
    ):
        vocabulary_size = check_int("vocabulary_size", vocabulary_size, 1)
        num_layers = check_int("num_layers", num_layers, 1)
        num_heads = check_int("num_heads", num_heads, 1)
        hidden_dim = check_int("hidden_dim", hidden_dim, 1)
        intermediate_dim = check_int("intermediate_dim", intermediate_dim, 1)
        max_sequence_length = check_int(
            "max_sequence_length", max_sequence_length, 1
        )
        check_choice("attention_mode", attention_mode, ATTENTION_MODES)
        if hidden_dim % num_heads:
            raise invalid(
                "hidden_dim",
                hidden_dim,
                f"a multiple of num_heads={num_heads}",
                "Change `hidden_dim` or `num_heads` so that the heads split "
                "the width evenly",
            )
        for name, value in (
            ("document_masking", document_masking),
            ("reset_position_ids", reset_position_ids),
            ("normalize_first", normalize_first),
        ):
            if not isinstance(value, bool):
                raise invalid(name, value, "a bool")
        if not 0.0 <= float(dropout) < 1.0:
            raise invalid("dropout", dropout, "a float in [0, 1)")
        if not float(layer_norm_epsilon) > 0.0:
            raise invalid("layer_norm_epsilon", layer_norm_epsilon, "> 0")
        try:
            if not isinstance(activation, str):
                raise TypeError
            keras.activations.get(activation)
        except (ValueError, TypeError):
            raise invalid(
                "activation", activation, "the name of a Keras activation"
            ) from None

        # === Layers ===
        self.token_embedding = keras_hub.layers.ReversibleEmbedding(
            input_dim=vocabulary_size,
            output_dim=hidden_dim,
            embeddings_initializer=_initializer(),
            reverse_dtype=reverse_dtype(dtype),
            dtype=dtype,
            name="token_embedding",
        )
        self.position_embedding = keras_hub.layers.PositionEmbedding(
            sequence_length=max_sequence_length,
            initializer=_initializer(),
            dtype=dtype,
            name="position_embedding",
        )
        self.position_ids_layer = PositionIds(
            max_sequence_length, dtype=dtype, name="position_ids"
        )
        self.attention_mask_layer = AttentionMask(
            attention_mode, max_sequence_length, dtype=dtype,
            name="attention_mask",
        )
        self.embeddings_add = keras.layers.Add(
            dtype=dtype, name="embeddings_add"
        )
        self.embeddings_layer_norm = None
        if not normalize_first:
            self.embeddings_layer_norm = keras.layers.LayerNormalization(
                epsilon=layer_norm_epsilon,
                dtype=dtype,
                name="embeddings_layer_norm",
            )
        self.embeddings_dropout = keras.layers.Dropout(
            dropout, dtype=dtype, name="embeddings_dropout"
        )
        self.transformer_layers = [
            keras_hub.layers.TransformerEncoder(
                intermediate_dim=intermediate_dim,
                num_heads=num_heads,
                dropout=dropout,
                activation=feedforward_activation(activation, dtype),
                layer_norm_epsilon=layer_norm_epsilon,
                kernel_initializer=_initializer(),
                normalize_first=normalize_first,
                dtype=dtype,
                name=f"transformer_layer_{i}",
            )
            for i in range(num_layers)
        ]
        self.final_layer_norm = None
        if normalize_first:
            self.final_layer_norm = keras.layers.LayerNormalization(
                epsilon=layer_norm_epsilon,
                dtype=dtype,
                name="final_layer_norm",
            )

        # === Functional Model ===
        inputs = {
            "token_ids": keras.Input(
                shape=(None,), dtype="int32", name="token_ids"
            ),
            "padding_mask": keras.Input(
                shape=(None,), dtype="int32", name="padding_mask"
            ),
        }
        if attention_mode == "prefix":
            inputs["prefix_mask"] = keras.Input(
                shape=(None,), dtype="int32", name="prefix_mask"
            )
        if document_masking or reset_position_ids:
            inputs["document_ids"] = keras.Input(
                shape=(None,), dtype="int32", name="document_ids"
            )
        document_ids = inputs.get("document_ids")
        positions = self.position_ids_layer(
            inputs["padding_mask"],
            document_ids=document_ids if reset_position_ids else None,
        )
        mask = self.attention_mask_layer(
            inputs["padding_mask"],
            prefix_mask=inputs.get("prefix_mask"),
            document_ids=document_ids if document_masking else None,
        )
        tokens = self.token_embedding(inputs["token_ids"])
        x = self.embeddings_add(
            (tokens, self.position_embedding(tokens, positions=positions))
        )
        if self.embeddings_layer_norm is not None:
            x = self.embeddings_layer_norm(x)
        x = self.embeddings_dropout(x)
        for layer in self.transformer_layers:
            x = layer(x, attention_mask=mask)
        if self.final_layer_norm is not None:
            x = self.final_layer_norm(x)
        super().__init__(inputs=inputs, outputs=x, dtype=dtype, **kwargs)

        # === Config ===
        self.vocabulary_size = vocabulary_size
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.hidden_dim = hidden_dim
        self.intermediate_dim = intermediate_dim
        self.max_sequence_length = max_sequence_length
        self.attention_mode = attention_mode
        self.document_masking = document_masking
        self.reset_position_ids = reset_position_ids
        self.dropout = float(dropout)
        self.layer_norm_epsilon = float(layer_norm_epsilon)
        self.normalize_first = normalize_first
        self.activation = activation

    def __call__(self, inputs, *args, **kwargs):
        # Packed features carry extra keys (`example_ids`, `epoch`...).
        return super().__call__(select_inputs(self, inputs), *args, **kwargs)

    def get_config(self):
        return {
            **super().get_config(),
            "vocabulary_size": self.vocabulary_size,
            "num_layers": self.num_layers,
            "num_heads": self.num_heads,
            "hidden_dim": self.hidden_dim,
            "intermediate_dim": self.intermediate_dim,
            "max_sequence_length": self.max_sequence_length,
            "attention_mode": self.attention_mode,
            "document_masking": self.document_masking,
            "reset_position_ids": self.reset_position_ids,
            "dropout": self.dropout,
            "layer_norm_epsilon": self.layer_norm_epsilon,
            "normalize_first": self.normalize_first,
            "activation": self.activation,
        }
