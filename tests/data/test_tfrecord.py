import json
import os

import numpy as np
import pytest
import tensorflow as tf

from keras_objectives.data import tfrecord
from keras_objectives.data.packing import pack
from keras_objectives.data.pipeline import make_dataset
from keras_objectives.data.prepare import prepare_corpus
from keras_objectives.data.pretokenized import load_pretokenized
from keras_objectives.data.special_tokens import reserved_tokens
from keras_objectives.data.tfrecord import read_metadata
from keras_objectives.data.tfrecord import read_packed
from keras_objectives.data.tfrecord import write_shards

LENGTH = 16


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("text")
    for i in range(6):
        (folder / f"{i}.txt").write_text(
            f"story {i}: the cat sat on the mat. the dog ran. " * (5 + i)
        )
    return prepare_corpus(str(folder), vocabulary_size=150,
                          validation_fraction=0.34, cache_dir=False)


def _assert_bitwise_equal(actual, expected):
    assert set(actual) == set(tfrecord.FEATURES)
    for name in tfrecord.FEATURES:
        assert actual[name].dtype == expected[name].dtype, name
        assert actual[name].shape == expected[name].shape, name
        assert actual[name].tobytes() == expected[name].tobytes(), name


def test_round_trip_is_bitwise_over_several_shards(corpus, tmp_path):
    out = str(tmp_path / "shards")
    meta = write_shards(corpus, out, LENGTH, num_shards=3)
    train = meta["splits"]["train"]
    assert len(train["files"]) == 3
    assert train["rows"] == len(corpus.pack("train", LENGTH)["token_ids"])
    assert sorted(os.listdir(out)) == sorted(
        train["files"] + meta["splits"]["validation"]["files"]
        + ["metadata.json", "vocabulary.txt"])
    for split in ("train", "validation"):
        _assert_bitwise_equal(read_packed(out, split, sequence_length=LENGTH),
                              corpus.pack(split, LENGTH))
    assert meta["vocabulary_size"] == corpus.vocabulary_size
    assert meta["special_tokens"] == corpus.special_tokens.get_config()
    assert read_metadata(out) == json.loads(json.dumps(meta))


def test_round_trip_through_gfile_only_filesystem(corpus):
    # ram:// is served by tf.io.gfile only, as gs:// is.
    out = "ram://keras_objectives_test/shards"
    write_shards(corpus, out, LENGTH, num_shards=2)
    _assert_bitwise_equal(read_packed(out, "train"),
                          corpus.pack("train", LENGTH))
    assert load_pretokenized(out).vocabulary == corpus.vocabulary


def test_pretokenized_corpus_has_the_corpus_interface(corpus, tmp_path):
    write_shards(corpus, str(tmp_path), LENGTH, num_shards=2)
    loaded = load_pretokenized(str(tmp_path),
                               vocabulary_size=corpus.vocabulary_size)
    assert loaded.vocabulary == corpus.vocabulary
    assert loaded.vocabulary_size == corpus.vocabulary_size
    assert loaded.special_tokens == corpus.special_tokens
    assert loaded.stats == corpus.stats
    assert loaded.source == corpus.source
    for drop in (False, True):
        _assert_bitwise_equal(
            loaded.pack("validation", LENGTH, drop_remainder=drop),
            corpus.pack("validation", LENGTH, drop_remainder=drop))
    for a, b in zip(loaded.train_documents_token_ids,
                    corpus.train_documents_token_ids, strict=True):
        assert a.tolist() == b.tolist()
    text = "the cat sat"
    assert (np.asarray(loaded.tokenizer(text)).tolist()
            == np.asarray(corpus.tokenizer(text)).tolist())
    # The pipeline gives the same batches from either.
    batches = [
        [b["token_ids"].numpy()
         for b in make_dataset(c.pack("train", LENGTH), 4, seed=3,
                               num_epochs=2)]
        for c in (corpus, loaded)
    ]
    np.testing.assert_array_equal(np.stack(batches[0]), np.stack(batches[1]))


def test_packed_dict_input():
    rows = pack([[111, 112], [112], [111] * 5], length=4, eos_id=3, pad_id=0)
    vocabulary = reserved_tokens() + ["a", "b"]
    out = "ram://keras_objectives_test/dict"
    meta = write_shards({"train": rows, "validation": rows}, out, 4,
                        vocabulary=vocabulary, settings={"note": 1})
    assert meta["settings"] == {"note": 1}
    assert meta["splits"]["train"]["stats"] == {"rows": 3}
    _assert_bitwise_equal(read_packed(out, "validation"), rows)
    with pytest.raises(ValueError, match="vocabulary=None"):
        write_shards({"train": rows, "validation": rows}, out + "2", 4)
    with pytest.raises(ValueError, match="sequence_length=5"):
        write_shards({"train": rows, "validation": rows}, out + "3", 5,
                     vocabulary=vocabulary)
    with pytest.raises(ValueError, match="corpus_or_packed"):
        write_shards({"train": rows}, out + "4", 4, vocabulary=vocabulary)


def test_missing_and_half_written_directories(corpus, tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_packed(str(tmp_path / "nowhere"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="has no metadata.json"):
        read_packed(str(tmp_path / "empty"))
    out = str(tmp_path / "half")
    write_shards(corpus, out, LENGTH, num_shards=2)
    os.remove(os.path.join(out, "metadata.json"))
    with pytest.raises(ValueError, match="4 shard files.*did not finish"):
        load_pretokenized(out)
    with pytest.raises(ValueError, match="YOUR_BUCKET"):
        read_packed("gs://YOUR_BUCKET/ko/data")


def test_overwrite_removes_the_metadata_first(corpus, tmp_path, monkeypatch):
    out = str(tmp_path)
    write_shards(corpus, out, LENGTH)
    with pytest.raises(ValueError, match="already holds.*overwrite"):
        write_shards(corpus, out, LENGTH)

    def crash(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(tfrecord, "_write_split", crash)
    with pytest.raises(KeyboardInterrupt):
        write_shards(corpus, out, 2 * LENGTH, overwrite=True)
    # The crashed rewrite left no metadata: the old one is never mixed
    # with new shards.
    with pytest.raises(ValueError, match="no metadata.json"):
        read_packed(out)
    monkeypatch.undo()
    meta = write_shards(corpus, out, 2 * LENGTH, num_shards=2,
                        overwrite=True)
    assert read_packed(out)["token_ids"].shape[1] == 2 * LENGTH
    # The eight shards of the old data are gone.
    assert sorted(n for n in os.listdir(out) if n.endswith(".tfrecord")) == (
        sorted(meta["splits"]["train"]["files"]
               + meta["splits"]["validation"]["files"]))


def test_length_and_vocabulary_mismatches(corpus, tmp_path):
    out = str(tmp_path)
    write_shards(corpus, out, LENGTH, settings={"data": {
        "vocabulary_size": 150}})
    with pytest.raises(ValueError, match=r"Expected 16, the row length.*"
                       r"sequence_length=17.*raw_length"):
        read_packed(out, sequence_length=LENGTH + 1)
    with pytest.raises(ValueError, match="sequence_length=17"):
        load_pretokenized(out).pack("train", LENGTH + 1)
    with pytest.raises(ValueError, match=r"trained for vocabulary_size=150"
                       r".*Received: vocabulary_size=8192"):
        load_pretokenized(out, vocabulary_size=8192)
    # The actual size and the requested size are both accepted.
    load_pretokenized(out, vocabulary_size=corpus.vocabulary_size)
    load_pretokenized(out, vocabulary_size=150)


def test_modified_or_missing_shards_are_detected(corpus, tmp_path):
    out = str(tmp_path)
    meta = write_shards(corpus, out, LENGTH, num_shards=2)
    first, second = (os.path.join(out, f)
                     for f in meta["splits"]["train"]["files"])
    rows = pack([[111] * 40], LENGTH, eos_id=3, pad_id=0)
    # Same row count, other content.
    count = sum(1 for _ in tf.data.TFRecordDataset(first))
    with tf.io.TFRecordWriter(first) as writer:
        for i in range(count):
            writer.write(tfrecord._example(
                *(rows[k][i % len(rows["token_ids"])]
                  for k in tfrecord.FEATURES)))
    with pytest.raises(ValueError, match="content hash"):
        read_packed(out)
    os.remove(second)
    with pytest.raises(ValueError, match="is missing"):
        read_packed(out)
    with open(os.path.join(out, "vocabulary.txt"), "a") as f:
        f.write("extra\n")
    with pytest.raises(ValueError, match="vocabulary file"):
        load_pretokenized(out)
