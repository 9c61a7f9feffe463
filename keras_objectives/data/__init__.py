"""Text sources, vocabulary training, tokenization, packing and the pipeline.

Strings stop here: `prepare_corpus` reads text and returns token ids, `pack`
cuts them into fixed-length rows, and `make_dataset` streams batches of
packed features (see `docs/data.md` and `docs/architecture.md`).
`write_shards` stores packed rows as TFRecord shards (local or `gs://`) and
`load_pretokenized` reads them back, so TPU hosts never tokenize.

>>> from keras_objectives import data
>>> corpus = data.prepare_corpus("embedded")  # doctest: +SKIP
>>> packed = corpus.pack("train", length=128)  # doctest: +SKIP
>>> ds = data.make_dataset(packed, batch_size=32, seed=0)  # doctest: +SKIP
"""

from keras_objectives.data.embedded_zh import ZH_BOOKS
from keras_objectives.data.embedded_zh import ZH_VALIDATION_BOOKS
from keras_objectives.data.embedded_zh import embedded_zh_books
from keras_objectives.data.embedded_zh import embedded_zh_corpus
from keras_objectives.data.packing import pack
from keras_objectives.data.packing import unpack
from keras_objectives.data.pipeline import make_dataset
from keras_objectives.data.prepare import Corpus
from keras_objectives.data.prepare import prepare_corpus
from keras_objectives.data.pretokenized import PretokenizedCorpus
from keras_objectives.data.pretokenized import load_pretokenized
from keras_objectives.data.segmentation import Segmenter
from keras_objectives.data.segmentation import get_segmenter
from keras_objectives.data.segmentation import segment
from keras_objectives.data.sentencepiece import make_sentencepiece_tokenizer
from keras_objectives.data.sentencepiece import train_sentencepiece
from keras_objectives.data.sources import EMBEDDED_BOOKS
from keras_objectives.data.sources import TAIL_FRACTION
from keras_objectives.data.sources import VALIDATION_BOOKS
from keras_objectives.data.sources import embedded_books
from keras_objectives.data.sources import embedded_corpus
from keras_objectives.data.sources import split_tail
from keras_objectives.data.sources import text_files
from keras_objectives.data.sources import tfds_text
from keras_objectives.data.special_tokens import SpecialTokens
from keras_objectives.data.special_tokens import reserved_tokens
from keras_objectives.data.tfrecord import read_metadata
from keras_objectives.data.tfrecord import read_packed
from keras_objectives.data.tfrecord import write_shards
from keras_objectives.data.tokenizer import make_tokenizer
from keras_objectives.data.tokenizer import tokenize_documents
from keras_objectives.data.vocabulary import load_vocabulary
from keras_objectives.data.vocabulary import save_vocabulary
from keras_objectives.data.vocabulary import train_vocabulary
from keras_objectives.data.vocabulary_zh import train_cjk_vocabulary
from keras_objectives.data.word_boundaries import word_starts

__all__ = [
    "Corpus",
    "EMBEDDED_BOOKS",
    "PretokenizedCorpus",
    "Segmenter",
    "SpecialTokens",
    "TAIL_FRACTION",
    "VALIDATION_BOOKS",
    "ZH_BOOKS",
    "ZH_VALIDATION_BOOKS",
    "embedded_books",
    "embedded_corpus",
    "embedded_zh_books",
    "embedded_zh_corpus",
    "get_segmenter",
    "load_pretokenized",
    "load_vocabulary",
    "make_dataset",
    "make_sentencepiece_tokenizer",
    "make_tokenizer",
    "pack",
    "prepare_corpus",
    "read_metadata",
    "read_packed",
    "reserved_tokens",
    "save_vocabulary",
    "segment",
    "split_tail",
    "text_files",
    "tfds_text",
    "tokenize_documents",
    "train_cjk_vocabulary",
    "train_sentencepiece",
    "train_vocabulary",
    "unpack",
    "word_starts",
    "write_shards",
]
