"""Chinese evaluations: minimal pairs and book attribution."""

from collections import Counter

import pytest

from keras_objectives.data import embedded_zh_books
from keras_objectives.evaluation import chinese

TEXT = ("我们今天去山上看花。他在家里读书写字。天下大雨了吗？"
        "宝玉听了忙问林妹妹。黛玉笑道你又来了。老太太叫人去请大夫！")


def test_chinese_minimal_pairs_golden_and_invariants():
    pairs = chinese.make_chinese_minimal_pairs(
        [TEXT], 6, seed=3, segmenter=None, min_characters=5)
    again = chinese.make_chinese_minimal_pairs(
        [TEXT], 6, seed=3, segmenter=None, min_characters=5)
    assert pairs == again  # deterministic
    assert [p["kind"] for p in pairs] == ["swap", "shuffle", "replace"] * 2
    for p in pairs:
        good, bad = p["good"], p["bad"]
        assert good != bad and good[-1] == bad[-1] and len(good) == len(bad)
        if p["kind"] != "replace":  # a reordering of the same characters
            assert Counter(good) == Counter(bad)
        else:  # one character replaced (single-character words here)
            assert sum(a != b for a, b in zip(good, bad, strict=True)) == 1
    other = chinese.make_chinese_minimal_pairs(
        [TEXT], 6, seed=4, segmenter=None, min_characters=5)
    assert other != pairs


def test_chinese_minimal_pairs_move_whole_jieba_words():
    pytest.importorskip("jieba", reason="the [zh] extra (jieba)")
    from keras_objectives.data.segmentation import get_segmenter

    jieba = get_segmenter("jieba")
    pairs = chinese.make_chinese_minimal_pairs(
        [TEXT], 6, seed=0, segmenter="jieba", min_characters=5,
        perturbations=("swap",))
    assert pairs
    for p in pairs:  # a swap of two adjacent jieba words of the sentence
        words = jieba.cut(p["good"][:-1])
        swaps = {"".join(words[:i] + [words[i + 1], words[i]] + words[i + 2:])
                 for i in range(len(words) - 1)}
        assert p["bad"][:-1] in swaps


def test_chinese_book_attribution_holds_out_tails_without_overlap():
    pairs = chinese.chinese_tail_passages(max_passages_per_book=5)
    works = {name for name, _ in pairs}
    names = [b["name"] for b in embedded_zh_books()]
    assert len(works) == 14 and works.isdisjoint(
        chinese.ZH_VALIDATION_BOOKS) and works <= set(names)
    heads = {}
    for book in embedded_zh_books():
        head, _ = chinese.split_tail(book["text"])
        heads[book["name"]] = "".join(head.split())
    for name, passage in pairs:
        assert len(passage) == 64 and passage not in heads[name]
    task = chinese.chinese_book_attribution_task(max_passages_per_book=5)
    assert len(task.label_names) == 14
