"""ELECTRA's generator: a small MLM that shares the discriminator's embeddings.

The discriminator is the shared body handed to
`ReplacedTokenDetection.build_graph`; this module holds what ELECTRA adds
around it: the generator itself (`ElectraGenerator`: small MLM, Gumbel
sampling, replaced sequence and labels); its sizes and the pure
`replace_tokens` step are in `keras_objectives.models.electra_functions`.
"""

import keras
import keras_hub
from keras import ops

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.layers.gumbel_sampler import GumbelSampler
from keras_objectives.models.attention_mask import compute_attention_mask
from keras_objectives.models.attention_mask import compute_position_ids
from keras_objectives.models.electra_functions import generator_dims
from keras_objectives.models.electra_functions import replace_tokens
from keras_objectives.utils import check_int
from keras_objectives.utils import invalid

# keras-hub's `ReversibleEmbedding` subclasses Keras' (which `BertBackbone`
# uses) when Keras has one.
REVERSIBLE_EMBEDDINGS = (getattr(keras.layers, "ReversibleEmbedding",
                                 keras_hub.layers.ReversibleEmbedding),)
_CONFIG = ("num_layers", "num_heads", "hidden_dim", "intermediate_dim",
           "max_sequence_length", "dropout", "layer_norm_epsilon",
           "normalize_first", "activation", "document_masking",
           "reset_position_ids", "temperature", "seed")


@keras_objectives_export("keras_objectives.models.ElectraGenerator")
class ElectraGenerator(keras.layers.Layer):
    """ELECTRA's generator: a small MLM whose samples corrupt the input.

    It embeds the masked input with the discriminator's own token (and,
    when given, position) embedding, projects from the embedding width down
    to its smaller `hidden_dim` (ELECTRA's `embedding_hidden_mapping_in`),
    runs `num_layers` bidirectional Transformer blocks, and predicts the
    masked tokens with BERT's MLM head (dense back to the embedding width,
    layer norm, output tied to the shared embedding). It then samples one
    token per masked slot (seeded Gumbel-max, no gradient) and writes the
    samples into the *original* sequence.

    Args:
        token_embedding: the discriminator's
            `keras_hub.layers.ReversibleEmbedding` (shared, not copied).
        num_layers, num_heads, hidden_dim, intermediate_dim: the generator's
            sizes (see `generator_dims`).
        max_sequence_length: int, positions of the generator's own position
            embedding (unused when `position_embedding` is given).
        position_embedding: optional shared `keras_hub.layers
            .PositionEmbedding` of the embedding width.
        dropout, layer_norm_epsilon, normalize_first, activation: as
            `TransformerBody`'s.
        document_masking: bool, attend only within a document (needs
            `document_ids`).
        reset_position_ids: bool, positions restart in each document.
        temperature: float, the sampling temperature (ELECTRA: 1.0).
        seed: int, the sampler's `SeedGenerator` seed.
        **kwargs: `keras.layers.Layer` arguments.

    Call arguments:
        inputs: dict with `token_ids` (the masked input), `padding_mask`,
            `mask_positions`, `mask_weights`, `original_token_ids`, and
            `document_ids` when `document_masking` or `reset_position_ids`.

    Returns:
        dict: `logits` `[B, P, V]` at the masked slots, `sampled_ids`
        `[B, P]`, `replaced_token_ids` `[B, L]` and `is_replaced` `[B, L]`
        (the discriminator's labels).

    Examples:

    >>> import numpy as np
    >>> embedding = keras_hub.layers.ReversibleEmbedding(30, 16)
    >>> generator = ElectraGenerator(
    ...     embedding, num_layers=1, num_heads=1, hidden_dim=4,
    ...     intermediate_dim=8, max_sequence_length=8, seed=1)
    >>> out = generator({
    ...     "token_ids": np.array([[2, 4, 7, 3]]),
    ...     "padding_mask": np.ones((1, 4), bool),
    ...     "mask_positions": np.array([[1]]),
    ...     "mask_weights": np.ones((1, 1)),
    ...     "original_token_ids": np.array([[2, 9, 7, 3]])})
    >>> out["logits"].shape, out["replaced_token_ids"].shape
    (TensorShape([1, 1, 30]), TensorShape([1, 4]))

    Reference:
        - [Clark et al., 2020](https://arxiv.org/abs/2003.10555)
    """

    def __init__(
        self,
        token_embedding,
        num_layers,
        num_heads,
        hidden_dim,
        intermediate_dim,
        max_sequence_length=512,
        position_embedding=None,
        dropout=0.0,
        layer_norm_epsilon=1e-5,
        normalize_first=False,
        activation="gelu",
        document_masking=False,
        reset_position_ids=False,
        temperature=1.0,
        seed=0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not isinstance(token_embedding, REVERSIBLE_EMBEDDINGS):
            raise invalid(
                "token_embedding", token_embedding,
                "a `keras.layers.ReversibleEmbedding`",
                "Pass the discriminator's `backbone.token_embedding`")
        for name, value in (("num_layers", num_layers),
                            ("num_heads", num_heads),
                            ("hidden_dim", hidden_dim),
                            ("intermediate_dim", intermediate_dim),
                            ("max_sequence_length", max_sequence_length),
                            ("seed", seed)):
            setattr(self, name, check_int(name, value, minimum=0 if
                                          name == "seed" else 1))
        if self.hidden_dim % self.num_heads:
            raise invalid("num_heads", num_heads,
                          f"a divisor of hidden_dim={hidden_dim}")
        self.dropout = float(dropout)
        self.layer_norm_epsilon = float(layer_norm_epsilon)
        self.normalize_first = bool(normalize_first)
        self.activation = activation
        self.document_masking = bool(document_masking)
        self.reset_position_ids = bool(reset_position_ids)
        self.temperature = float(temperature)
        self._make_layers(token_embedding, position_embedding)

    def _make_layers(self, token_embedding, position_embedding):
        """The generator's sublayers (the embeddings it shares, or its own
        position embedding; embedding projection, blocks, MLM head,
        sampler)."""
        self.token_embedding = token_embedding
        init = keras.initializers.TruncatedNormal(stddev=0.02)
        common = dict(dtype=self.dtype_policy)
        norm = dict(epsilon=self.layer_norm_epsilon, **common)
        self.shares_position_embedding = position_embedding is not None
        self.position_embedding = position_embedding or (
            keras_hub.layers.PositionEmbedding(
                sequence_length=self.max_sequence_length, initializer=init,
                name="position_embedding", **common))
        self.embeddings_layer_norm = keras.layers.LayerNormalization(
            name="embeddings_layer_norm", **norm)
        self.embeddings_dropout = keras.layers.Dropout(
            self.dropout, name="embeddings_dropout", **common)
        self.embedding_projection = None
        if token_embedding.output_dim != self.hidden_dim:
            self.embedding_projection = keras.layers.Dense(
                self.hidden_dim, kernel_initializer=init,
                name="embedding_projection", **common)
        self.transformer_layers = [
            keras_hub.layers.TransformerEncoder(
                intermediate_dim=self.intermediate_dim,
                num_heads=self.num_heads,
                dropout=self.dropout,
                activation=self.activation,
                layer_norm_epsilon=self.layer_norm_epsilon,
                kernel_initializer=init,
                normalize_first=self.normalize_first,
                name=f"transformer_layer_{i}",
                **common,
            )
            for i in range(self.num_layers)
        ]
        self.final_layer_norm = None
        if self.normalize_first:
            self.final_layer_norm = keras.layers.LayerNormalization(
                name="final_layer_norm", **norm)
        self.lm_head = keras_hub.layers.MaskedLMHead(
            token_embedding=token_embedding,
            intermediate_activation=self.activation,
            kernel_initializer=init,
            layer_norm_epsilon=self.layer_norm_epsilon,
            name="lm_head",
            **common,
        )
        self.sampler = GumbelSampler(
            temperature=self.temperature, seed=self.seed, name="sampler",
            **common)

    @classmethod
    def from_backbone(cls, backbone, sequence_length, size_ratio=0.25,
                      num_layers=None, temperature=1.0, seed=0, **kwargs):
        """The ELECTRA generator of a discriminator `backbone`.

        Shares `backbone.token_embedding` (and `position_embedding` when
        its width and length fit), takes `generator_dims` of the backbone's
        sizes, and mirrors its dropout, layer-norm placement, activation,
        dtype and document masking. Works with `TransformerBody` and
        `BertBackbone`.
        """
        embedding = getattr(backbone, "token_embedding", None)
        if not isinstance(embedding, REVERSIBLE_EMBEDDINGS):
            raise invalid(
                "backbone", type(backbone).__name__,
                "a backbone with a `token_embedding` "
                "(`keras.layers.ReversibleEmbedding`) for the generator to "
                "share", "Use `TransformerBody` or `BertBackbone`",
            )
        positions = getattr(backbone, "position_embedding", None)
        table = getattr(positions, "position_embeddings", None)
        if not (
            isinstance(positions, keras_hub.layers.PositionEmbedding)
            and table is not None
            and tuple(table.shape)[-1] == embedding.output_dim
            and positions.sequence_length >= sequence_length
        ):
            positions = None
        activation = getattr(backbone, "activation", "gelu")
        dims = generator_dims(
            backbone.num_layers, backbone.num_heads, backbone.hidden_dim,
            backbone.intermediate_dim, size_ratio=size_ratio,
            generator_num_layers=num_layers)
        return cls(
            embedding,
            **dims,
            max_sequence_length=sequence_length,
            position_embedding=positions,
            dropout=float(getattr(backbone, "dropout", 0.0)),
            layer_norm_epsilon=float(
                getattr(backbone, "layer_norm_epsilon", 1e-12)),
            normalize_first=bool(getattr(backbone, "normalize_first", False)),
            activation=activation if isinstance(activation, str) else "gelu",
            document_masking=bool(getattr(backbone, "document_masking",
                                          False)),
            reset_position_ids=bool(getattr(backbone, "reset_position_ids",
                                            False)),
            temperature=temperature,
            seed=seed,
            dtype=backbone.dtype_policy,
            **kwargs,
        )

    def build(self, inputs_shape):
        embedding_dim = self.token_embedding.output_dim
        sequence = (None, None, embedding_dim)
        if not self.position_embedding.built:
            self.position_embedding.build(sequence)
        self.embeddings_layer_norm.build(sequence)
        if self.embedding_projection is not None:
            self.embedding_projection.build(sequence)
        hidden = (None, None, self.hidden_dim)
        for layer in self.transformer_layers:
            layer.build(hidden)
        if self.final_layer_norm is not None:
            self.final_layer_norm.build(hidden)
        self.lm_head.build(hidden, (None, None))
        self.built = True

    def _document_ids(self, inputs):
        if not (self.document_masking or self.reset_position_ids):
            return None
        if "document_ids" not in inputs:
            raise ValueError(
                "Invalid value received for argument `inputs`: the generator"
                " was built with document_masking or reset_position_ids "
                f"but the inputs have no `document_ids`. Received: keys="
                f"{sorted(inputs)}. Pass the packed `document_ids` feature."
            )
        return inputs["document_ids"]

    def call(self, inputs, training=None):
        padding_mask = inputs["padding_mask"]
        document_ids = self._document_ids(inputs)
        positions = compute_position_ids(
            padding_mask, document_ids if self.reset_position_ids else None
        )
        tokens = self.token_embedding(inputs["token_ids"])
        x = tokens + self.position_embedding(tokens, positions=positions)
        x = self.embeddings_layer_norm(x)
        x = self.embeddings_dropout(x, training=training)
        if self.embedding_projection is not None:
            x = self.embedding_projection(x)
        mask = compute_attention_mask(
            padding_mask, "bidirectional",
            document_ids=document_ids if self.document_masking else None)
        for layer in self.transformer_layers:
            x = layer(x, attention_mask=mask, training=training)
        if self.final_layer_norm is not None:
            x = self.final_layer_norm(x)
        mask_positions = ops.cast(inputs["mask_positions"], "int32")
        logits = self.lm_head(x, mask_positions=mask_positions)
        sampled_ids = self.sampler(logits)
        replaced, is_replaced = replace_tokens(
            inputs["original_token_ids"], mask_positions,
            inputs["mask_weights"], sampled_ids)
        return {
            "logits": logits,
            "sampled_ids": sampled_ids,
            "replaced_token_ids": replaced,
            "is_replaced": is_replaced,
        }

    def compute_output_spec(self, inputs, training=None):
        positions = inputs["mask_positions"].shape
        tokens = inputs["original_token_ids"].shape
        vocabulary_size = self.token_embedding.input_dim
        return {
            "logits": keras.KerasTensor(
                (*positions, vocabulary_size), dtype=self.compute_dtype
            ),
            "sampled_ids": keras.KerasTensor(positions, dtype="int32"),
            "replaced_token_ids": keras.KerasTensor(tokens, dtype="int32"),
            "is_replaced": keras.KerasTensor(tokens, dtype="int32"),
        }

    def get_config(self):
        # The embeddings are serialized like keras-hub's `MaskedLMHead`
        # does; inside a `Pretrainer` the graph is rebuilt from the backbone
        # instead, so they stay shared after loading.
        position = None
        if self.shares_position_embedding:
            position = keras.layers.serialize(self.position_embedding)
        return {
            **super().get_config(),
            "token_embedding": keras.layers.serialize(self.token_embedding),
            "position_embedding": position,
            **{name: getattr(self, name) for name in _CONFIG},
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("token_embedding", "position_embedding"):
            if isinstance(config.get(key), dict):
                config[key] = keras.layers.deserialize(config[key])
        return cls(**config)
