"""The SentencePiece unigram tokenizer, the alternative to WordPiece."""

import numpy as np
import pytest

from keras_objectives import data
from keras_objectives.data.special_tokens import reserved_tokens

TEXT = ["宝玉听了，忙问：“林妹妹来了没有？”", "林妹妹听了，笑道：“宝玉来了。”",
        "我爱北京天安门。", "宝玉和林妹妹在北京。"]


def test_reserved_ids_kept_and_never_produced_from_text(tmp_path):
    proto = data.train_sentencepiece(TEXT * 30, vocabulary_size=160,
                                     cache_dir=str(tmp_path))
    tokenizer = data.make_sentencepiece_tokenizer(proto)
    vocabulary = tokenizer.get_vocabulary()
    reserved = reserved_tokens()
    assert vocabulary[: len(reserved)] == reserved
    ids = tokenizer(TEXT)  # a list of lists outside tf.function
    assert all(i >= len(reserved) or i == 1 for row in ids for i in row)
    # The unigram model learns multi-character pieces from repetition.
    assert any(len(p.strip("▁")) > 1 for p in vocabulary[len(reserved):])
    # Cached by content hash: a second call reads the same model back.
    assert data.train_sentencepiece(TEXT * 30, vocabulary_size=160,
                                    cache_dir=str(tmp_path)) == proto
    assert len(list((tmp_path / "spm").glob("*.model"))) == 1


def test_too_small_vocabulary_names_the_argument():
    with pytest.raises(ValueError, match="vocabulary_size=119"):
        data.train_sentencepiece(TEXT * 30, vocabulary_size=119,
                                 cache_dir=False)


def test_prepare_corpus_with_sentencepiece_and_word_starts(tmp_path):
    pytest.importorskip("jieba", reason="the [zh] extra (jieba)")
    for i, text in enumerate(TEXT * 5):
        (tmp_path / f"{i:02d}.txt").write_text(text, encoding="utf-8")
    corpus = data.prepare_corpus(str(tmp_path), vocabulary_size=160,
                                 validation_fraction=0.25, cache_dir=False,
                                 segmenter="jieba", tokenizer="sentencepiece")
    assert corpus.vocabulary[:5] == reserved_tokens()[:5]
    for ids, starts in zip(corpus.train_documents_token_ids,
                           corpus.train_word_starts, strict=True):
        assert len(ids) == len(starts) and starts[0]
    stats = corpus.stats["segmentation"]
    assert stats["segmenter"] == "jieba"
    assert stats["misaligned_documents"] == 0
    assert 0 < np.mean(np.concatenate(corpus.train_word_starts)) <= 1


def test_sentencepiece_refuses_a_given_vocabulary(tmp_path):
    (tmp_path / "a.txt").write_text(TEXT[0], encoding="utf-8")
    with pytest.raises(ValueError, match="tokenizer=\"wordpiece\""):
        data.prepare_corpus(str(tmp_path), vocabulary=["[PAD]"],
                            cache_dir=False, tokenizer="sentencepiece")


def test_pretokenized_sentencepiece_corpus_keeps_its_model(tmp_path):
    for i, text in enumerate(TEXT * 5):
        (tmp_path / f"{i:02d}.txt").write_text(text, encoding="utf-8")
    corpus = data.prepare_corpus(str(tmp_path), vocabulary_size=160,
                                 validation_fraction=0.25, cache_dir=False,
                                 segmenter=None, tokenizer="sentencepiece")
    out = str(tmp_path / "shards")
    data.write_shards(corpus, out, 16)
    loaded = data.load_pretokenized(out)
    assert loaded.tokenizer(TEXT) == corpus.tokenizer(TEXT)
