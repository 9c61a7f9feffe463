"""Pre-tokenized data: packed rows as TFRecord shards, read back to memory.

`write_shards` writes the packed rows of the train and validation splits
(`token_ids`, `padding_mask`, `document_ids`: one `tf.train.Example` of
int64 lists per row) so that TPU hosts read token ids and never tokenize.
`read_packed` (`tfrecord_read.py`, with the format's constants) loads one
split back into the dict of `[rows, length]` arrays that `make_dataset`
consumes, bit for bit; `load_pretokenized`
(`pretokenized.py`) wraps a whole directory in the interface of `Corpus`.
A directory holds

    train-00000-of-00008.tfrecord ...   rows 0.. of the train split, in order
    validation-00000-of-00001.tfrecord
    vocabulary.txt                       one token per line
    metadata.json                        written last

`metadata.json` (format version, row length, vocabulary size and hash,
special token ids, rows, shard files and a content hash per split) is
written last and atomically, and deleted first when a directory is
overwritten, so a directory without it is incomplete and is never read.
Every file goes through `tf.io.gfile`, so `gs://bucket/dir` works as a path.
"""

import hashlib
import json
import uuid

import numpy as np
import tensorflow as tf

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.data.special_tokens import SpecialTokens
from keras_objectives.data.tfrecord_read import DTYPES
from keras_objectives.data.tfrecord_read import FEATURES
from keras_objectives.data.tfrecord_read import FORMAT
from keras_objectives.data.tfrecord_read import FORMAT_VERSION
from keras_objectives.data.tfrecord_read import METADATA
from keras_objectives.data.tfrecord_read import SPLITS
from keras_objectives.data.tfrecord_read import VOCABULARY
from keras_objectives.data.tfrecord_read import check_directory
from keras_objectives.data.tfrecord_read import check_metadata  # noqa: F401
from keras_objectives.data.tfrecord_read import content_hash
from keras_objectives.data.tfrecord_read import read_metadata  # noqa: F401
from keras_objectives.data.tfrecord_read import read_packed  # noqa: F401
from keras_objectives.data.tfrecord_read import vocabulary_hash
from keras_objectives.utils import check_int
from keras_objectives.utils import check_writable_dir
from keras_objectives.version import __version__


def check_output(output_dir, overwrite=False):
    """Raise if `output_dir` holds pretokenized data and not `overwrite`.

    Returns the path of its `metadata.json`.
    """
    output_dir = check_directory(output_dir)
    if tf.io.gfile.exists(output_dir) and not tf.io.gfile.isdir(output_dir):
        raise ValueError(
            "Invalid value received for argument `output`. Expected a "
            f"directory. Received: output={output_dir!r}, which is a file. "
            "Choose a directory path (a new one is created)."
        )
    if "://" not in output_dir:
        check_writable_dir("output", output_dir)
    metadata_path = tf.io.gfile.join(output_dir, METADATA)
    if not overwrite and tf.io.gfile.exists(metadata_path):
        raise ValueError(
            f"The directory {output_dir!r} already holds pretokenized "
            "data. Pass `overwrite=True` (`--overwrite`) to replace it, "
            "or choose another directory."
        )
    return metadata_path


def _as_packed(packed, length, split):
    """Check one split's dict and return it with the pipeline's dtypes."""
    if not isinstance(packed, dict) or not set(FEATURES) <= set(packed):
        raise ValueError(
            "Invalid value received for argument `corpus_or_packed`. "
            f"Expected, for the {split!r} split, a dict with {FEATURES} as "
            "returned by `keras_objectives.data.pack`. Received: "
            f"{type(packed).__name__} with keys {sorted(packed or {})}."
        )
    out = {k: np.asarray(packed[k]).astype(DTYPES[k]) for k in FEATURES}
    for name, array in out.items():
        if array.ndim != 2 or array.shape[1] != length:
            raise ValueError(
                "Invalid value received for argument `sequence_length`. "
                f"Expected the length of the packed rows. Received: "
                f"sequence_length={length}, but the {split!r} split's "
                f"`{name}` has shape {array.shape}."
            )
    return out


def _example(token_ids, padding_mask, document_ids):
    def ints(row):
        return tf.train.Feature(int64_list=tf.train.Int64List(value=row))

    return tf.train.Example(features=tf.train.Features(feature={
        "token_ids": ints(token_ids.tolist()),
        "padding_mask": ints(padding_mask.astype(np.int64).tolist()),
        "document_ids": ints(document_ids.tolist()),
    })).SerializeToString()


def _write_split(packed, output_dir, split, rows_per_shard):
    rows = len(packed["token_ids"])
    num = -(-rows // rows_per_shard)
    files = []
    for shard in range(num):
        name = f"{split}-{shard:05d}-of-{num:05d}.tfrecord"
        files.append(name)
        lo, hi = shard * rows_per_shard, min(rows, (shard + 1) * rows_per_shard)
        with tf.io.TFRecordWriter(tf.io.gfile.join(output_dir, name)) as writer:
            for i in range(lo, hi):
                writer.write(_example(*(packed[k][i] for k in FEATURES)))
    return files


def _write_text(path, text):
    """Write `text` to `path` atomically: a temporary object, then rename."""
    tmp = f"{path}.tmp-{uuid.uuid4().hex}"
    with tf.io.gfile.GFile(tmp, "w") as f:
        f.write(text)
    tf.io.gfile.rename(tmp, path, overwrite=True)


def _rows_of(corpus_or_packed, length, vocabulary, lowercase, stats):
    """`(packed, vocabulary, lowercase, stats, source)` of either input."""
    if hasattr(corpus_or_packed, "pack"):
        corpus = corpus_or_packed
        packed = {s: corpus.pack(s, length) for s in SPLITS}
        if lowercase is None:
            lowercase = getattr(getattr(corpus, "tokenizer", None),
                                "lowercase", None)
        return (packed, list(corpus.vocabulary), lowercase,
                stats or getattr(corpus, "stats", None),
                getattr(corpus, "source", ""))
    if isinstance(corpus_or_packed, dict) and set(corpus_or_packed) == set(
            SPLITS):
        if vocabulary is None:
            raise ValueError(
                "Invalid value received for argument `vocabulary`. Expected "
                "the list of tokens the packed rows were tokenized with. "
                "Received: vocabulary=None"
            )
        return corpus_or_packed, list(vocabulary), lowercase, stats, ""
    raise ValueError(
        "Invalid value received for argument `corpus_or_packed`. "
        "Expected a `Corpus` or a dict {'train': packed, 'validation': "
        "packed}. Received: "
        f"{type(corpus_or_packed).__name__}"
        + (f" with keys {sorted(corpus_or_packed)}"
           if isinstance(corpus_or_packed, dict) else "")
    )


def _clear(output_dir, metadata_path):
    """Remove old metadata first (incomplete until rewritten), then shards."""
    if tf.io.gfile.exists(metadata_path):
        tf.io.gfile.remove(metadata_path)
        for split in SPLITS:
            pattern = tf.io.gfile.join(output_dir, f"{split}-*.tfrecord")
            for name in tf.io.gfile.glob(pattern):
                tf.io.gfile.remove(name)
    tf.io.gfile.makedirs(output_dir)


@keras_objectives_export("keras_objectives.data.write_shards")
def write_shards(
    corpus_or_packed,
    output_dir,
    sequence_length,
    num_shards=8,
    vocabulary=None,
    lowercase=None,
    stats=None,
    settings=None,
    overwrite=False,
):
    """Write the packed train and validation rows as TFRecord shards.

    Args:
        corpus_or_packed: a `Corpus` (or anything with `pack(split,
            length)` and `vocabulary`, such as a `PretokenizedCorpus`),
            packed here at `sequence_length`; or a dict
            `{"train": packed, "validation": packed}` of `pack` outputs,
            with `vocabulary` given.
        output_dir: a local path or `gs://bucket/dir`; created if needed.
        sequence_length: int, the row length (`objective.raw_length`).
        num_shards: int, the number of train shards; the validation split
            gets shards of the same size (at least one if it has rows).
        vocabulary: list of tokens, for a packed dict (a corpus brings its
            own).
        lowercase: bool, how the text was tokenized (default: read from the
            corpus's tokenizer, else True).
        stats: `{"train": {...}, "validation": {...}}`, default the
            corpus's stats (or `{"rows": N}` per split).
        settings: an optional JSON dict recorded as is (the recipe's data
            config and objective, for example).
        overwrite: bool. If False, a directory that already holds
            pretokenized data is an error.

    Returns:
        The metadata dict written to `metadata.json`.

    Examples:

    >>> import tempfile
    >>> from keras_objectives.data.packing import pack
    >>> from keras_objectives.data.special_tokens import reserved_tokens
    >>> rows = pack([[111, 112], [112]], length=4, eos_id=3, pad_id=0)
    >>> folder = tempfile.mkdtemp()
    >>> meta = write_shards({"train": rows, "validation": rows}, folder, 4,
    ...                     num_shards=1,
    ...                     vocabulary=reserved_tokens() + ["a", "b"])
    >>> meta["splits"]["train"]["rows"], meta["splits"]["train"]["files"]
    (2, ['train-00000-of-00001.tfrecord'])
    >>> read_packed(folder, "train")["token_ids"].tolist()
    [[111, 112, 3, 112], [3, 0, 0, 0]]
    """
    output_dir = check_directory(output_dir)
    length = check_int("sequence_length", sequence_length, minimum=2)
    num_shards = check_int("num_shards", num_shards, minimum=1)
    packed, vocabulary, lowercase, stats, source = _rows_of(
        corpus_or_packed, length, vocabulary, lowercase, stats)
    packed = {s: _as_packed(packed[s], length, s) for s in SPLITS}
    special = SpecialTokens.from_vocabulary(vocabulary)
    if special.pad_id is None or special.eos_id is None:
        raise ValueError(
            "Invalid value received for argument `vocabulary`. Expected a "
            "vocabulary with [PAD] and [SEP] (packing needs both). Received "
            f"{len(vocabulary)} tokens without them."
        )

    metadata_path = check_output(output_dir, overwrite)
    _clear(output_dir, metadata_path)
    rows_per_shard = max(1, -(-len(packed["train"]["token_ids"]) // num_shards))
    splits = {}
    for split in SPLITS:
        rows = len(packed[split]["token_ids"])
        splits[split] = {
            "rows": rows,
            "real_tokens": int(packed[split]["padding_mask"].sum()),
            "files": _write_split(packed[split], output_dir, split,
                                  rows_per_shard),
            "content_hash": content_hash(packed[split]),
            "stats": (stats or {}).get(split) or {"rows": rows},
        }
    _write_text(tf.io.gfile.join(output_dir, VOCABULARY),
                "".join(t + "\n" for t in vocabulary))
    metadata = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "sequence_length": length,
        "vocabulary_size": len(vocabulary),
        "vocabulary_file": VOCABULARY,
        "vocabulary_hash": vocabulary_hash(vocabulary),
        "lowercase": True if lowercase is None else bool(lowercase),
        "special_tokens": special.get_config(),
        "source": str(source),
        "splits": splits,
        "content_hash": hashlib.sha256(json.dumps(
            [length, vocabulary_hash(vocabulary)]
            + [splits[s]["content_hash"] for s in SPLITS]
        ).encode()).hexdigest()[:24],
        "settings": settings or {},
        "keras_objectives_version": __version__,
    }
    _write_text(metadata_path, json.dumps(metadata, indent=1) + "\n")
    return metadata
