import types

import pytest

from keras_objectives.evaluation import book_attribution_task
from keras_objectives.evaluation import check_no_overlap
from keras_objectives.evaluation import split_book_tail
from keras_objectives.evaluation.book_attribution import embedded_books
from keras_objectives.evaluation.book_attribution import tail_passages


@pytest.fixture(scope="module")
def books():
    return embedded_books()


def test_tail_split_is_exact_and_at_a_paragraph_break(books):
    for book in books:
        head, tail = split_book_tail(book["text"])
        assert head + tail == book["text"]
        assert 0.05 < len(tail) / len(book["text"]) <= 0.1 + 1e-3
        assert tail.startswith("\n")


def test_passages_come_from_tails_only_and_never_from_heads(books):
    passages = tail_passages(books, passage_words=48,
                             max_passages_per_book=60)
    names = {b for b, _ in passages}
    assert names == {b["name"] for b in books} and len(names) == 17
    assert all(len(p.split()) == 48 for _, p in passages)
    heads = [split_book_tail(b["text"])[0] for b in books]
    check_no_overlap(passages, heads)
    with pytest.raises(ValueError, match="5 of 5 held-out passages occur"):
        check_no_overlap(passages[:5], [b["text"] for b in books])


def test_task_splits_each_book_in_text_order(books):
    passages = tail_passages(books, max_passages_per_book=20)
    task = book_attribution_task(passages)
    assert task.num_classes == 17
    texts = {b["name"]: " ".join(b["text"].split()) for b in books}
    for split in ("train", "dev", "test"):
        assert set(task.split(split)[1].tolist()) == set(range(17))
    # Within one book, every train passage precedes every dev passage,
    # and every dev passage precedes every test passage.
    name = "carroll-alice"
    label = task.label_names.index(name)
    where = {}
    for split in ("train", "dev", "test"):
        inputs, labels = task.split(split)
        where[split] = [texts[name].index(t)
                        for t, y in zip(inputs, labels, strict=True)
                        if y == label]
    assert max(where["train"]) < min(where["dev"])
    assert max(where["dev"]) < min(where["test"])
    assert [len(where[s]) for s in ("train", "dev", "test")] == [12, 4, 4]


def test_author_labels_and_overlap_check_through_the_corpus(books):
    pairs = [(b, f"{b} words {i}") for b in ("austen-emma",
                                              "austen-sense", "blake-poems")
             for i in range(3)]
    task = book_attribution_task(pairs, label="author")
    assert task.label_names == ["austen", "blake"]
    leaky = types.SimpleNamespace(train_texts=["x austen-emma words 1 y"])
    with pytest.raises(ValueError, match="never overlap"):
        book_attribution_task(pairs, corpus=leaky)
    with pytest.raises(ValueError, match="at least 3 passages"):
        book_attribution_task(pairs[:2] + pairs[3:])


def test_overlap_is_found_in_training_token_ids():
    from tests.evaluation.test_common import WORDS
    from tests.evaluation.test_common import toy_corpus

    corpus = toy_corpus()
    passages = [("a-x", " ".join(WORDS[i:i + 4])) for i in range(0, 12, 4)]
    ids = [[int(t) for t in corpus.tokenizer(p)] for _, p in passages]
    # Training documents hold passage 1 (mid-document) and nothing else.
    corpus.train_documents_token_ids = [ids[0][:2], [5] + ids[1] + [6]]
    with pytest.raises(ValueError, match="1 of 3 held-out passages"):
        check_no_overlap(passages, corpus=corpus)
    with pytest.raises(ValueError, match="allow_overlap"):
        book_attribution_task(passages, corpus=corpus)
    task = book_attribution_task(passages, corpus=corpus, allow_overlap=True)
    assert task.num_classes == 1
    corpus.train_documents_token_ids = [ids[0][:2], ids[0][2:]]
    check_no_overlap(passages, corpus=corpus)  # Split across documents.
