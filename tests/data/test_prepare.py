import keras_hub
import numpy as np
import pytest

import keras_objectives.data as data
from keras_objectives.data import prepare_corpus
from keras_objectives.data.special_tokens import reserved_tokens
from keras_objectives.data.vocabulary import save_vocabulary


def _lines_file(tmp_path, num_lines=40):
    path = tmp_path / "lines.txt"
    path.write_text(
        "".join(f"line {i}: the cat sat on the mat.\n"
                for i in range(num_lines))
    )
    return str(path)


def test_package_exports():
    for name in data.__all__:
        assert hasattr(data, name), name
    from keras_objectives.data.special_tokens import SpecialTokens  # noqa

    assert data.SpecialTokens is SpecialTokens


def test_user_text_holds_out_the_last_documents(tmp_path, monkeypatch):
    seen = []

    def fake_trainer(data, vocabulary_size, reserved_tokens, **kwargs):
        # Records what the vocabulary is trained on; a character vocabulary
        # (with `##` pieces) stands in for the slow WordPiece learner.
        docs = [d.decode() for d in data.as_numpy_iterator()]
        seen.extend(docs)
        chars = sorted({c for d in docs for c in d if not c.isspace()})
        vocab = reserved_tokens + chars + ["##" + c for c in chars]
        return vocab[:vocabulary_size]

    monkeypatch.setattr(
        keras_hub.tokenizers, "compute_word_piece_vocabulary", fake_trainer
    )
    corpus = prepare_corpus(_lines_file(tmp_path), vocabulary_size=200,
                            mode="line", cache_dir=tmp_path / "cache")
    # The vocabulary never sees the validation documents.
    assert len(seen) == 38 and seen[-1].startswith("line 37:")
    assert corpus.stats["train"]["documents"] == 38
    assert corpus.stats["validation"]["documents"] == 2  # round(5% of 40)
    assert corpus.vocabulary[:111] == reserved_tokens()
    assert corpus.vocabulary_size == len(corpus.vocabulary) <= 200
    assert corpus.special_tokens.eos_id == 3
    assert corpus.special_tokens.mask_id == 4
    assert len(corpus.special_tokens.sentinel_ids) == 100
    last = corpus.tokenizer.detokenize(
        corpus.validation_documents_token_ids[-1]
    )
    assert last.startswith("line 39 :")
    for split in ("train", "validation"):
        ids = getattr(corpus, f"{split}_documents_token_ids")
        stats = corpus.stats[split]
        assert stats["tokens"] == sum(len(x) for x in ids)
        assert stats["bytes"] == stats["characters"] > 0
        packed = corpus.pack(split, length=16)
        assert packed["padding_mask"].sum() == (
            stats["tokens"] + stats["documents"]
        )
    assert "Corpus(" in repr(corpus)


def test_separate_validation_path_and_user_vocabulary(tmp_path):
    train = _lines_file(tmp_path)
    val = tmp_path / "val.txt"
    val.write_text("a cat.\nthe mat.\nsat.\n")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat",
             "sat", "on", "mat", ".", ":", "line", "a"]
    save_vocabulary(vocab, tmp_path / "vocab.txt")
    corpus = prepare_corpus(train, mode="line", validation=str(val),
                            vocabulary=str(tmp_path / "vocab.txt"),
                            cache_dir=False)
    assert corpus.vocabulary == vocab
    assert corpus.stats["train"]["documents"] == 40
    assert corpus.stats["validation"]["documents"] == 3
    assert corpus.validation_documents_token_ids[0].tolist() == [13, 6, 10]
    # Digits are not in this stock vocabulary.
    assert 1 in corpus.train_documents_token_ids[0].tolist()
    assert corpus.special_tokens.sentinel_ids == []
    no_mask = prepare_corpus(train, mode="line", vocabulary=vocab[:4],
                             cache_dir=False)
    with pytest.raises(ValueError, match="no \\[MASK\\] token"):
        no_mask.special_tokens.require("mask_id")


def test_source_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing_dir"):
        prepare_corpus(str(tmp_path / "missing_dir"))
    single = tmp_path / "one.txt"
    single.write_text("only one document")
    with pytest.raises(ValueError, match="1 document, too few.*validation"):
        prepare_corpus(str(single), cache_dir=False)
    with pytest.raises(ValueError, match="source"):
        prepare_corpus(42)
    with pytest.raises(ValueError, match="errors"):
        prepare_corpus(str(single), errors="ignore")
    with pytest.raises(ValueError, match="validation_fraction"):
        prepare_corpus(str(single), validation_fraction=2.0)
    with pytest.raises(ValueError, match="split"):
        prepare_corpus(_lines_file(tmp_path), mode="line",
                       vocabulary=reserved_tokens()).pack("test", 8)


def test_embedded_corpus_end_to_end(tmp_path, monkeypatch):
    def no_training(*args, **kwargs):
        raise AssertionError("the default vocabulary must ship")

    monkeypatch.setattr(
        keras_hub.tokenizers, "compute_word_piece_vocabulary", no_training
    )
    corpus = prepare_corpus("embedded", cache_dir=tmp_path)
    train, val = corpus.stats["train"], corpus.stats["validation"]
    assert train["documents"] == 1387 and val["documents"] == 59
    assert train["bytes"] > 6_000_000 and val["bytes"] > 240_000
    assert 1_400_000 < train["tokens"] < 1_900_000
    # Few unknown tokens: the vocabulary covers every character it saw.
    flat = np.concatenate(corpus.train_documents_token_ids)
    assert np.mean(flat == corpus.special_tokens.unk_id) < 1e-3
    assert flat.min() >= 111  # no special token comes out of text
    # Tokenized once: the second call reads the token cache.
    assert len(list((tmp_path / "tokens").iterdir())) == 1
    again = prepare_corpus("embedded", cache_dir=tmp_path)
    assert again.stats == corpus.stats
    packed = corpus.pack("train", length=128)
    rows = -(-(train["tokens"] + train["documents"]) // 128)
    assert packed["token_ids"].shape == (rows, 128)
