"""WordPiece vocabularies that reserve every special token, with a cache.

Training uses `keras_hub.tokenizers.compute_word_piece_vocabulary` (the
TF-Text WordPiece learner) with `reserved_tokens=special_tokens.
reserved_tokens()`, so ids 0..110 are the same special tokens in every
vocabulary trained here (see `special_tokens.py`).

The learner binary-searches a frequency threshold and makes a full pass over
the unique words at each of its ~16 steps, in pure Python. On the embedded
corpus's train split (6.4 M characters, ~35 k unique lowercased words) a
vocabulary of 8192 takes about 2.5 minutes of CPU (single-threaded).
Subsampling does not help there: the threshold cannot go below 10, so a
1 MB sample yields only ~2.8 k tokens when 8192 are asked for. Hence

* every trained vocabulary is cached under a hash of (documents, size,
  lowercase, reserved tokens, format version), so it is trained once;
* the vocabulary of the default setting (embedded train split, 8192,
  lowercase) ships in the package next to the corpus (built by
  `scripts/build_corpus.py`) and is found by the same hash;
* only corpora above `max_characters` (16 M by default, twice the embedded
  corpus) are subsampled, by keeping every k-th document (deterministic,
  spread over the whole corpus).
"""

import logging
import lzma
import math
import os
import time

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.data import _cache
from keras_objectives.data.embedded import CORPUS_DIR
from keras_objectives.data.special_tokens import reserved_tokens
from keras_objectives.utils import atomic_write_text
from keras_objectives.utils import check_int

VOCABULARY_FORMAT = 1
DEFAULT_MAX_CHARACTERS = 16_000_000

logger = logging.getLogger(__name__)


def _as_documents(documents, argument="documents"):
    if isinstance(documents, (str, bytes)):
        raise ValueError(
            f"Invalid value received for argument `{argument}`. Expected a "
            "list (or iterable) of document strings. Received a single "
            f"string: {documents[:40]!r}. Wrap it in a list."
        )
    documents = list(documents)
    for doc in documents:
        if not isinstance(doc, str):
            raise ValueError(
                f"Invalid value received for argument `{argument}`. Expected "
                f"strings. Received an element of type {type(doc).__name__}"
                f": {doc!r:.60}"
            )
    if not documents:
        raise ValueError(
            f"Invalid value received for argument `{argument}`. Expected at "
            "least one document. Received an empty corpus; check the source "
            "path or split."
        )
    return documents


def subsample(documents, max_characters):
    """Every k-th document, with k the smallest stride that fits the budget.

    Args:
        documents: list of strings.
        max_characters: int or `None` (keep everything).

    Returns:
        `documents[::k]`; the first document is always kept.

    Examples:

    >>> subsample(["aaaa", "bb", "cccc", "dd"], 6)
    ['aaaa', 'cccc']
    >>> subsample(["aaaa", "bb"], None)
    ['aaaa', 'bb']
    """
    if max_characters is None:
        return list(documents)
    total = sum(len(d) for d in documents)
    stride = max(1, math.ceil(total / max_characters))
    return list(documents[::stride])


def vocabulary_key(documents, vocabulary_size, lowercase):
    """The cache key of a vocabulary: a hash of everything it depends on."""
    header = {
        "format": VOCABULARY_FORMAT,
        "vocabulary_size": int(vocabulary_size),
        "lowercase": bool(lowercase),
        "strip_accents": False,
        "reserved_tokens": reserved_tokens(),
    }
    return _cache.content_hash(header, documents)


def shipped_vocabulary_path(key):
    """Where a pre-built vocabulary with this key ships in the package."""
    return os.path.join(CORPUS_DIR, f"vocab-{key}.txt.xz")


@keras_objectives_export("keras_objectives.data.train_vocabulary")
def train_vocabulary(
    documents,
    vocabulary_size=8192,
    lowercase=True,
    cache_dir=None,
    max_characters=DEFAULT_MAX_CHARACTERS,
):
    """Train (or fetch from the cache) a WordPiece vocabulary.

    Args:
        documents: an iterable of strings.
        vocabulary_size: int, the maximum number of tokens, reserved tokens
            included. The learner stops within 5% below it, or earlier on a
            small corpus (it never keeps pieces seen fewer than ~10 times),
            so size the model from `len(vocabulary)`.
        lowercase: bool, lowercase the text first. The tokenizer must use the
            same setting (`make_tokenizer(..., lowercase=...)`).
        cache_dir: the cache root (vocabularies go to `<cache_dir>/vocab/`).
            `None` uses `$KERAS_OBJECTIVES_CACHE` or
            `~/.cache/keras_objectives`; `False` disables the cache.
        max_characters: int or `None`. Above this many characters, train on
            every k-th document only (see `subsample`).

    Returns:
        A list of token strings that starts with
        `special_tokens.reserved_tokens()` in order.

    Examples:

    >>> docs = ["the cat sat on the mat", "the dog sat on the log"] * 10
    >>> vocab = train_vocabulary(docs, vocabulary_size=140, cache_dir=False)
    >>> vocab[:5]
    ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']
    >>> vocab[110], vocab[111:115]
    ('<extra_id_0>', ['a', 'c', 'd', 'e'])
    """
    documents = _as_documents(documents)
    reserved = reserved_tokens()
    vocabulary_size = check_int(
        "vocabulary_size", vocabulary_size, minimum=len(reserved) + 1
    )
    max_characters = check_int(
        "max_characters", max_characters, minimum=1, allow_none=True
    )
    documents = subsample(documents, max_characters)
    key = vocabulary_key(documents, vocabulary_size, lowercase)
    path = _cache.cache_path(cache_dir, "vocab", key, ".txt")
    if path is not None:
        if os.path.exists(path):
            return load_vocabulary(path)
        shipped = shipped_vocabulary_path(key)
        if os.path.exists(shipped):
            with lzma.open(shipped, "rt", encoding="utf-8") as f:
                return f.read().splitlines()

    import keras_hub
    import tensorflow as tf

    chars = sum(len(d) for d in documents)
    logger.info(
        "Training a WordPiece vocabulary of %d on %d documents (%d "
        "characters); this takes minutes (about 2.5 for 7 M characters).",
        vocabulary_size, len(documents), chars,
    )
    start = time.perf_counter()
    vocabulary = keras_hub.tokenizers.compute_word_piece_vocabulary(
        tf.data.Dataset.from_tensor_slices(documents),
        vocabulary_size,
        lowercase=bool(lowercase),
        strip_accents=False,
        reserved_tokens=reserved,
    )
    logger.info(
        "Trained %d tokens in %.1f s.",
        len(vocabulary), time.perf_counter() - start,
    )
    if vocabulary[: len(reserved)] != reserved:
        raise RuntimeError(
            "The WordPiece learner did not keep the reserved tokens first; "
            "this is a bug, please report it."
        )
    if path is not None:
        save_vocabulary(vocabulary, path)
    return vocabulary


@keras_objectives_export("keras_objectives.data.save_vocabulary")
def save_vocabulary(vocabulary, path):
    """Write one token per line, atomically."""
    atomic_write_text(path, "".join(token + "\n" for token in vocabulary))


@keras_objectives_export("keras_objectives.data.load_vocabulary")
def load_vocabulary(path):
    """Read a vocabulary file with one token per line (e.g. BERT's vocab.txt).

    Use `SpecialTokens.from_vocabulary(vocabulary)` to find its special
    tokens: a stock vocabulary may lack some (BERT's has `[MASK]` but no
    sentinels), and objectives that need a missing one raise a clear error.

    Args:
        path: str, a UTF-8 text file.

    Returns:
        A list of token strings; the id of a token is its line number - 1.

    Examples:

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "vocab.txt")
    >>> save_vocabulary(["[PAD]", "[UNK]", "the", "##s"], path)
    >>> load_vocabulary(path)
    ['[PAD]', '[UNK]', 'the', '##s']
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"The vocabulary file {path!r} does not exist. Pass a text file "
            "with one token per line, or train one with "
            "`keras_objectives.data.train_vocabulary`."
        )
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    vocabulary = [line.rstrip("\r") for line in lines]
    if not vocabulary:
        raise ValueError(f"The vocabulary file {path!r} is empty.")
    seen = {}
    for i, token in enumerate(vocabulary):
        if not token.strip():
            raise ValueError(
                f"The vocabulary file {path!r} has an empty token on line "
                f"{i + 1}. Remove the blank line: every line is one token "
                "and its line number gives its id."
            )
        if token in seen:
            raise ValueError(
                f"The vocabulary file {path!r} has the token {token!r} "
                f"twice (lines {seen[token] + 1} and {i + 1}). Remove the "
                "duplicate: each token must have one id."
            )
        seen[token] = i
    return vocabulary
