"""Chinese data: the embedded corpus, segmentation, word starts, golden masks.

jieba is in the `test` extra, so CI runs these; without it the jieba tests
skip (and the error path is tested with jieba hidden).
"""

import os
import sys
import warnings

import numpy as np
import pytest

from keras_objectives import data
from keras_objectives import training
from keras_objectives.data import chinese
from keras_objectives.data import embedded_zh
from keras_objectives.data import segmentation
from keras_objectives.data.word_boundaries import pretoken_spans
from keras_objectives.evaluation import tasks
from keras_objectives.layers.masked_lm_masker import MaskedLMMasker

jieba = pytest.importorskip("jieba", reason="the [zh] extra (jieba)")

SENTENCES = [
    "我爱北京天安门。",
    "宝玉听了，忙问：“林妹妹来了没有？”",
    "NBA球员在2024年来到了上海，饮料ＡＢＣ很好喝。",
]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("zh")
    for i, text in enumerate(SENTENCES * 4):
        (folder / f"{i:02d}.txt").write_text(text, encoding="utf-8")
    return data.prepare_corpus(str(folder), vocabulary_size=300,
                               validation_fraction=0.25, cache_dir=False,
                               segmenter="jieba")


def test_embedded_corpus_splits_hold_out_works_and_tails():
    train = embedded_zh.embedded_zh_corpus("train")
    validation = embedded_zh.embedded_zh_corpus("validation")
    assert len(train) == 2665 and len(validation) == 118
    books = {b["name"]: b["text"] for b in embedded_zh.embedded_zh_books()}
    assert sorted(books) == list(embedded_zh.ZH_BOOKS)
    joined = "\n".join(train)
    assert "呐喊" not in joined[:1000]
    tail = data.split_tail(books["hongloumeng"])[1].strip().split("\n")[-1]
    assert tail not in joined  # the tail is held out for the probe
    with pytest.raises(ValueError, match="ZH_BOOKS"):
        embedded_zh.embedded_zh_corpus(validation_books=["nope"])


def test_golden_segmentation_tokens_word_starts_and_masks(corpus):
    segmenter = segmentation.get_segmenter("jieba")
    assert segmenter.cut(SENTENCES[0]) == ["我", "爱", "北京", "天安门", "。"]
    ids = corpus.train_documents_token_ids[0].tolist()  # file 00.txt
    assert [corpus.vocabulary[i] for i in ids] == list("我爱北京天安门。")
    starts = corpus.train_word_starts[0].astype(int).tolist()
    assert starts == [1, 1, 1, 0, 1, 0, 0, 1]
    # Latin and full-width runs: one pre-token, its pieces one word;
    # jieba splits ＡＢＣ into characters, which falls back (counted).
    assert corpus.word_boundaries["fallbacks"] >= 1
    assert corpus.word_boundaries["misaligned_documents"] == 0
    layer = MaskedLMMasker.from_special_tokens(
        corpus.special_tokens, whole_word=True, continuation_token_ids=[],
        selection_rate=0.3, seed=11)
    row = {"token_ids": np.array(ids, np.int32),
           "word_starts": np.array(starts, bool), "example_ids": 0}
    out = layer(row)
    masked = out["mask_positions"].numpy()[out["mask_weights"].numpy() > 0]
    # Golden: seed 11 selects 我, 爱 and 天安门 (positions 4-6), whole.
    assert masked.tolist() == [0, 1, 4, 5, 6]
    assert layer(row)["token_ids"].numpy().tolist() == (
        out["token_ids"].numpy().tolist())


def test_word_starts_align_with_whole_document_tokens(corpus):
    for ids, starts in zip(corpus.train_documents_token_ids,
                           corpus.train_word_starts, strict=True):
        assert len(ids) == len(starts) and starts[0]
    packed = corpus.pack("train", 16)
    assert packed["word_starts"].shape == packed["token_ids"].shape
    eos = packed["token_ids"] == corpus.special_tokens.eos_id
    assert packed["word_starts"][eos].all()
    text = "Hello, world! 中文ＡＢＣ１２３…"
    spans = pretoken_spans(text)
    assert [text[a:b] for a, b in spans] == [
        "Hello", ",", "world", "!", "中", "文", "ＡＢＣ１２３", "…"]


def test_a_segmenter_that_does_not_cover_the_text_is_named():
    def broken(text):
        return ["北京", "上海"]

    with pytest.raises(ValueError, match="'broken'.*do not cover"):
        segmentation.segment(segmentation.get_segmenter(broken), "北京天津")
    # Dropped whitespace is fine (pkuseg and LAC drop it).
    assert segmentation.segment(
        segmentation.get_segmenter(lambda t: t.split()), "北京 天津") == [0, 3]


def test_mostly_non_cjk_corpus_with_a_chinese_segmenter_warns():
    with pytest.warns(UserWarning, match=r"only 0\.0% .* 'jieba'"):
        chinese.resolve_segmenter("jieba", 0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert chinese.resolve_segmenter("auto", 0.01) == (None, None)


def test_mixed_traditional_and_simplified_text_is_kept_as_is():
    docs = ["紅樓夢是一部小說。红楼梦是一部小说。"] * 3
    vocabulary = data.train_cjk_vocabulary(docs, 200, cache_dir=False)
    assert "紅" in vocabulary and "红" in vocabulary  # no conversion
    tokenizer = data.make_tokenizer(vocabulary)
    ids = data.tokenize_documents(tokenizer, docs, cache_dir=False)
    starts, stats = data.word_starts(tokenizer, docs, ids,
                                     segmentation.get_segmenter("jieba"),
                                     cache_dir=False)
    assert stats["misaligned_documents"] == 0
    assert [vocabulary[i] for i in ids[0][:3]] == ["紅", "樓", "夢"]
    assert chinese.cjk_share(docs) == 16 / 18  # the two 。 are not CJK


def test_whole_word_on_chinese_without_jieba_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "jieba", None)  # import fails
    with pytest.raises(ImportError, match=r'keras-objectives\[zh\]'):
        segmentation.get_segmenter("jieba")
    segmenter, reason = chinese.resolve_segmenter("auto", 0.9)
    assert segmenter is None and "keras-objectives[zh]" in reason

    class Corpus:
        no_word_boundaries_reason = reason

    identifier = {"class_name": "masked_lm", "config": {"whole_word": True}}
    with pytest.raises(ValueError,
                       match=r'pip install "keras-objectives\[zh\]"'):
        training.build_objective({"objective": identifier}, Corpus())


def test_loaders_read_chinese_files_with_or_without_bom(tmp_path):
    lines = "hotel 帮我找个评分为5分的酒店，好吗？\ntaxi\t我要打车去机场。\n"
    for name, text in (("plain.txt", lines), ("bom.txt", "\ufeff" + lines)):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        read = tasks.read_classification_file(str(path))
        assert read == [("hotel", "帮我找个评分为5分的酒店，好吗？"),
                        ("taxi", "我要打车去机场。")]


def test_crosswoz_ships_and_loads():
    from keras_objectives.evaluation import crosswoz_domain_task

    task = crosswoz_domain_task()
    texts, labels = task.split("test")
    assert len(texts) == 697 and not texts[0].startswith("\ufeff")
    assert os.path.basename(os.path.dirname(
        embedded_zh.ZH_CORPUS_FILE)) == "corpus"


def test_pretokenized_shards_carry_word_starts(corpus, tmp_path):
    out = str(tmp_path / "shards")
    metadata = data.write_shards(corpus, out, 32, num_shards=2)
    assert metadata["features"][-1] == "word_starts"
    assert metadata["word_boundaries"]["segmenter"] == "jieba"
    loaded = data.load_pretokenized(out)
    assert loaded.no_word_boundaries_reason is None
    for split in ("train", "validation"):
        want, got = corpus.pack(split, 32), loaded.pack(split, 32)
        assert set(got) == set(want)
        for key in want:
            np.testing.assert_array_equal(got[key], want[key])
    # The same rows without word starts: a mostly-CJK corpus says why.
    plain = {s: {k: v for k, v in corpus.pack(s, 32).items()
                 if k != "word_starts"} for s in ("train", "validation")}
    data.write_shards(plain, str(tmp_path / "plain"), 32,
                      vocabulary=corpus.vocabulary, stats=corpus.stats)
    reason = data.load_pretokenized(str(tmp_path / "plain")
                                    ).no_word_boundaries_reason
    assert "no `word_starts`" in reason
