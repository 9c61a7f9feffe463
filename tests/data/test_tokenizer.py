import os

import numpy as np
import pytest

from keras_objectives.data.special_tokens import reserved_tokens
from keras_objectives.data.tokenizer import make_tokenizer
from keras_objectives.data.tokenizer import tokenize_documents
from keras_objectives.data.vocabulary import save_vocabulary

WORDS = ["the", "cat", "sat", "on", "mat", "##s", ".", ",", "a", "##t"]
VOCAB = reserved_tokens() + WORDS
ID = {token: i for i, token in enumerate(VOCAB)}


def test_make_tokenizer_from_list_and_file(tmp_path):
    tokenizer = make_tokenizer(VOCAB)
    ids = tokenizer("The cats sat on the mat.").tolist()
    assert ids == [ID[t] for t in
                   ["the", "cat", "##s", "sat", "on", "the", "mat", "."]]
    # Unknown words map to [UNK]; reserved strings are not special in text.
    assert tokenizer("dog").tolist() == [1]
    assert 4 not in tokenizer("[MASK]").tolist()

    save_vocabulary(VOCAB, tmp_path / "vocab.txt")
    from_file = make_tokenizer(str(tmp_path / "vocab.txt"))
    assert from_file("the cat").tolist() == [ID["the"], ID["cat"]]

    cased = make_tokenizer(VOCAB, lowercase=False)
    assert cased("The cat").tolist() == [1, ID["cat"]]

    fixed = make_tokenizer(VOCAB, sequence_length=4)
    assert fixed("the cat").tolist() == [ID["the"], ID["cat"], 0, 0]


def test_make_tokenizer_errors():
    with pytest.raises(ValueError, match="\\[UNK\\]"):
        make_tokenizer(["[PAD]", "the"])
    with pytest.raises(ValueError, match="sequence_length"):
        make_tokenizer(VOCAB, sequence_length=0)


def test_tokenize_documents_matches_single_calls_in_order():
    tokenizer = make_tokenizer(VOCAB)
    rng = np.random.default_rng(0)
    docs = [
        " ".join(rng.choice(WORDS[:5] + ["cats", "mats", "dog"], size=n))
        for n in rng.integers(1, 30, size=23)
    ]
    ids = tokenize_documents(tokenizer, docs, batch_size=4, cache_dir=False)
    assert len(ids) == len(docs)
    for doc, got in zip(docs, ids, strict=False):
        assert got.dtype == np.int32
        np.testing.assert_array_equal(got, tokenizer(doc))


def test_tokenize_documents_cache(tmp_path):
    tokenizer = make_tokenizer(VOCAB)
    docs = ["the cat sat", "on the mat", "a cat"]
    first = tokenize_documents(tokenizer, docs, cache_dir=tmp_path)
    files = os.listdir(tmp_path / "tokens")
    assert len(files) == 1 and files[0].endswith(".npz")

    # A second call reads the cache file: prove it by planting a marker.
    path = str(tmp_path / "tokens" / files[0])
    np.savez(path, flat=np.array([7, 8, 9], np.int32),
             lengths=np.array([1, 2, 0]))
    cached = tokenize_documents(tokenizer, docs, cache_dir=tmp_path)
    assert [x.tolist() for x in cached] == [[7], [8, 9], []]

    # Other documents or another vocabulary or setting: a different key.
    tokenize_documents(tokenizer, docs[:2], cache_dir=tmp_path)
    tokenize_documents(make_tokenizer(VOCAB + ["dog"]), docs,
                       cache_dir=tmp_path)
    again = tokenize_documents(make_tokenizer(VOCAB, lowercase=False), docs,
                               cache_dir=tmp_path)
    assert len(os.listdir(tmp_path / "tokens")) == 4
    assert [x.tolist() for x in again] == [x.tolist() for x in first]


def test_tokenize_documents_errors():
    with pytest.raises(ValueError, match="sequence_length"):
        tokenize_documents(make_tokenizer(VOCAB, sequence_length=8),
                           ["the cat"], cache_dir=False)
    with pytest.raises(ValueError, match="batch_size"):
        tokenize_documents(make_tokenizer(VOCAB), ["the"], batch_size=0,
                           cache_dir=False)
    with pytest.raises(ValueError, match="single string"):
        tokenize_documents(make_tokenizer(VOCAB), "the cat", cache_dir=False)
