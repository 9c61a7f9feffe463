"""The WordPiece tokenizer, and batched tokenization of whole corpora.

Strings stop in `keras_objectives.data`: everything downstream of
`tokenize_documents` works on integer ids. Tokenizing the embedded corpus
(7.4 M characters) takes a few seconds on 2 cores; results are cached
anyway, as `.npz` files keyed by a hash of the documents and of the
tokenizer's vocabulary and settings.
"""

import hashlib
import os

import numpy as np

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.data import _cache
from keras_objectives.data.vocabulary import _as_documents
from keras_objectives.data.vocabulary import load_vocabulary
from keras_objectives.utils import check_int

TOKENS_FORMAT = 1


@keras_objectives_export("keras_objectives.data.make_tokenizer")
def make_tokenizer(vocabulary, lowercase=True, sequence_length=None):
    """A `keras_hub.tokenizers.WordPieceTokenizer` for a vocabulary.

    Args:
        vocabulary: a list of tokens or the path of a vocabulary file (one
            token per line). It must contain `[UNK]`, which unknown
            characters map to.
        lowercase: bool, lowercase the text first. Use the setting the
            vocabulary was trained with.
        sequence_length: int or `None`. If set, the tokenizer pads or
            truncates its output to this length (dense); leave it `None` to
            tokenize a corpus and `pack` it.

    Returns:
        A `keras_hub.tokenizers.WordPieceTokenizer` (accents kept, text split
        on whitespace, punctuation and CJK characters).

    Examples:

    >>> from keras_objectives.data.special_tokens import reserved_tokens
    >>> vocab = reserved_tokens() + ["the", "cat", "sat", "##s", "."]
    >>> tokenizer = make_tokenizer(vocab)
    >>> tokenizer("The cats sat.").tolist()
    [111, 112, 114, 113, 115]
    >>> tokenizer.detokenize([111, 112, 114])
    'the cats'
    """
    import keras_hub

    if isinstance(vocabulary, (str, os.PathLike)):
        vocabulary = load_vocabulary(vocabulary)
    vocabulary = list(vocabulary)
    if "[UNK]" not in vocabulary:
        raise ValueError(
            "Invalid value received for argument `vocabulary`. Expected a "
            "vocabulary that contains the out-of-vocabulary token '[UNK]'. "
            f"Received {len(vocabulary)} tokens without it. Train one with "
            "`keras_objectives.data.train_vocabulary`, which reserves it."
        )
    sequence_length = check_int(
        "sequence_length", sequence_length, minimum=1, allow_none=True
    )
    return keras_hub.tokenizers.WordPieceTokenizer(
        vocabulary=vocabulary,
        sequence_length=sequence_length,
        lowercase=bool(lowercase),
        strip_accents=False,
        oov_token="[UNK]",
        dtype="int32",
    )


def tokens_key(tokenizer, documents):
    """The cache key of a corpus' token ids (documents and tokenizer)."""
    settings = (
        "lowercase", "strip_accents", "split", "split_on_cjk",
        "suffix_indicator", "oov_token", "special_tokens_in_strings",
    )
    header = {
        "format": TOKENS_FORMAT,
        "settings": {k: getattr(tokenizer, k, None) for k in settings},
        "vocabulary": _cache.content_hash({}, tokenizer.get_vocabulary()),
    }
    proto = getattr(tokenizer, "proto", None)  # SentencePiece: its model
    if isinstance(proto, bytes):
        header["proto"] = hashlib.sha256(proto).hexdigest()
    return _cache.content_hash(header, documents)


def _split(flat, lengths):
    return np.split(flat, np.cumsum(lengths)[:-1]) if len(lengths) else []


def read_token_cache(path):
    """The rows (int32 arrays) of a `tokens/` cache entry."""
    with np.load(path) as data:
        return _split(data["flat"], data["lengths"])


def write_token_cache(path, flat, lengths):
    """Write a `tokens/` cache entry atomically: ids and row lengths."""
    _cache.atomic_write_bytes(
        path, lambda f: np.savez(f, flat=flat, lengths=lengths))


@keras_objectives_export("keras_objectives.data.tokenize_documents")
def tokenize_documents(tokenizer, documents, batch_size=256, cache_dir=None):
    """Token ids of every document, computed in batches with tf.data.

    Args:
        tokenizer: a tokenizer with `sequence_length=None` (e.g. from
            `make_tokenizer`).
        documents: an iterable of strings.
        batch_size: int, documents per tokenizer call.
        cache_dir: the cache root (results go to `<cache_dir>/tokens/`).
            `None` uses `$KERAS_OBJECTIVES_CACHE` or
            `~/.cache/keras_objectives`; `False` disables the cache.

    Returns:
        A list with one int32 numpy array of token ids per document, in the
        order of `documents`.

    Examples:

    >>> from keras_objectives.data.special_tokens import reserved_tokens
    >>> tokenizer = make_tokenizer(reserved_tokens() + ["a", "b", "##b"])
    >>> ids = tokenize_documents(tokenizer, ["a bb", "b", "c"], cache_dir=False)
    >>> [x.tolist() for x in ids]
    [[111, 112, 113], [112], [1]]
    """
    import tensorflow as tf

    documents = _as_documents(documents)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    if getattr(tokenizer, "sequence_length", None) is not None:
        raise ValueError(
            "Invalid value received for argument `tokenizer`. Expected a "
            "tokenizer without a fixed `sequence_length`, so that whole "
            "documents are kept. Received: sequence_length="
            f"{tokenizer.sequence_length}. Use `make_tokenizer(vocabulary)` "
            "and let `pack` cut the sequences."
        )
    path = _cache.cache_path(
        cache_dir, "tokens", tokens_key(tokenizer, documents), ".npz"
    )
    if path is not None and os.path.exists(path):
        return read_token_cache(path)

    dataset = (
        tf.data.Dataset.from_tensor_slices(documents)
        .batch(batch_size)
        .map(
            tokenizer.tokenize,
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,
        )
        .prefetch(tf.data.AUTOTUNE)
    )
    flats, lengths = [], []
    for ragged in dataset:
        flats.append(ragged.flat_values.numpy().astype(np.int32))
        lengths.append(ragged.row_lengths().numpy().astype(np.int64))
    flat = np.concatenate(flats)
    lengths = np.concatenate(lengths)
    if path is not None:
        write_token_cache(path, flat, lengths)
    return _split(flat, lengths)
