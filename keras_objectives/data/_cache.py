"""Content-addressed cache files for vocabularies and tokenized corpora.

The cache root is, in order: the `cache_dir` argument, the environment
variable `KERAS_OBJECTIVES_CACHE`, then `~/.cache/keras_objectives`. Each
kind of artifact lives in a subdirectory (`vocab/`, `tokens/`) under a name
that is a hash of everything that determines its content, so a stale entry
can never be returned: change the documents, the settings or the format
version and the key changes. Files are written atomically.
"""

import hashlib
import json
import os
import tempfile

ENVIRONMENT_VARIABLE = "KERAS_OBJECTIVES_CACHE"


def cache_root(cache_dir=None):
    """The cache root directory, or `None` when `cache_dir is False`."""
    if cache_dir is False:
        return None
    if cache_dir is None:
        cache_dir = os.environ.get(ENVIRONMENT_VARIABLE) or os.path.join(
            os.path.expanduser("~"), ".cache", "keras_objectives"
        )
    if not isinstance(cache_dir, (str, os.PathLike)):
        raise ValueError(
            "Invalid value received for argument `cache_dir`. Expected a "
            "directory path, `None` (the default cache) or `False` (no "
            f"cache). Received: cache_dir={cache_dir!r}"
        )
    return os.fspath(cache_dir)


def cache_path(cache_dir, kind, key, suffix):
    """`<root>/<kind>/<key><suffix>`, or `None` when caching is off."""
    root = cache_root(cache_dir)
    if root is None:
        return None
    return os.path.join(root, kind, key + suffix)


def content_hash(header, documents):
    """A hex sha256 of a JSON `header` and a sequence of strings.

    Every document is length-prefixed, so `["ab", "c"]` and `["a", "bc"]`
    hash differently.
    """
    h = hashlib.sha256()
    h.update(json.dumps(header, sort_keys=True).encode("utf-8"))
    for doc in documents:
        data = doc.encode("utf-8")
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()[:24]


def atomic_write_bytes(path, write):
    """Call `write(file_object)` on a temp file, then rename it to `path`."""
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
