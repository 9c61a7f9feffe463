"""Pre-tokenized data: the shard format, and reading it back to memory.

The format `tfrecord.write_shards` writes (see `tfrecord`): its constants,
the content hashes, `read_metadata`/`check_metadata` and `read_packed`,
which loads one split back into the dict of `[rows, length]` arrays that
`make_dataset` consumes, bit for bit. Every file goes through
`tf.io.gfile`, so `gs://bucket/dir` works as a path.
"""

import hashlib
import json
import os

import numpy as np
import tensorflow as tf

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.utils import check_choice
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
