import os

import keras_hub
import pytest

from keras_objectives.data.sources import embedded_corpus
from keras_objectives.data.special_tokens import SpecialTokens
from keras_objectives.data.special_tokens import reserved_tokens
from keras_objectives.data.vocabulary import load_vocabulary
from keras_objectives.data.vocabulary import save_vocabulary
from keras_objectives.data.vocabulary import subsample
from keras_objectives.data.vocabulary import train_vocabulary

# A small, fast training set: short pieces of the validation books.
DOCS = [d[:600] for d in embedded_corpus("validation")[:12]]


class _CountingTrainer:
    """Stands in for the keras-hub trainer and counts its calls.

    `real=True` calls the real trainer; otherwise it returns a cheap fake
    vocabulary (reserved tokens + the characters seen), which is enough to
    test the cache logic without paying for the WordPiece learner.
    """

    def __init__(self, monkeypatch, real=False, forbid=False):
        self.calls = 0
        self.real = real
        self.forbid = forbid
        self.trainer = keras_hub.tokenizers.compute_word_piece_vocabulary
        monkeypatch.setattr(
            keras_hub.tokenizers, "compute_word_piece_vocabulary", self
        )

    def __call__(self, data, vocabulary_size, **kwargs):
        self.calls += 1
        if self.forbid:
            raise AssertionError("the vocabulary was retrained")
        if self.real:
            return self.trainer(data, vocabulary_size, **kwargs)
        chars = sorted({c for d in data.as_numpy_iterator()
                        for c in d.decode() if not c.isspace()})
        return (kwargs["reserved_tokens"] + chars)[:vocabulary_size]


def test_reserved_tokens_first_and_cache_hit(tmp_path, monkeypatch):
    trainer = _CountingTrainer(monkeypatch, real=True)
    vocab = train_vocabulary(DOCS, vocabulary_size=400, cache_dir=tmp_path)
    assert trainer.calls == 1
    reserved = reserved_tokens()
    assert vocab[: len(reserved)] == reserved
    assert len(reserved) < len(vocab) <= 400
    assert len(set(vocab)) == len(vocab)
    assert "the" in vocab and "alice" in vocab and "Alice" not in vocab
    cached = os.listdir(tmp_path / "vocab")
    assert len(cached) == 1 and cached[0].endswith(".txt")

    trainer.forbid = True
    assert train_vocabulary(DOCS, 400, cache_dir=tmp_path) == vocab
    assert train_vocabulary(iter(DOCS), 400, cache_dir=str(tmp_path)) == vocab


def test_any_change_is_a_cache_miss(tmp_path, monkeypatch):
    trainer = _CountingTrainer(monkeypatch)
    base = train_vocabulary(DOCS, 400, cache_dir=tmp_path)
    train_vocabulary(DOCS, 400, lowercase=False, cache_dir=tmp_path)
    train_vocabulary(DOCS, 300, cache_dir=tmp_path)
    train_vocabulary(DOCS[:-1], 400, cache_dir=tmp_path)
    train_vocabulary(DOCS[:-1] + [DOCS[-1] + "!"], 400, cache_dir=tmp_path)
    assert trainer.calls == 5
    assert len(os.listdir(tmp_path / "vocab")) == 5
    assert train_vocabulary(DOCS, 400, cache_dir=tmp_path) == base
    assert trainer.calls == 5


def test_cache_location_env_var_and_disabled(tmp_path, monkeypatch):
    trainer = _CountingTrainer(monkeypatch)
    monkeypatch.setenv("KERAS_OBJECTIVES_CACHE", str(tmp_path / "env"))
    docs = DOCS[:5]
    first = train_vocabulary(docs, 300)
    assert len(os.listdir(tmp_path / "env" / "vocab")) == 1
    assert train_vocabulary(docs, 300) == first
    assert trainer.calls == 1
    assert train_vocabulary(docs, 300, cache_dir=False) == first
    assert trainer.calls == 2
    with pytest.raises(ValueError, match="cache_dir"):
        train_vocabulary(docs, 300, cache_dir=3)


def test_default_vocabulary_ships_with_the_package(tmp_path, monkeypatch):
    # The default setting must never retrain: its vocabulary is shipped
    # under the key `train_vocabulary` computes (rebuild it with
    # `scripts/build_corpus.py --vocabulary` if the corpus changes).
    _CountingTrainer(monkeypatch, forbid=True)
    vocab = train_vocabulary(embedded_corpus("train"), cache_dir=tmp_path)
    assert vocab[:111] == reserved_tokens()
    assert 0.95 * 8192 <= len(vocab) <= 8192
    assert len(set(vocab)) == len(vocab)
    assert not (tmp_path / "vocab").exists()


def test_subsample_is_deterministic_and_spread():
    docs = [f"{i:02d}" * 5 for i in range(100)]  # 10 characters each
    sample = subsample(docs, 250)
    assert sample == docs[::4]
    assert subsample(docs, 10**6) == docs
    assert subsample(docs, None) == docs


def test_train_vocabulary_errors():
    with pytest.raises(ValueError, match="vocabulary_size"):
        train_vocabulary(DOCS, vocabulary_size=100, cache_dir=False)
    with pytest.raises(ValueError, match="single string"):
        train_vocabulary("just one string", cache_dir=False)
    with pytest.raises(ValueError, match="at least one document"):
        train_vocabulary([], cache_dir=False)
    with pytest.raises(ValueError, match="Expected strings"):
        train_vocabulary([b"bytes"], cache_dir=False)


def test_load_vocabulary_round_trip_and_errors(tmp_path):
    path = str(tmp_path / "vocab.txt")
    vocab = reserved_tokens() + ["the", "##s", "é"]
    save_vocabulary(vocab, path)
    assert load_vocabulary(path) == vocab

    with open(tmp_path / "crlf.txt", "w", newline="") as f:
        f.write("[PAD]\r\n[UNK]\r\nthe\r\n")
    assert load_vocabulary(tmp_path / "crlf.txt") == ["[PAD]", "[UNK]", "the"]

    with pytest.raises(FileNotFoundError, match="missing.txt"):
        load_vocabulary(tmp_path / "missing.txt")
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(ValueError, match="empty"):
        load_vocabulary(tmp_path / "empty.txt")
    (tmp_path / "blank.txt").write_text("[PAD]\n\nthe\n")
    with pytest.raises(ValueError, match="line 2"):
        load_vocabulary(tmp_path / "blank.txt")
    (tmp_path / "dupe.txt").write_text("[PAD]\nthe\ncat\nthe\n")
    with pytest.raises(ValueError, match="'the' twice \\(lines 2 and 4\\)"):
        load_vocabulary(tmp_path / "dupe.txt")


def test_stock_vocabulary_surfaces_missing_specials(tmp_path):
    # A BERT-style vocab.txt: [MASK] but no sentinels or mode tokens.
    bert = ["[PAD]"] + [f"[unused{i}]" for i in range(3)] + [
        "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat",
    ]
    save_vocabulary(bert, tmp_path / "bert.txt")
    special = SpecialTokens.from_vocabulary(
        load_vocabulary(tmp_path / "bert.txt")
    )
    assert special.mask_id == 7 and special.eos_id == 6
    assert special.sentinel_ids == []
    assert special.special_ids == list(range(8))

    no_mask = SpecialTokens.from_vocabulary(["[PAD]", "[UNK]", "the"])
    with pytest.raises(ValueError, match="no \\[MASK\\] token"):
        no_mask.require("mask_id")
