"""Word boundaries as a per-token feature: segment once, align, cache.

`word_starts(tokenizer, documents, token_ids, segmenter)` gives, for every
token of every document, whether it starts a word. Words come from a
segmenter (`keras_objectives.data.segmentation`, jieba for Chinese); a
word is the set of tokens it covers, so whole-word masking can select all
of a word's characters or none.

Alignment. The WordPiece tokenizer first splits text into *pre-tokens*
(every CJK character, every punctuation mark, every run of other
non-space characters; keras-hub's `pretokenize`), then cuts each pre-token
into pieces. A pre-token starts a word when a segmenter word starts where
it starts, and its `##` pieces continue it. For Chinese every character is
a pre-token, so jieba's words map exactly onto tokens. Where they do not
align (a segmenter word boundary falls *inside* a pre-token: jieba splits
`ＡＢＣ１２３` into characters, while the tokenizer keeps one pre-token), the
pre-token and the one after it start words of their own: character-level
(token-level) boundaries for that span. These *fallbacks* are counted and
reported in the corpus stats. For a SentencePiece tokenizer, pieces are
aligned the same way from their byte offsets.

The result is cached next to the token ids, keyed by a hash of the
documents, the tokenizer and the segmenter's settings, so segmentation
runs once per corpus (about 4 s per MB of Chinese on one core for jieba).
"""

import functools
import os
import re
import time

import numpy as np

from keras_objectives.data import _cache
from keras_objectives.data.chinese import _CJK

WORDS_FORMAT = 2


@functools.lru_cache(maxsize=1)
def _split_patterns():
    from keras_hub.src.tokenizers.word_piece_tokenizer import (
        _get_split_patterns,
    )

    return _get_split_patterns(True, ())


_CLASSES = {}  # ord(character) -> "w" (dropped), "k" (kept alone), "o"
_RUNS = re.compile(r"k|o+")


def _classes(text):
    """One class letter per character (keras-hub's split patterns)."""
    new = set(map(ord, text)) - _CLASSES.keys()
    if new:
        delimiter, keep = _split_patterns()
        for code in new:
            c = chr(code)
            _CLASSES[code] = ("o" if not delimiter.fullmatch(c)
                              else "k" if keep.fullmatch(c) else "w")
    return text.translate(_CLASSES)


def pretoken_spans(text):
    """`(start, end)` character spans of the WordPiece pre-tokens of `text`.

    The same split as keras-hub's `pretokenize` (whitespace dropped;
    punctuation and CJK characters kept as pre-tokens of their own). Every
    alternative of its split pattern matches one character, so characters
    are classified once (cached) and runs found on the class string.

    Examples:

    >>> pretoken_spans("我爱 NBA。")
    [(0, 1), (1, 2), (3, 6), (6, 7)]
    """
    return [m.span() for m in _RUNS.finditer(_classes(text))]


def align(spans, starts):
    """Which spans start a word, and how many fell back to span level.

    Args:
        spans: ascending `(start, end)` offsets of the units (pre-tokens or
            pieces).
        starts: ascending offsets where the segmenter's words start.

    Returns:
        `(flags, fallbacks)`: a list of bools, one per span, and the number
        of spans a word boundary fell inside of. Such a span, and the one
        after it, start words of their own.

    Examples:

    >>> align([(0, 1), (1, 2), (2, 3)], [0, 2])
    ([True, False, True], 0)
    >>> align([(0, 3), (3, 4)], [0, 2, 3])
    ([True, True], 1)
    """
    flags, fallbacks, k, previous_crossed = [], 0, 0, False
    for start, end in spans:
        while k < len(starts) and starts[k] < start:
            k += 1
        is_start = k < len(starts) and starts[k] == start
        j = k + 1 if is_start else k
        crossed = j < len(starts) and starts[j] < end
        if crossed:
            fallbacks += 1
        flags.append(is_start or crossed or previous_crossed)
        previous_crossed = crossed
    return flags, fallbacks


def _piece_counts(tokenizer, pretokens):
    """WordPiece pieces per distinct multi-character pre-token."""
    from keras_objectives.data.tokenizer import tokenize_documents

    distinct = sorted(set(pretokens))
    if not distinct:
        return {}
    ids = tokenize_documents(tokenizer, distinct, cache_dir=False)
    return {word: len(t) for word, t in zip(distinct, ids, strict=True)}


def _wordpiece_flags(tokenizer, documents, token_ids, segmenter):
    """Per-document flag arrays and counts, for a WordPiece tokenizer."""
    from keras_objectives.data.segmentation import segment

    spans = [pretoken_spans(d) for d in documents]
    # A CJK character is one token (itself or `[UNK]`); anything else may
    # become several after normalization (NFKC makes `…` three dots).
    others = {d[s:e] for d, doc_spans in zip(documents, spans, strict=True)
              for s, e in doc_spans if e - s > 1 or not _CJK.match(d[s])}
    counts = _piece_counts(tokenizer, others)
    out, fallbacks, misaligned = [], 0, 0
    for text, doc_spans, ids in zip(documents, spans, token_ids,
                                    strict=True):
        flags, crossed = align(doc_spans, segment(segmenter, text))
        pieces = [counts.get(text[s:e], 1) for s, e in doc_spans]
        if sum(pieces) != len(ids):  # Never seen; token level, counted.
            misaligned += 1
            fallbacks += len(ids)
            out.append(np.ones(len(ids), bool))
            continue
        fallbacks += crossed
        row = np.zeros(len(ids), bool)
        first_pieces = np.cumsum([0] + pieces)[:-1].astype(np.int64)
        row[first_pieces[np.array(flags, bool)]] = True
        out.append(row)
    return out, fallbacks, misaligned


def _sentencepiece_flags(tokenizer, documents, token_ids, segmenter):
    """Per-document flags for a SentencePiece tokenizer (byte offsets)."""
    import tensorflow_text as tf_text

    from keras_objectives.data.segmentation import segment

    model = tf_text.SentencepieceTokenizer(model=tokenizer.proto)
    out, fallbacks, misaligned = [], 0, 0
    for text, ids in zip(documents, token_ids, strict=True):
        pieces, begin, end = model.tokenize_with_offsets(text)
        begin, end = begin.numpy().tolist(), end.numpy().tolist()
        byte_of = np.cumsum([0] + [len(c.encode("utf-8")) for c in text])
        starts = [int(byte_of[s]) for s in segment(segmenter, text)]
        flags, crossed = align(list(zip(begin, end, strict=True)), starts)
        if len(flags) != len(ids):
            misaligned += 1
            fallbacks += len(ids)
            out.append(np.ones(len(ids), bool))
            continue
        fallbacks += crossed
        out.append(np.array(flags, bool))
    return out, fallbacks, misaligned


def _key(tokenizer, documents, segmenter):
    from keras_objectives.data.tokenizer import tokens_key

    header = {"format": WORDS_FORMAT, "segmenter": segmenter.get_config(),
              "tokens": tokens_key(tokenizer, documents)}
    return _cache.content_hash(header, documents)


def word_starts(tokenizer, documents, token_ids, segmenter, cache_dir=None):
    """Per-token word starts of every document, and alignment stats.

    Args:
        tokenizer: the corpus tokenizer (WordPiece, or SentencePiece with a
            `proto`).
        documents: list of str.
        token_ids: the documents' token ids (from `tokenize_documents`).
        segmenter: a `Segmenter`.
        cache_dir: as `tokenize_documents`.

    Returns:
        `(starts, stats)`: a list of bool arrays aligned with `token_ids`,
        and a dict with `segmenter`, `words`, `fallbacks` (spans that fell
        back to token-level boundaries), `misaligned_documents`, `seconds`
        (of the segmentation and alignment, when it ran now) and
        `seconds_per_mb`.
    """
    lengths = np.array([len(t) for t in token_ids], np.int64)
    path = _cache.cache_path(cache_dir, "words",
                             _key(tokenizer, documents, segmenter), ".npz")
    if path is not None and os.path.exists(path):
        with np.load(path) as data:
            flat, numbers = data["flat"], data["numbers"]
        seconds = float(numbers[2])
        fallbacks, misaligned = int(numbers[0]), int(numbers[1])
    else:
        start = time.perf_counter()
        flags = (_sentencepiece_flags if hasattr(tokenizer, "proto")
                 else _wordpiece_flags)
        rows, fallbacks, misaligned = flags(tokenizer, documents, token_ids,
                                            segmenter)
        seconds = time.perf_counter() - start
        flat = np.concatenate(rows) if rows else np.zeros([0], bool)
        numbers = np.array([fallbacks, misaligned, seconds], np.float64)
        if path is not None:
            _cache.atomic_write_bytes(
                path, lambda f: np.savez(f, flat=flat, numbers=numbers))
    starts = np.split(flat, np.cumsum(lengths)[:-1]) if len(lengths) else []
    megabytes = sum(len(d.encode("utf-8")) for d in documents) / 1e6
    return starts, {
        "segmenter": segmenter.name,
        "words": int(flat.sum()),
        "fallbacks": fallbacks,
        "misaligned_documents": misaligned,
        "seconds": round(seconds, 3),
        "seconds_per_mb": round(seconds / max(megabytes, 1e-9), 3),
    }
