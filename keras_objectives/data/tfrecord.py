"""Pre-tokenized data: packed rows as TFRecord shards, read back to memory.

`write_shards` writes the packed rows of the train and validation splits
(`token_ids`, `padding_mask`, `document_ids`: one `tf.train.Example` of
int64 lists per row) so that TPU hosts read token ids and never tokenize.
`read_packed` loads one split back into the dict of `[rows, length]` arrays
that `make_dataset` consumes, bit for bit; `load_pretokenized`
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
import os
import uuid

import numpy as np
import tensorflow as tf

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.data.special_tokens import SpecialTokens
from keras_objectives.utils import check_choice
from keras_objectives.utils import check_int
from keras_objectives.version import __version__

FORMAT = "keras_objectives.pretokenized"
FORMAT_VERSION = 1
METADATA = "metadata.json"
VOCABULARY = "vocabulary.txt"
SPLITS = ("train", "validation")
FEATURES = ("token_ids", "padding_mask", "document_ids")
DTYPES = {"token_ids": np.int32, "padding_mask": bool,
          "document_ids": np.int32}


def check_directory(path):
    path = os.fspath(path)
    if "YOUR_BUCKET" in path:
        raise ValueError(
            f"The data path {path!r} still holds the placeholder "
            "YOUR_BUCKET. Use your bucket, for example "
            "`--config.data.pretokenized=gs://my-bucket/ko/data/NAME`."
        )
    return path


def check_output(output_dir, overwrite=False):
    """Raise if `output_dir` holds pretokenized data and not `overwrite`.

    Returns the path of its `metadata.json`.
    """
    output_dir = check_directory(output_dir)
    metadata_path = tf.io.gfile.join(output_dir, METADATA)
    if not overwrite and tf.io.gfile.exists(metadata_path):
        raise ValueError(
            f"The directory {output_dir!r} already holds pretokenized "
            "data. Pass `overwrite=True` (`--overwrite`) to replace it, "
            "or choose another directory."
        )
    return metadata_path


def content_hash(packed):
    """A hex sha256 of the features, dtypes, shapes and bytes of a split."""
    h = hashlib.sha256()
    for name in FEATURES:
        array = np.ascontiguousarray(packed[name], DTYPES[name])
        h.update(f"{name}:{array.dtype.str}:{array.shape};".encode())
        h.update(array.tobytes())
    return h.hexdigest()[:24]


def vocabulary_hash(vocabulary):
    return hashlib.sha256(
        "".join(t + "\n" for t in vocabulary).encode("utf-8")
    ).hexdigest()[:24]


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
    if hasattr(corpus_or_packed, "pack"):
        corpus = corpus_or_packed
        packed = {s: corpus.pack(s, length) for s in SPLITS}
        vocabulary = list(corpus.vocabulary)
        stats = stats or getattr(corpus, "stats", None)
        if lowercase is None:
            lowercase = getattr(getattr(corpus, "tokenizer", None),
                                "lowercase", None)
        source = getattr(corpus, "source", "")
    elif isinstance(corpus_or_packed, dict) and set(corpus_or_packed) == set(
            SPLITS):
        if vocabulary is None:
            raise ValueError(
                "Invalid value received for argument `vocabulary`. Expected "
                "the list of tokens the packed rows were tokenized with. "
                "Received: vocabulary=None"
            )
        packed, vocabulary, source = corpus_or_packed, list(vocabulary), ""
    else:
        raise ValueError(
            "Invalid value received for argument `corpus_or_packed`. "
            "Expected a `Corpus` or a dict {'train': packed, 'validation': "
            "packed}. Received: "
            f"{type(corpus_or_packed).__name__}"
            + (f" with keys {sorted(corpus_or_packed)}"
               if isinstance(corpus_or_packed, dict) else "")
        )
    packed = {s: _as_packed(packed[s], length, s) for s in SPLITS}
    special = SpecialTokens.from_vocabulary(vocabulary)
    if special.pad_id is None or special.eos_id is None:
        raise ValueError(
            "Invalid value received for argument `vocabulary`. Expected a "
            "vocabulary with [PAD] and [SEP] (packing needs both). Received "
            f"{len(vocabulary)} tokens without them."
        )

    metadata_path = check_output(output_dir, overwrite)
    if tf.io.gfile.exists(metadata_path):
        tf.io.gfile.remove(metadata_path)  # Incomplete until rewritten.
        for split in SPLITS:  # Then no shard of the old data is left.
            pattern = tf.io.gfile.join(output_dir, f"{split}-*.tfrecord")
            for name in tf.io.gfile.glob(pattern):
                tf.io.gfile.remove(name)
    tf.io.gfile.makedirs(output_dir)
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


@keras_objectives_export("keras_objectives.data.read_metadata")
def read_metadata(path):
    """The `metadata.json` of a pretokenized directory, checked.

    Raises:
        FileNotFoundError: `path` does not exist.
        ValueError: it has no `metadata.json` (not pretokenized data, or
            writing did not finish), or another format or a newer version.
    """
    path = check_directory(path)
    if not tf.io.gfile.isdir(path):
        raise FileNotFoundError(
            f"The pretokenized data directory {path!r} does not exist. "
            "Write it with `keras-objectives pretokenize RECIPE --output "
            f"{path}`."
        )
    metadata_path = tf.io.gfile.join(path, METADATA)
    if not tf.io.gfile.exists(metadata_path):
        shards = tf.io.gfile.glob(tf.io.gfile.join(path, "*.tfrecord"))
        state = (f"has {len(shards)} shard files but no {METADATA}: "
                 "writing did not finish (the metadata is written last)"
                 if shards else f"has no {METADATA}")
        raise ValueError(
            f"The pretokenized data directory {path!r} {state}. Run "
            "`keras-objectives pretokenize RECIPE --output "
            f"{path}` again."
        )
    with tf.io.gfile.GFile(metadata_path, "r") as f:
        metadata = json.loads(f.read())
    if metadata.get("format") != FORMAT:
        raise ValueError(
            f"{metadata_path!r} is not keras_objectives pretokenized data "
            f"(format {metadata.get('format')!r}, expected {FORMAT!r})."
        )
    if metadata.get("version", 0) > FORMAT_VERSION:
        raise ValueError(
            f"{path!r} was written in pretokenized format version "
            f"{metadata['version']} by keras_objectives "
            f"{metadata.get('keras_objectives_version')}; this version "
            f"({__version__}) reads up to {FORMAT_VERSION}. Upgrade "
            "keras_objectives or pretokenize again."
        )
    return metadata


def check_metadata(metadata, path, sequence_length=None,
                   vocabulary_size=None):
    """Raise if the shards were written for another length or vocabulary."""
    length = metadata["sequence_length"]
    if sequence_length is not None and sequence_length != length:
        raise ValueError(
            "Invalid value received for argument `sequence_length`. "
            f"Expected {length}, the row length of the pretokenized data "
            f"in {path!r}. Received: sequence_length={sequence_length}. The "
            "objective needs rows of `objective.raw_length` tokens: run "
            "`keras-objectives pretokenize` with this recipe and objective "
            "into another directory."
        )
    settings = metadata.get("settings", {}).get("data", {})
    sizes = {metadata["vocabulary_size"], settings.get("vocabulary_size")}
    if vocabulary_size is not None and vocabulary_size not in sizes:
        requested = settings.get("vocabulary_size")
        raise ValueError(
            "Invalid value received for argument `vocabulary_size`. "
            f"Expected the vocabulary of the pretokenized data in {path!r}: "
            f"{metadata['vocabulary_size']} tokens"
            + (f" (trained for vocabulary_size={requested})"
               if requested else "")
            + f". Received: vocabulary_size={vocabulary_size}. Set "
            "`data.vocabulary_size` to match, or pretokenize again."
        )


def _parse(length):
    spec = {k: tf.io.FixedLenFeature([length], tf.int64) for k in FEATURES}

    def parse(serialized):
        rows = tf.io.parse_example(serialized, spec)
        return {
            "token_ids": tf.cast(rows["token_ids"], tf.int32),
            "padding_mask": tf.cast(rows["padding_mask"], tf.bool),
            "document_ids": tf.cast(rows["document_ids"], tf.int32),
        }

    return parse


@keras_objectives_export("keras_objectives.data.read_packed")
def read_packed(path, split="train", sequence_length=None,
                vocabulary_size=None, verify=True):
    """Load one split of a pretokenized directory into memory.

    Args:
        path: the directory `write_shards` wrote (local or `gs://`).
        split: `"train"` or `"validation"`.
        sequence_length: int or `None`; if given, the rows must have this
            length (the objective's `raw_length`).
        vocabulary_size: int or `None`; if given, the data must have been
            tokenized with a vocabulary of this size (the actual size or the
            `vocabulary_size` it was trained for).
        verify: bool, check the rows against the content hash.

    Returns:
        The dict `pack` returns: `token_ids` `[N, length]` int32,
        `padding_mask` bool and `document_ids` int32, ready for
        `make_dataset`.

    Raises:
        FileNotFoundError, ValueError: a missing or half-written directory,
            a missing shard, a length or vocabulary size mismatch, or rows
            that do not match the content hash.
    """
    split = check_choice("split", split, SPLITS)
    path = check_directory(path)
    metadata = read_metadata(path)
    check_metadata(metadata, path, sequence_length, vocabulary_size)
    length, info = metadata["sequence_length"], metadata["splits"][split]
    files = [tf.io.gfile.join(path, name) for name in info["files"]]
    for name in files:
        if not tf.io.gfile.exists(name):
            raise ValueError(
                f"The pretokenized data in {path!r} is incomplete: the "
                f"shard {name!r} listed in {METADATA} is missing. Copy the "
                "whole directory, or pretokenize again."
            )
    parts = {k: [np.zeros([0, length], DTYPES[k])] for k in FEATURES}
    if files:
        dataset = (
            tf.data.TFRecordDataset(files, buffer_size=8 << 20)
            .batch(4096)
            .map(_parse(length), num_parallel_calls=tf.data.AUTOTUNE,
                 deterministic=True)
            .prefetch(tf.data.AUTOTUNE)
        )
        for batch in dataset:
            for k in FEATURES:
                parts[k].append(batch[k].numpy())
    packed = {k: np.concatenate(v) for k, v in parts.items()}
    if len(packed["token_ids"]) != info["rows"]:
        raise ValueError(
            f"The {split!r} shards in {path!r} hold "
            f"{len(packed['token_ids'])} rows; {METADATA} says "
            f"{info['rows']}. The directory was modified after it was "
            "written: pretokenize again."
        )
    if verify and content_hash(packed) != info["content_hash"]:
        raise ValueError(
            f"The {split!r} shards in {path!r} do not match the content "
            f"hash in {METADATA}: they were modified or partly overwritten "
            "after it was written. Pretokenize again."
        )
    return packed
