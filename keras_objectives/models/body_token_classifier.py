"""A per-token tagger on the body (CoNLL chunking, POS tagging)."""

import keras
import keras_hub

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.models.body_text_classifier import body_features
from keras_objectives.models.body_text_classifier import body_inputs
from keras_objectives.models.body_text_classifier import check_tokenizer
from keras_objectives.models.body_text_classifier import default_attention
from keras_objectives.models.body_text_classifier import head_layers
from keras_objectives.models.body_token_classifier_preprocessor import (
    BodyTokenClassifierPreprocessor,
)
from keras_objectives.models.transformer_body import TransformerBody


@keras_objectives_export("keras_objectives.models.BodyTokenClassifier")
class BodyTokenClassifier(keras_hub.models.Task):
    """Backbone, dropout and dense logits at every position.

    Trained with one label per word at the word's first piece (the other
    positions get `sample_weight` 0; see
    `BodyTokenClassifierPreprocessor.word_positions`). Its outputs are
    logits `[B, L, num_classes]`.

    Args:
        backbone: a `TransformerBody` or a keras-hub BERT- or GPT-2-like
            backbone.
        num_classes: int, the number of tags.
        preprocessor: a `BodyTokenClassifierPreprocessor` or `None`.
        dropout: float, the dropout rate before the dense layer.
        attention: `"bidirectional"`, `"causal"` or `None` (bidirectional
            when the backbone can attend both ways).
        seed: int or `None`, the head's initializer and dropout seed.

    Examples:

    >>> import numpy as np
    >>> body = TransformerBody(
    ...     vocabulary_size=120, num_layers=1, num_heads=1, hidden_dim=8,
    ...     intermediate_dim=8, max_sequence_length=8)
    >>> tagger = BodyTokenClassifier(body, num_classes=3, seed=0)
    >>> x = {"token_ids": np.ones((2, 8), "int32"),
    ...      "padding_mask": np.ones((2, 8), "int32")}
    >>> tagger.predict(x, verbose=0).shape
    (2, 8, 3)
    """

    backbone_cls = TransformerBody
    preprocessor_cls = BodyTokenClassifierPreprocessor

    def __init__(self, backbone, num_classes, preprocessor=None,
                 dropout=0.1, attention=None, seed=None, **kwargs):
        check_tokenizer(backbone, preprocessor)
        attention = attention or default_attention(backbone)
        # === Layers ===
        self.backbone = backbone
        self.preprocessor = preprocessor
        self.output_dropout, self.output_dense = head_layers(
            backbone, num_classes, dropout, seed, "tagger")

        # === Functional Model ===
        inputs = body_inputs()
        hidden = body_features(backbone, inputs, attention)
        outputs = self.output_dense(self.output_dropout(hidden))
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

        # === Config ===
        self.num_classes = num_classes
        self.dropout = dropout
        self.attention = attention
        self.seed = seed

    def compile(self, optimizer="auto", loss="auto", *, weighted_metrics=
                "auto", **kwargs):
        """Adam and logits cross-entropy over the positions with weight."""
        if optimizer == "auto":
            optimizer = keras.optimizers.Adam(5e-5)
        if loss == "auto":
            loss = keras.losses.SparseCategoricalCrossentropy(
                from_logits=True)
        if weighted_metrics == "auto":
            weighted_metrics = [keras.metrics.SparseCategoricalAccuracy(
                name="accuracy")]
        super().compile(optimizer=optimizer, loss=loss,
                        weighted_metrics=weighted_metrics, **kwargs)

    def get_config(self):
        return {
            **super().get_config(),
            "num_classes": self.num_classes,
            "dropout": self.dropout,
            "attention": self.attention,
            "seed": self.seed,
        }
