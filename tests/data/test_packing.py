import numpy as np
import pytest
import tensorflow as tf

from keras_objectives.data.packing import pack
from keras_objectives.data.packing import unpack

EOS, PAD = 3, 0


def _random_documents(seed, num_docs=40, max_len=50):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0, max_len, size=num_docs)
    lengths[5] = 3 * max_len  # one document longer than several rows
    lengths[7] = 0  # an empty document
    return [rng.integers(111, 500, size=n).astype(np.int32) for n in lengths]


def _reference_document_ids(docs, length):
    """Straightforward Python version of the document_ids rule."""
    stream_doc = []
    for d, doc in enumerate(docs):
        stream_doc += [d] * (len(doc) + 1)
    rows = []
    for start in range(0, len(stream_doc), length):
        row = stream_doc[start:start + length]
        row += [len(docs)] * (length - len(row))  # padding: after last EOS
        rows.append([x - row[0] for x in row])
    return np.array(rows)


@pytest.mark.parametrize("length", [2, 7, 64, 10_000])
def test_round_trip_no_token_lost(length):
    docs = _random_documents(length)
    packed = pack(docs, length, eos_id=EOS, pad_id=PAD)
    total = sum(len(d) for d in docs) + len(docs)
    n = -(-total // length)
    assert packed["token_ids"].shape == (n, length)
    assert packed["token_ids"].dtype == np.int32
    assert packed["padding_mask"].dtype == bool
    assert packed["document_ids"].dtype == np.int32
    assert packed["padding_mask"].sum() == total
    # Padding only at the end, by position.
    flat_mask = packed["padding_mask"].reshape(-1)
    np.testing.assert_array_equal(flat_mask, np.arange(n * length) < total)
    assert np.all(packed["token_ids"].reshape(-1)[~flat_mask] == PAD)
    assert (packed["token_ids"] == EOS).sum() == len(docs)
    rebuilt = unpack(packed, eos_id=EOS)
    assert len(rebuilt) == len(docs)
    for a, b in zip(rebuilt, docs, strict=False):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("length", [2, 5, 16])
def test_document_ids(length):
    docs = _random_documents(1, num_docs=12, max_len=9)
    packed = pack(docs, length, eos_id=EOS, pad_id=PAD)
    np.testing.assert_array_equal(
        packed["document_ids"], _reference_document_ids(docs, length)
    )
    ids, tokens = packed["document_ids"], packed["token_ids"]
    assert np.all(ids[:, 0] == 0)
    # Ids step by one exactly after each EOS (the EOS keeps its document).
    steps = np.diff(ids, axis=1)
    after_eos = tokens[:, :-1] == EOS
    np.testing.assert_array_equal(steps, after_eos.astype(np.int32))


def test_golden_small_example():
    packed = pack([[7, 8, 9], [5], [], [6, 6]], length=3, eos_id=EOS,
                  pad_id=PAD)
    assert packed["token_ids"].tolist() == [
        [7, 8, 9], [3, 5, 3], [3, 6, 6], [3, 0, 0]
    ]
    assert packed["document_ids"].tolist() == [
        [0, 0, 0], [0, 1, 1], [0, 1, 1], [0, 1, 1]
    ]
    assert packed["padding_mask"].tolist() == [
        [True] * 3, [True] * 3, [True] * 3, [True, False, False]
    ]


def test_drop_remainder_and_pad_equal_to_eos():
    docs = [[11, 12, 13], [14, 15]]
    dropped = pack(docs, 4, eos_id=EOS, pad_id=PAD, drop_remainder=True)
    assert dropped["token_ids"].tolist() == [[11, 12, 13, 3]]
    assert dropped["padding_mask"].all()
    exact = pack([[11, 12, 13]], 4, eos_id=EOS, pad_id=PAD,
                 drop_remainder=True)
    assert exact["token_ids"].tolist() == [[11, 12, 13, 3]]
    # The padding mask is positional, so pad_id may equal eos_id.
    same = pack(docs, 4, eos_id=EOS, pad_id=EOS)
    assert same["token_ids"].tolist() == [[11, 12, 13, 3], [14, 15, 3, 3]]
    assert same["padding_mask"].tolist()[1] == [True, True, True, False]
    assert [d.tolist() for d in unpack(same, EOS)] == docs


def test_ragged_input_and_empty_corpus():
    ragged = tf.ragged.constant([[11, 12], [13]])
    packed = pack(ragged, 4, eos_id=EOS, pad_id=PAD)
    assert packed["token_ids"].tolist() == [[11, 12, 3, 13], [3, 0, 0, 0]]
    empty = pack([], 4, eos_id=EOS, pad_id=PAD)
    assert empty["token_ids"].shape == (0, 4)


def test_errors():
    with pytest.raises(ValueError, match="length.*>= 2.*length=1"):
        pack([[11]], 1, eos_id=EOS, pad_id=PAD)
    with pytest.raises(ValueError, match="eos_id=3.*document 1"):
        pack([[11, 12], [13, 3, 14]], 4, eos_id=EOS, pad_id=PAD)
    with pytest.raises(ValueError, match="index 1.*shape \\(1, 2\\)"):
        pack([[11], [[12, 13]]], 4, eos_id=EOS, pad_id=PAD)
    with pytest.raises(ValueError, match="dtype float"):
        pack([[1.5]], 4, eos_id=EOS, pad_id=PAD)
    with pytest.raises(ValueError, match="non-negative"):
        pack([[-1, 11]], 4, eos_id=EOS, pad_id=PAD)
    with pytest.raises(ValueError, match="eos_id"):
        pack([[11]], 4, eos_id=-1, pad_id=PAD)
