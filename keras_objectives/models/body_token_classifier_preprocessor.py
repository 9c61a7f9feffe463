"""Whitespace-split sentences to body inputs, for `BodyTokenClassifier`."""

import tensorflow as tf
from keras_hub.src.utils.tensor_utils import preprocessing_function

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.models.body_text_classifier_preprocessor import (
    BodyTextClassifierPreprocessor,
)
from keras_objectives.models.body_tokenizer import BodyTokenizer
from keras_objectives.models.transformer_body import TransformerBody


@keras_objectives_export(
    "keras_objectives.models.BodyTokenClassifierPreprocessor")
class BodyTokenClassifierPreprocessor(BodyTextClassifierPreprocessor):
    """Pack a sentence's words as `[SEP] pieces [SEP]`; find each word.

    A sentence is a string of words separated by whitespace (a CoNLL
    sentence joined with spaces). Every word is tokenized on its own (a
    word with no piece becomes `[UNK]`), the pieces are packed as in
    `BodyTextClassifierPreprocessor`, and a word is read at its **first
    piece**, as the harness' tagging probe does. `word_positions` gives that
    position, or -1 for a word cut off by `sequence_length`.

    Args:
        tokenizer: a `BodyTokenizer` (or another WordPiece tokenizer with
            `end_token_id`, `pad_token_id` and an `oov_token`).
        sequence_length: int, the packed length.
        truncate: the `keras_hub.layers.MultiSegmentPacker` truncation.

    Call arguments:
        x: a batch of sentence strings.
        y: optional labels `[B, sequence_length]`, passed through.
        sample_weight: optional weights, passed through.

    Examples:

    >>> from keras_objectives.data.special_tokens import reserved_tokens
    >>> tokenizer = BodyTokenizer(reserved_tokens() + ["the", "cat", "##s"])
    >>> preprocessor = BodyTokenClassifierPreprocessor(tokenizer,
    ...                                                sequence_length=5)
    >>> np.asarray(preprocessor(["the cats the"])["token_ids"]).tolist()
    [[3, 111, 112, 113, 3]]
    >>> words, positions = preprocessor.word_positions(["the cats the"])
    >>> np.asarray(positions).tolist()
    [[1, 2, -1]]
    """

    backbone_cls = TransformerBody
    tokenizer_cls = BodyTokenizer

    def _word_pieces(self, x):
        """`(words [B, (W)], pieces [B, (T)], starts [B, (W)])`, ragged."""
        words = tf.strings.split(x)
        pieces = self.tokenizer(words.flat_values)
        counts = pieces.row_lengths()
        # A word with no piece (unprintable) is read as [UNK].
        unknown = self.tokenizer.token_to_id(self.tokenizer.oov_token)
        column = tf.fill([tf.shape(counts)[0], 1],
                         tf.constant(unknown, pieces.dtype))
        padded = tf.concat([pieces, column], axis=1)
        keep = tf.ragged.range(counts + 1) < tf.expand_dims(
            tf.maximum(counts, 1), 1)
        pieces = tf.ragged.boolean_mask(padded, keep)
        counts = tf.maximum(counts, 1)
        per_sentence = tf.RaggedTensor.from_row_splits(counts,
                                                       words.row_splits)
        totals = tf.reduce_sum(per_sentence, axis=1)
        flat_starts = tf.math.cumsum(counts, exclusive=True)
        offsets = tf.gather(tf.concat([flat_starts, [0]], 0),
                            words.row_splits[:-1])
        starts = flat_starts - tf.repeat(offsets, words.row_lengths())
        sentence_pieces = tf.RaggedTensor.from_row_lengths(
            pieces.flat_values, totals)
        return words, sentence_pieces, tf.RaggedTensor.from_row_splits(
            starts, words.row_splits)

    def pieces(self, x):
        return self._word_pieces(x)[1]

    @preprocessing_function
    def word_positions(self, x):
        """`(words, positions)`: dense `[B, W]` words (`""` padding) and the
        packed position of each word's first piece (-1: cut or padding)."""
        return self.in_graph(self._positions, x)

    def _positions(self, x):
        words, _, starts = self._word_pieces(x)
        # Pieces fill positions 1 .. sequence_length - 2 (then [SEP]).
        flat = starts.flat_values + 1
        flat = tf.where(flat <= self.sequence_length - 2, flat, -1)
        positions = starts.with_flat_values(tf.cast(flat, "int32"))
        return words.to_tensor(""), positions.to_tensor(-1)

