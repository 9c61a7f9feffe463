"""`load_pretokenized`: the interface of `Corpus` over TFRecord shards.

`training.prepare_corpus` returns one when `data.pretokenized` names a
directory written by `write_shards` (`keras-objectives pretokenize`), so a
TPU host reads packed rows and never tokenizes.
"""

import tensorflow as tf

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.data.chinese import CJK_MAJORITY
from keras_objectives.data.packing import unpack
from keras_objectives.data.special_tokens import SpecialTokens
from keras_objectives.data.tfrecord import METADATA
from keras_objectives.data.tfrecord import SPLITS
from keras_objectives.data.tfrecord import check_directory
from keras_objectives.data.tfrecord import check_metadata
from keras_objectives.data.tfrecord import read_metadata
from keras_objectives.data.tfrecord import read_packed
from keras_objectives.data.tfrecord import vocabulary_hash
from keras_objectives.utils import check_choice


class PretokenizedCorpus:
    """The interface of `Corpus` over a pretokenized directory.

    Created by `load_pretokenized`. Rows are read on the first `pack` of a
    split and kept; the tokenizer and the documents (`unpack`ed from the
    rows) are built only if asked for.

    Attributes:
        path: the directory.
        metadata: its `metadata.json`.
        vocabulary: list of token strings (from `vocabulary.txt`).
        special_tokens: `SpecialTokens.from_vocabulary(vocabulary)`.
        stats: the corpus stats recorded when it was written.
        source: what the text was read from.
        sequence_length: the row length.
    """

    def __init__(self, path, vocabulary_size=None):
        self.path = check_directory(path)
        self.metadata = read_metadata(self.path)
        check_metadata(self.metadata, self.path,
                       vocabulary_size=vocabulary_size)
        name = tf.io.gfile.join(self.path, self.metadata["vocabulary_file"])
        with tf.io.gfile.GFile(name, "r") as f:
            self.vocabulary = f.read().splitlines()
        if vocabulary_hash(self.vocabulary) != self.metadata[
                "vocabulary_hash"]:
            raise ValueError(
                f"The vocabulary file {name!r} does not match the hash in "
                f"{METADATA}. Copy the whole directory, or pretokenize "
                "again."
            )
        self.special_tokens = SpecialTokens.from_vocabulary(self.vocabulary)
        self.stats = {s: self.metadata["splits"][s]["stats"] for s in SPLITS}
        self.source = self.metadata["source"]
        self.sequence_length = self.metadata["sequence_length"]
        # Word boundaries (a segmented Chinese corpus) travel as the
        # optional `word_starts` feature.
        self.word_boundaries = self.metadata.get("word_boundaries")
        self.no_word_boundaries_reason = None
        if "word_starts" not in self.metadata.get("features", ()) and (
                (self.stats["train"] or {}).get("cjk_share", 0)
                >= CJK_MAJORITY):
            self.no_word_boundaries_reason = (
                f"the pretokenized data in {self.path!r} has no "
                "`word_starts`: pretokenize again with jieba installed")
        self._packed = {}
        self._tokenizer = None

    @property
    def vocabulary_size(self):
        return len(self.vocabulary)

    def pack(self, split, length, drop_remainder=False):
        """The stored rows of a split; `length` must be their length."""
        check_choice("split", split, SPLITS)
        check_metadata(self.metadata, self.path, sequence_length=length)
        if split not in self._packed:
            self._packed[split] = read_packed(self.path, split)
        packed = self._packed[split]
        if drop_remainder and len(packed["padding_mask"]) and not packed[
                "padding_mask"][-1].all():
            packed = {k: v[:-1] for k, v in packed.items()}
        return packed

    @property
    def tokenizer(self):
        model = self.metadata.get("sentencepiece_model")
        if self._tokenizer is None and model:
            from keras_objectives.data.sentencepiece import (
                make_sentencepiece_tokenizer,
            )

            name = tf.io.gfile.join(self.path, model)
            with tf.io.gfile.GFile(name, "rb") as f:
                self._tokenizer = make_sentencepiece_tokenizer(f.read())
        if self._tokenizer is None:
            from keras_objectives.data.tokenizer import make_tokenizer

            self._tokenizer = make_tokenizer(
                self.vocabulary, lowercase=self.metadata["lowercase"]
            )
        return self._tokenizer

    def _documents(self, split):
        eos = self.special_tokens.require("eos_id")
        return unpack(self.pack(split, self.sequence_length), eos)

    @property
    def train_documents_token_ids(self):
        return self._documents("train")

    @property
    def validation_documents_token_ids(self):
        return self._documents("validation")

    def __repr__(self):
        return (
            f"PretokenizedCorpus(path={self.path!r}, sequence_length="
            f"{self.sequence_length}, vocabulary_size="
            f"{self.vocabulary_size}, train={self.stats['train']}, "
            f"validation={self.stats['validation']})"
        )


@keras_objectives_export("keras_objectives.data.load_pretokenized")
def load_pretokenized(path, vocabulary_size=None):
    """A `PretokenizedCorpus` over what `write_shards` wrote to `path`.

    Args:
        path: a local directory or `gs://bucket/dir`.
        vocabulary_size: int or `None`; if given, it must match the data's
            vocabulary (see `read_packed`).

    Returns:
        A `PretokenizedCorpus`, with the interface of `Corpus`.
    """
    return PretokenizedCorpus(path, vocabulary_size=vocabulary_size)
