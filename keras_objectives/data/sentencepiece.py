"""A SentencePiece unigram tokenizer, the alternative to WordPiece.

`prepare_corpus(..., tokenizer="sentencepiece")` (recipe field
`data.tokenizer`) trains a unigram model (Kudo, 2018) on the training split
and tokenizes with keras-hub's `SentencePieceTokenizer`, so a comparison
can hold the tokenizer fixed or vary it. On Chinese the unigram model
learns multi-character pieces (`宝玉`, `说道`) where the CJK-aware WordPiece
vocabulary has one token per character.

Every reserved token (`special_tokens.reserved_tokens()`) keeps its id:
`[PAD]` is SentencePiece's pad (0), `[UNK]` its unk (1) and the others are
control symbols at ids 2..110, never produced from text. The model proto is
cached by content hash (`<cache>/spm/<key>.model`), like vocabularies.
Word boundaries (`data.segmenter`) align to pieces by their byte offsets
(`keras_objectives.data.word_boundaries`).
"""

import logging
import os

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.data import _cache
from keras_objectives.data.special_tokens import reserved_tokens
from keras_objectives.data.vocabulary import _as_documents
from keras_objectives.data.vocabulary import subsample
from keras_objectives.utils import check_int

SENTENCEPIECE_FORMAT = 1
TOKENIZERS = ("wordpiece", "sentencepiece")
logger = logging.getLogger(__name__)


def sentencepiece_key(documents, vocabulary_size, lowercase):
    header = {"format": SENTENCEPIECE_FORMAT, "model_type": "unigram",
              "vocabulary_size": int(vocabulary_size),
              "lowercase": bool(lowercase),
              "reserved_tokens": reserved_tokens()}
    return _cache.content_hash(header, documents)


@keras_objectives_export("keras_objectives.data.train_sentencepiece")
def train_sentencepiece(documents, vocabulary_size=8192, lowercase=True,
                        cache_dir=None, max_characters=16_000_000):
    """Train (or fetch from the cache) a SentencePiece unigram model.

    Args:
        documents: an iterable of strings.
        vocabulary_size: int, the number of pieces, reserved tokens
            included.
        lowercase: bool, NFKC with case folding (`nmt_nfkc_cf`) instead of
            NFKC.
        cache_dir: as `train_vocabulary`.
        max_characters: int, train on every k-th document above this.

    Returns:
        The serialized model proto (bytes).

    Examples:

    >>> proto = train_sentencepiece(["我爱读书，书爱我。"] * 50 + ["读书"] * 50,
    ...                             vocabulary_size=130, cache_dir=False)
    >>> tokenizer = make_sentencepiece_tokenizer(proto)
    >>> tokenizer.get_vocabulary()[:5]
    ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']
    """
    import sentencepiece

    documents = subsample(_as_documents(documents), max_characters)
    reserved = reserved_tokens()
    vocabulary_size = check_int("vocabulary_size", vocabulary_size,
                                minimum=len(reserved) + 8)
    key = sentencepiece_key(documents, vocabulary_size, lowercase)
    path = _cache.cache_path(cache_dir, "spm", key, ".model")
    if path is not None and os.path.exists(path):
        with open(path, "rb") as f:
            return f.read()
    import io

    model = io.BytesIO()
    try:
        sentencepiece.SentencePieceTrainer.train(
            sentence_iterator=iter(line for d in documents
                                   for line in d.split("\n")
                                   if line.strip()),
            model_writer=model,
            vocab_size=vocabulary_size,
            model_type="unigram",
            normalization_rule_name=("nmt_nfkc_cf" if lowercase
                                     else "nmt_nfkc"),
            pad_id=0, unk_id=1, bos_id=-1, eos_id=-1,
            pad_piece=reserved[0], unk_piece=reserved[1],
            control_symbols=reserved[2:],
            character_coverage=0.9995,
            hard_vocab_limit=False,
            num_threads=2,
            minloglevel=2,
        )
    except RuntimeError as error:
        if "smaller than required_chars" not in str(error):
            raise
        # Every character covering 99.95% of the text needs its own piece.
        raise ValueError(
            "Invalid value received for argument `vocabulary_size`. "
            "Expected at least the reserved tokens plus every character "
            "the SentencePiece model must cover (the trainer said: "
            f"{str(error).split('] ')[-1]}). Received: "
            f"vocabulary_size={vocabulary_size}. Raise `vocabulary_size` "
            "(Chinese text needs several thousand) or use "
            "tokenizer=\"wordpiece\"."
        ) from None
    proto = model.getvalue()
    if path is not None:
        _cache.atomic_write_bytes(path, lambda f: f.write(proto))
    return proto


@keras_objectives_export(
    "keras_objectives.data.make_sentencepiece_tokenizer")
def make_sentencepiece_tokenizer(proto):
    """A keras-hub `SentencePieceTokenizer` (int32 ids) for a model proto."""
    import keras_hub

    return keras_hub.tokenizers.SentencePieceTokenizer(proto=proto,
                                                       dtype="int32")
