"""What one comparison computes once and reuses: token ids and features.

* `tokenize_cached`: a task's token ids, keyed by the content of its texts
  and by the tokenizer (settings and vocabulary), in this process and on
  disk (`<cache root>/tokens/`, the files of
  `keras_objectives.data.tokenize_documents`).
* `shared_features()`: while it is open (the harness opens it for each
  checkpoint), pooled features of the same rows read by the same model
  are computed once, e.g. for book and author attribution, which read the
  same passages. Outside it nothing is memoized, so a model whose weights
  change between two calls is always read afresh.
"""

import contextlib
import hashlib
import os

import numpy as np

_ROWS = {}  # Token ids per content key, for this process.
_ROWS_KEPT = 16


def tokenize_cached(tokenizer, texts, cache_dir=None):
    """`tokenize`, memoized in the process and on disk by content.

    The key is `keras_objectives.data.tokens_key`: a hash of the texts and
    of the tokenizer (its settings and vocabulary), so a task is tokenized
    once per comparison, a changed task file or vocabulary is a new entry
    and a stale one is never returned. Entries are the files of
    `keras_objectives.data.tokenize_documents` (`<cache root>/tokens/`,
    same key, same layout), written atomically. A tokenizer without a
    vocabulary (any callable) or with a fixed `sequence_length` is called
    directly.

    Args:
        tokenizer: as `tokenize`.
        texts: list of str.
        cache_dir: the cache root; `None` is the default cache, `False`
            keeps the ids in this process only.

    Returns:
        A list of lists of ints, one per text.
    """
    from keras_objectives.data import _cache
    from keras_objectives.data.tokenizer import read_token_cache
    from keras_objectives.data.tokenizer import tokens_key
    from keras_objectives.data.tokenizer import write_token_cache
    from keras_objectives.evaluation.common import tokenize

    texts = [str(t) for t in texts]
    if (not texts or not hasattr(tokenizer, "get_vocabulary")
            or getattr(tokenizer, "sequence_length", None) is not None):
        return tokenize(tokenizer, texts)
    key = tokens_key(tokenizer, texts)
    path = _cache.cache_path(cache_dir, "tokens", key, ".npz")
    if key not in _ROWS:
        while len(_ROWS) >= _ROWS_KEPT:
            _ROWS.pop(next(iter(_ROWS)))
        _ROWS[key] = ([row.tolist() for row in read_token_cache(path)]
                      if path and os.path.exists(path) else None)
    if _ROWS[key] is None:
        rows = tokenize(tokenizer, texts)
        lengths = np.array([len(r) for r in rows], np.int64)
        flat = np.array([i for r in rows for i in r], np.int32)
        if path is not None:
            write_token_cache(path, flat, lengths)
        _ROWS[key] = rows
    return [list(row) for row in _ROWS[key]]


_MEMO = []  # One dict per open `shared_features()`.


@contextlib.contextmanager
def shared_features():
    """Memoize features for the evaluations of one checkpoint.

    >>> with shared_features():
    ...     first = memoized("k", lambda: [1])
    ...     first is memoized("k", lambda: [2])
    True
    >>> memoized("k", lambda: [2])
    [2]
    """
    _MEMO.append({})
    try:
        yield
    finally:
        _MEMO.pop()


def memoized(key, factory):
    """`factory()`, once per `key` inside `shared_features()`."""
    if not _MEMO:
        return factory()
    memo = _MEMO[-1]
    if key not in memo:
        memo[key] = factory()
    return memo[key]


def array_digest(*arrays):
    """A sha256 of arrays' dtypes, shapes and bytes."""
    h = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(array)
        h.update(f"{array.dtype}{array.shape}".encode())
        h.update(array.tobytes())
    return h.hexdigest()
