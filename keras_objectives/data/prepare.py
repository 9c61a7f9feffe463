"""`prepare_corpus`: from a source name to token ids, vocabulary and stats."""

import dataclasses
import logging
import os
import time

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.data import embedded_zh
from keras_objectives.data import sources
from keras_objectives.data import word_boundaries
from keras_objectives.data.chinese import CJK_MAJORITY
from keras_objectives.data.chinese import cjk_share
from keras_objectives.data.chinese import resolve_segmenter
from keras_objectives.data.packing import pack
from keras_objectives.data.sentencepiece import TOKENIZERS
from keras_objectives.data.sentencepiece import make_sentencepiece_tokenizer
from keras_objectives.data.sentencepiece import train_sentencepiece
from keras_objectives.data.special_tokens import SpecialTokens
from keras_objectives.data.tokenizer import make_tokenizer
from keras_objectives.data.tokenizer import tokenize_documents
from keras_objectives.data.vocabulary import load_vocabulary
from keras_objectives.data.vocabulary import train_vocabulary
from keras_objectives.data.vocabulary_zh import train_cjk_vocabulary
from keras_objectives.utils import check_choice
from keras_objectives.utils import check_rate

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class Corpus:
    """A tokenized corpus with its vocabulary; returned by `prepare_corpus`.

    Attributes:
        train_documents_token_ids: list of int32 arrays, one per document.
        validation_documents_token_ids: the same for the validation split.
        vocabulary: list of token strings.
        special_tokens: `SpecialTokens.from_vocabulary(vocabulary)`.
        tokenizer: the `keras_hub.tokenizers.WordPieceTokenizer` used.
        stats: `{"train": {...}, "validation": {...}}`, each with
            `documents`, `characters`, `bytes` (UTF-8) and `tokens` (without
            the one EOS per document that `pack` adds). Bits per byte of a
            model is `loss_nats_per_token * tokens / bytes / ln(2)` when the
            loss averages over the same tokens.
        source: str, what the corpus was read from.
        validation_texts: the validation documents (str), for evaluation.
        train_word_starts, validation_word_starts: `None`, or one bool
            array per document, True on the first token of each segmented
            word (`segmenter`); `pack` then adds a `word_starts` feature.
        word_boundaries: `None` or the segmentation stats (segmenter,
            words, fallbacks, seconds per MB); also in `stats["train"]`.
        no_word_boundaries_reason: why a mostly-CJK corpus has no word
            boundaries (jieba missing, `segmenter=None`), else `None`.
    """

    train_documents_token_ids: list
    validation_documents_token_ids: list
    vocabulary: list
    special_tokens: SpecialTokens
    tokenizer: object
    stats: dict
    source: str = ""
    validation_texts: list = None
    train_word_starts: list = None
    validation_word_starts: list = None
    word_boundaries: dict = None
    no_word_boundaries_reason: str = None

    @property
    def vocabulary_size(self):
        return len(self.vocabulary)

    def pack(self, split, length, drop_remainder=False):
        """`pack` one split with this vocabulary's EOS (`[SEP]`) and PAD."""
        check_choice("split", split, ("train", "validation"))
        documents = getattr(self, f"{split}_documents_token_ids")
        return pack(
            documents,
            length,
            eos_id=self.special_tokens.require("eos_id"),
            pad_id=self.special_tokens.require("pad_id"),
            drop_remainder=drop_remainder,
            word_starts=getattr(self, f"{split}_word_starts"),
        )

    def __repr__(self):
        return (
            f"Corpus(source={self.source!r}, vocabulary_size="
            f"{self.vocabulary_size}, train={self.stats['train']}, "
            f"validation={self.stats['validation']})"
        )


def _read(source, validation, mode, errors, validation_fraction):
    """(train documents, validation documents, description)."""
    if isinstance(source, str) and source == "embedded":
        books = validation or sources.VALIDATION_BOOKS
        return (
            sources.embedded_corpus("train", validation_books=books),
            sources.embedded_corpus("validation", validation_books=books),
            "embedded",
        )
    if isinstance(source, str) and source == "embedded-zh":
        books = validation or embedded_zh.ZH_VALIDATION_BOOKS
        return (
            embedded_zh.embedded_zh_corpus("train", validation_books=books),
            embedded_zh.embedded_zh_corpus("validation",
                                           validation_books=books),
            "embedded-zh",
        )
    if isinstance(source, str) and source.startswith("tfds:"):
        name = source[len("tfds:"):]
        train = list(sources.tfds_text(name, "train"))
        val = list(sources.tfds_text(name, validation or "validation"))
        return train, val, source
    if not isinstance(source, (str, os.PathLike, list, tuple)):
        raise ValueError(
            "Invalid value received for argument `source`. Expected "
            "\"embedded\", \"embedded-zh\", \"tfds:<name>\", or a path "
            "(file, directory, glob or list of them). Received: "
            f"source={source!r}"
        )
    documents = list(sources.text_files(source, mode=mode, errors=errors))
    if validation is not None:
        val = list(sources.text_files(validation, mode=mode, errors=errors))
        return documents, val, str(source)
    if len(documents) < 2:
        raise ValueError(
            f"The corpus at {source!r} has {len(documents)} document, too "
            "few to hold out a validation split. Add documents, use "
            "`mode=\"line\"` for one document per line, or pass "
            "`validation=<path>`."
        )
    num_validation = min(
        len(documents) - 1, max(1, round(len(documents) * validation_fraction))
    )
    cut = len(documents) - num_validation
    return documents[:cut], documents[cut:], str(source)


def _stats(documents, token_ids):
    return {
        "documents": len(documents),
        "characters": sum(len(d) for d in documents),
        "bytes": sum(len(d.encode("utf-8")) for d in documents),
        "tokens": int(sum(len(t) for t in token_ids)),
    }


def _tokenizer(kind, train, vocabulary, vocabulary_size, lowercase,
               cache_dir, mostly_cjk):
    """`(tokenizer, vocabulary)` of `prepare_corpus`."""
    if kind == "sentencepiece":
        proto = train_sentencepiece(train, vocabulary_size,
                                    lowercase=lowercase, cache_dir=cache_dir)
        tokenizer = make_sentencepiece_tokenizer(proto)
        return tokenizer, list(tokenizer.get_vocabulary())
    if vocabulary is None and mostly_cjk:
        # Every CJK character its own token (the WordPiece learner keeps
        # only 1,000 characters).
        vocabulary = train_cjk_vocabulary(
            train, vocabulary_size, lowercase=lowercase, cache_dir=cache_dir)
    elif vocabulary is None:
        vocabulary = train_vocabulary(
            train, vocabulary_size, lowercase=lowercase, cache_dir=cache_dir)
    elif isinstance(vocabulary, (str, os.PathLike)):
        vocabulary = load_vocabulary(vocabulary)
    vocabulary = list(vocabulary)
    return make_tokenizer(vocabulary, lowercase=lowercase), vocabulary


@keras_objectives_export("keras_objectives.data.prepare_corpus")
def prepare_corpus(
    source="embedded",
    vocabulary_size=8192,
    lowercase=True,
    cache_dir=None,
    errors="strict",
    validation=None,
    mode="file",
    vocabulary=None,
    validation_fraction=0.05,
    segmenter="auto",
    tokenizer="wordpiece",
):
    """Read a corpus, train (or load) its vocabulary and tokenize it.

    Args:
        source: `"embedded"` (the 17 shipped books), `"embedded-zh"` (the
            16 shipped Chinese works), `"tfds:<name>"` (its
            `train` split, online only), or your text: a file, directory,
            glob or list of them (see `text_files`).
        vocabulary_size: int, for `train_vocabulary`.
        lowercase: bool, for the vocabulary and the tokenizer.
        cache_dir: the cache root for vocabularies and token ids, `None` for
            the default (`$KERAS_OBJECTIVES_CACHE` or
            `~/.cache/keras_objectives`), `False` for no cache.
        errors: `"strict" | "replace" | "skip"`, invalid UTF-8 handling in
            your files (see `text_files`).
        validation: the validation split. For `"embedded"`, a list of book
            names (default `VALIDATION_BOOKS`); for TFDS, a split name
            (default `"validation"`); for your text, a path. When `None`
            for your text, the last `validation_fraction` of the documents
            (in sorted file order) is held out.
        mode: `"file"` or `"line"`: one document per file or per line of
            your text.
        vocabulary: `None` to train one on the train split (for a mostly
            CJK corpus, `train_cjk_vocabulary`: every CJK character its own
            token, WordPiece for the rest), or a list of
            tokens or a vocabulary file to use as is (for example BERT's
            `vocab.txt`; `special_tokens` then tells which specials exist).
        validation_fraction: float, see `validation`.
        segmenter: word boundaries for whole-word masking of text without
            spaces. `"auto"` (default): jieba for a mostly-CJK corpus when
            the `[zh]` extra is installed, else none; `None`: none;
            `"jieba"`, `"char"`, a `Segmenter` or a callable: that one (a
            warning gives the CJK share when the corpus is mostly not
            CJK). Segmentation runs once and is cached with the tokens.
        tokenizer: `"wordpiece"` (default; CJK-aware for mostly-CJK text)
            or `"sentencepiece"` (a unigram model trained on the train
            split, `train_sentencepiece`; `vocabulary` must be `None`).

    Returns:
        A `Corpus`.

    Examples:

    >>> import os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> for i in range(4):
    ...     with open(os.path.join(folder, f"{i}.txt"), "w") as f:
    ...         _ = f.write(f"story {i}: the cat sat on the mat. " * 20)
    >>> corpus = prepare_corpus(folder, vocabulary_size=150,
    ...                         validation_fraction=0.25, cache_dir=False)
    >>> corpus.stats["train"]["documents"], corpus.stats["validation"]
    (3, {'documents': 1, 'characters': 660, 'bytes': 660, 'tokens': 360})
    >>> packed = corpus.pack("train", length=128)
    >>> corpus.special_tokens.mask_id, packed["token_ids"].shape
    (4, (9, 128))
    """
    check_choice("errors", errors, ("strict", "replace", "skip"))
    check_choice("tokenizer", tokenizer, TOKENIZERS)
    if tokenizer == "sentencepiece" and vocabulary is not None:
        raise ValueError(
            "Invalid value received for argument `vocabulary`. Expected "
            "None with tokenizer=\"sentencepiece\" (the model is trained "
            f"on the train split). Received: vocabulary={vocabulary!r:.60}. "
            "Pass tokenizer=\"wordpiece\" to use a vocabulary."
        )
    validation_fraction = check_rate("validation_fraction", validation_fraction)
    start = time.perf_counter()
    train, val, description = _read(
        source, validation, mode, errors, validation_fraction
    )
    share = cjk_share(train)
    tokenizer, vocabulary = _tokenizer(
        tokenizer, train, vocabulary, vocabulary_size, lowercase, cache_dir,
        mostly_cjk=share >= CJK_MAJORITY)
    # One call (one tf.data trace, one cache file) for both splits.
    ids = tokenize_documents(tokenizer, train + val, cache_dir=cache_dir)
    train_ids, val_ids = ids[: len(train)], ids[len(train):]
    stats = {"train": _stats(train, train_ids),
             "validation": _stats(val, val_ids)}
    stats["train"]["cjk_share"] = round(share, 4)
    segmenter, reason = resolve_segmenter(segmenter, share)
    starts = [None, None]
    if segmenter is not None:
        flags, words = word_boundaries.word_starts(
            tokenizer, train + val, ids, segmenter, cache_dir=cache_dir)
        starts = [flags[: len(train)], flags[len(train):]]
        stats["segmentation"] = words
    corpus = Corpus(
        train_documents_token_ids=train_ids,
        validation_documents_token_ids=val_ids,
        vocabulary=vocabulary,
        special_tokens=SpecialTokens.from_vocabulary(vocabulary),
        tokenizer=tokenizer,
        stats=stats,
        source=description,
        validation_texts=val,
        train_word_starts=starts[0],
        validation_word_starts=starts[1],
        word_boundaries=stats.get("segmentation"),
        no_word_boundaries_reason=reason,
    )
    logger.info("Prepared %r in %.1f s.", corpus,
                time.perf_counter() - start)
    return corpus
