"""A mean-pooling text classifier on the body, registered with keras-hub."""

import keras
import keras_hub
from keras import ops

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.models.backbones import check_vocabulary
from keras_objectives.models.body_text_classifier_preprocessor import (
    BodyTextClassifierPreprocessor,
)
from keras_objectives.models.transformer_body import TransformerBody


@keras.saving.register_keras_serializable(package="keras_objectives")
class MeanPooling(keras.layers.Layer):
    """Average `[B, L, d]` over the positions where `padding_mask` is set."""

    def call(self, hidden, padding_mask):
        mask = ops.expand_dims(ops.cast(padding_mask, hidden.dtype), -1)
        total = ops.sum(hidden * mask, axis=1)
        return total / ops.maximum(ops.sum(mask, axis=1), 1.0)


def body_features(backbone, inputs, attention):
    """The backbone's sequence output for `token_ids` and `padding_mask`.

    `attention` is a `feature_attention_mode` (`"bidirectional"`,
    `"causal"` or `"encoder"`); a body that needs `document_ids` reads each
    row as one document.
    """
    from keras_objectives.evaluation.common import sequence_output

    feed = dict(inputs)
    feed.setdefault("document_ids", ops.zeros_like(inputs["token_ids"]))
    return sequence_output(backbone, feed, attention)


def body_inputs():
    """The `token_ids` and `padding_mask` inputs of a body task."""
    return {name: keras.Input((None,), dtype="int32", name=name)
            for name in ("token_ids", "padding_mask")}


def head_layers(backbone, num_classes, dropout, seed, name,
                activation=None):
    """`(dropout, dense)`: the output layers of a body task, seeded."""
    return (
        keras.layers.Dropout(dropout, seed=seed, dtype=backbone.dtype_policy,
                             name=f"{name}_dropout"),
        keras.layers.Dense(
            num_classes, activation=activation,
            kernel_initializer=keras.initializers.TruncatedNormal(
                stddev=0.02, seed=seed),
            dtype=backbone.dtype_policy, name=name))


def default_attention(backbone):
    """Bidirectional when the backbone can attend both ways, else causal."""
    from keras_objectives.evaluation.common import feature_attention_mode

    return feature_attention_mode(backbone, None)


def check_tokenizer(backbone, preprocessor):
    """Raise unless the preprocessor's vocabulary fits the backbone's."""
    tokenizer = getattr(preprocessor, "tokenizer", None)
    if tokenizer is None or getattr(tokenizer, "vocabulary", None) is None:
        return  # Assets not loaded yet (deserialization); checked later.
    check_vocabulary(backbone, tokenizer.vocabulary_size())


@keras_objectives_export("keras_objectives.models.BodyTextClassifier")
class BodyTextClassifier(keras_hub.models.TextClassifier):
    """Backbone, mean pooling over real tokens, dropout and dense logits.

    The keras-hub `TextClassifier` of the body: after `import
    keras_objectives`, `keras_hub.models.TextClassifier.from_preset(DIR,
    num_classes=k)` on an exported body preset builds this class with its
    `BodyTextClassifierPreprocessor`, so `fit`, `predict` and `evaluate`
    take raw strings. It is also the head `keras-objectives finetune` puts
    on BERT and GPT-2 presets and the one the evaluation harness fine-tunes
    (`keras_objectives.evaluation.build_classifier`). The body is read with
    `attention`: bidirectional when it can attend both ways, causal for a
    causal-only body or GPT-2, the encoder's output for T5/BART.

    Args:
        backbone: a `TransformerBody` or a keras-hub BERT-, GPT-2-, T5- or
            BART-like backbone.
        num_classes: int, the number of classes.
        preprocessor: a `BodyTextClassifierPreprocessor` or `None` (then
            the inputs are `token_ids` and `padding_mask`).
        activation: `None` (logits) or `"softmax"`.
        dropout: float, the dropout rate before the dense layer.
        attention: `"bidirectional"`, `"causal"`, `"encoder"` or `None` (as
            above).
        seed: int or `None`, the seed of the head's initializer and
            dropout.

    Examples:

    >>> from keras_objectives.data.special_tokens import reserved_tokens
    >>> from keras_objectives.models.body_tokenizer import BodyTokenizer
    >>> vocabulary = reserved_tokens() + ["good", "bad"]
    >>> body = TransformerBody(
    ...     vocabulary_size=len(vocabulary), num_layers=1, num_heads=1,
    ...     hidden_dim=8, intermediate_dim=8, max_sequence_length=8)
    >>> preprocessor = BodyTextClassifierPreprocessor(
    ...     BodyTokenizer(vocabulary), sequence_length=8)
    >>> classifier = BodyTextClassifier(body, num_classes=2,
    ...                                 preprocessor=preprocessor, seed=0)
    >>> classifier.predict(["good", "bad bad"], verbose=0).shape
    (2, 2)
    """

    backbone_cls = TransformerBody
    preprocessor_cls = BodyTextClassifierPreprocessor

    def __init__(self, backbone, num_classes, preprocessor=None,
                 activation=None, dropout=0.1, attention=None, seed=None,
                 **kwargs):
        check_tokenizer(backbone, preprocessor)
        attention = attention or default_attention(backbone)
        # === Layers ===
        self.backbone = backbone
        self.preprocessor = preprocessor
        self.pooling = MeanPooling(name="mean_pool")
        self.output_dropout, self.output_dense = head_layers(
            backbone, num_classes, dropout, seed, "classifier", activation)

        # === Functional Model ===
        inputs = body_inputs()
        hidden = body_features(backbone, inputs, attention)
        pooled = self.pooling(hidden, inputs["padding_mask"])
        outputs = self.output_dense(self.output_dropout(pooled))
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

        # === Config ===
        self.num_classes = num_classes
        self.activation = keras.activations.get(activation)
        self.dropout = dropout
        self.attention = attention
        self.seed = seed

    def get_config(self):
        return {
            **super().get_config(),
            "num_classes": self.num_classes,
            "activation": keras.activations.serialize(self.activation),
            "dropout": self.dropout,
            "attention": self.attention,
            "seed": self.seed,
        }
