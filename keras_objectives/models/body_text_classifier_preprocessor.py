"""Raw strings to body inputs, for `BodyTextClassifier`."""

import weakref

import keras
import keras_hub
import tensorflow as tf
from keras_hub.src.utils.tensor_utils import preprocessing_function

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.models.body_tokenizer import BodyTokenizer
from keras_objectives.models.transformer_body import TransformerBody


@keras_objectives_export(
    "keras_objectives.models.BodyTextClassifierPreprocessor")
class BodyTextClassifierPreprocessor(
        keras_hub.models.TextClassifierPreprocessor):
    """Tokenize and pack strings as `[SEP] pieces [SEP]` rows for the body.

    Pre-training packs documents as `doc [SEP] doc [SEP] ...`, so every
    document the body saw followed a `[SEP]`; each text is therefore packed
    as `[SEP] pieces... [SEP]` (not `[CLS] ... [SEP]`), cut to
    `sequence_length` (the closing `[SEP]` is kept) and padded with `[PAD]`.
    This is the row the evaluation probes read, and the one the exported
    SavedModel builds in its graph.

    Args:
        tokenizer: a `BodyTokenizer` (or any keras-hub WordPiece tokenizer
            with `end_token_id` and `pad_token_id`, such as
            `keras_hub.models.BertTokenizer`).
        sequence_length: int, the packed length.
        truncate: the `keras_hub.layers.MultiSegmentPacker` truncation.

    Call arguments:
        x: a string or a batch of strings.
        y: optional labels, passed through.
        sample_weight: optional weights, passed through.

    Returns:
        `x` as a dict of `token_ids` and `padding_mask` (`[B,
        sequence_length]`), packed with `y` and `sample_weight` when given.

    Examples:

    >>> from keras_objectives.data.special_tokens import reserved_tokens
    >>> tokenizer = BodyTokenizer(reserved_tokens() + ["the", "cat"])
    >>> preprocessor = BodyTextClassifierPreprocessor(tokenizer,
    ...                                               sequence_length=5)
    >>> x = preprocessor(["the cat", ""])
    >>> np.asarray(x["token_ids"]).tolist()
    [[3, 111, 112, 3, 0], [3, 3, 0, 0, 0]]
    >>> np.asarray(x["padding_mask"]).astype(int).tolist()
    [[1, 1, 1, 1, 0], [1, 1, 0, 0, 0]]
    >>> np.asarray(preprocessor.truncated(["the cat the cat", "cat"])).tolist()
    [True, False]
    """

    backbone_cls = TransformerBody
    tokenizer_cls = BodyTokenizer

    def build(self, input_shape):
        super().build(input_shape)
        # Rows start with `[SEP]`, as every pre-training document did.
        self.packer = keras_hub.layers.MultiSegmentPacker(
            start_value=self.tokenizer.end_token_id,
            end_value=self.tokenizer.end_token_id,
            pad_value=self.tokenizer.pad_token_id,
            truncate=self.truncate,
            sequence_length=self.sequence_length,
        )

    def pieces(self, x):
        """The ragged `[B, (T)]` pieces of a batch of strings."""
        return self.tokenizer(x)

    def in_graph(self, fn, x):
        """`fn(x)` on a batch of strings, always on the TensorFlow path.

        Eagerly, keras-hub tokenizers take a pure-Python path; tracing
        keeps training, `predict` and the exported SavedModel on the same
        TF-Text ops (one trace per preprocessor and function).
        """
        if not self.built:
            self.build(None)
        x = tf.convert_to_tensor(x)
        if x.shape.rank == 0:
            x = x[None]
        if not tf.executing_eagerly():
            return fn(x)
        traced = _TRACED.setdefault(self, {})
        name = fn.__name__
        if name not in traced:
            ref = weakref.ref(self)  # The cache must not keep `self` alive.
            traced[name] = tf.function(
                lambda x: getattr(ref(), name)(x),
                input_signature=[tf.TensorSpec([None], tf.string)])
        return traced[name](x)

    def _pack(self, x):
        token_ids, _ = self.packer(self.pieces(x))
        return {
            "token_ids": token_ids,
            "padding_mask": token_ids != self.tokenizer.pad_token_id,
        }

    def truncated(self, x):
        """Per string, whether its pieces did not fit `sequence_length`."""
        return self.in_graph(self._truncated, x)

    def _truncated(self, x):
        # One leading and one closing [SEP] around the pieces.
        return self.pieces(x).row_lengths() + 2 > self.sequence_length

    @preprocessing_function
    def call(self, x, y=None, sample_weight=None):
        x = self.in_graph(self._pack, x)
        return keras.utils.pack_x_y_sample_weight(x, y, sample_weight)


# Traced functions per preprocessor, kept off the layer (Keras would track
# them as attributes).
_TRACED = weakref.WeakKeyDictionary()
