"""The built-in downstream task: which book (or author) a passage is from.

It ships with the package, so the default comparison needs nothing else.
It must never overlap the pre-training text, and the validation books alone
are too few classes, so the task uses the **tail** of every embedded book:

* `split_book_tail(text)` cuts each book at the first paragraph break after
  `1 - TAIL_FRACTION` (90%) of its characters, the rule by which
  `keras_objectives.data.embedded_corpus` keeps the tails out of the
  training split (whole validation books are held out entirely anyway);
* the tail is cut into passages of `passage_words` words, at most
  `max_passages_per_book` of them (evenly spaced over the tail);
* each book's passages are split in text order, the first 60% for train,
  the next 20% for dev and the last 20% for test, so that neighbouring
  passages rarely fall into different splits.

`book_attribution_task(passages=...)` accepts any list of `(book, passage)`
pairs in text order, so it can be wired to whatever held-out text the data
package provides. `check_no_overlap` verifies that no passage occurs in the
pre-training text.
"""

import numpy as np

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.data.embedded import TAIL_FRACTION
from keras_objectives.data.embedded import embedded_books
from keras_objectives.data.embedded import split_tail
from keras_objectives.evaluation import common
from keras_objectives.evaluation.tasks import make_classification_task
from keras_objectives.utils import check_choice
from keras_objectives.utils import check_int
from keras_objectives.utils import invalid


@keras_objectives_export("keras_objectives.evaluation.split_book_tail")
def split_book_tail(text, fraction=TAIL_FRACTION):
    """`(head, tail)` of a book: the tail starts at a paragraph break.

    The rule of `keras_objectives.data.split_tail`, which the data package
    uses to keep the tails out of pre-training: the cut is the first blank
    line at or after `(1 - fraction)` of the characters (else the first
    line break, else that exact character), so `head + tail == text`.

    Examples:

    >>> head, tail = split_book_tail("a b\\n\\nc d\\n\\ne f g h", 0.5)
    >>> head, tail
    ('a b\\n\\nc d', '\\n\\ne f g h')
    """
    if not 0.0 < float(fraction) < 1.0:
        raise invalid("fraction", fraction, "a float in (0, 1)")
    return split_tail(text, fraction)


def tail_passages(books=None, tail_fraction=TAIL_FRACTION,
                  passage_words=48, max_passages_per_book=60):
    """`(book, passage)` pairs from the held-out tail of every book.

    Args:
        books: dicts with `name` and `text`; default the embedded books.
        tail_fraction: float, the held-out share at the end of each book.
        passage_words: int, words per passage (whitespace-normalized).
        max_passages_per_book: int, evenly spaced over the tail.
    """
    check_int("passage_words", passage_words, minimum=1)
    check_int("max_passages_per_book", max_passages_per_book, minimum=3)
    books = embedded_books() if books is None else books
    pairs = []
    for book in books:
        words = split_book_tail(book["text"], tail_fraction)[1].split()
        windows = [words[i:i + passage_words] for i in
                   range(0, len(words) - passage_words + 1, passage_words)]
        if len(windows) > max_passages_per_book:
            step = len(windows) / max_passages_per_book
            windows = [windows[int(k * step)]
                       for k in range(max_passages_per_book)]
        pairs.extend((book["name"], " ".join(w)) for w in windows)
    return pairs


def _leaks_in_texts(passages, texts, probe_words):
    haystack = "\n".join(" ".join(t.split()) for t in texts)
    for book, passage in passages:
        probe = " ".join(passage.split()[:probe_words])
        if probe and probe in haystack:
            yield book, probe


def _leaks_in_token_ids(passages, corpus, probe_words):
    # Documents joined with -1 between them, searched as int32 bytes.
    parts = []
    for ids in corpus.train_documents_token_ids:
        parts += [np.asarray(ids, np.int32), np.array([-1], np.int32)]
    haystack = np.concatenate(parts).tobytes() if parts else b""
    probes = [" ".join(p.split()[:probe_words]) for _, p in passages]
    tokenized = common.tokenize(corpus.tokenizer, probes)
    for (book, _), probe, ids in zip(passages, probes, tokenized,
                                     strict=True):
        needle = np.asarray(ids, np.int32).tobytes()
        at = haystack.find(needle)
        while at >= 0 and at % 4:
            at = haystack.find(needle, at + 1)
        if ids and at >= 0:
            yield book, probe


@keras_objectives_export("keras_objectives.evaluation.check_no_overlap")
def check_no_overlap(passages, pretraining_texts=None, corpus=None,
                     probe_words=12):
    """Raise if a passage's opening words occur in the pre-training data.

    Each passage is looked up by its first `probe_words` words, in
    `pretraining_texts` (whitespace-normalized) or, given a prepared
    `corpus`, in its training token ids (`train_documents_token_ids`,
    tokenized with its tokenizer), so the check holds whatever the corpus
    was built from.
    """
    if pretraining_texts is not None:
        leaked = list(_leaks_in_texts(passages, pretraining_texts,
                                      probe_words))
    else:
        leaked = list(_leaks_in_token_ids(passages, corpus, probe_words))
    if leaked:
        raise ValueError(
            f"{len(leaked)} of {len(passages)} held-out passages occur in "
            f"the pre-training data, for example {leaked[:2]}. The task must "
            "never overlap pre-training: the data package must exclude the "
            "book tails (`split_book_tail`) from the training split. Pass "
            "`allow_overlap=True` only to measure the leak itself."
        )


def _author(book):
    return book.split("-")[0]


@keras_objectives_export("keras_objectives.evaluation.book_attribution_task")
def book_attribution_task(passages=None, corpus=None, label="book",
                          tail_fraction=TAIL_FRACTION, passage_words=48,
                          max_passages_per_book=60,
                          split_fractions=(0.6, 0.2, 0.2),
                          allow_overlap=False):
    """The built-in task: attribute held-out passages to a book or author.

    Args:
        passages: list of `(book, passage)` in text order; default the
            tails of the embedded books (`tail_passages`).
        corpus: optional prepared corpus. Every passage is checked against
            its pre-training data (`train_texts`, else the training token
            ids) with `check_no_overlap`, which raises on any overlap.
        label: `"book"` (17 classes for the embedded corpus) or `"author"`
            (the book-name prefix before `-`: 13 classes).
        tail_fraction, passage_words, max_passages_per_book: as
            `tail_passages`.
        split_fractions: the train/dev/test shares of each book's passages.
        allow_overlap: bool, skip the overlap check (only to measure how
            much a leak inflates the probe).

    Returns:
        A `ClassificationTask` named `book_attribution` (or
        `author_attribution`) with train, dev and test splits.

    Examples:

    >>> pairs = [(b, f"{b} passage {i}") for b in ("a-x", "b-y")
    ...          for i in range(5)]
    >>> task = book_attribution_task(pairs)
    >>> task.label_names, [len(task.split(s)[0]) for s in task.splits]
    (['a-x', 'b-y'], [6, 2, 2])
    """
    check_choice("label", label, ("book", "author"))
    if len(split_fractions) != 3 or abs(sum(split_fractions) - 1) > 1e-6:
        raise invalid("split_fractions", split_fractions,
                      "three shares (train, dev, test) summing to 1")
    if passages is None:
        passages = tail_passages(None, tail_fraction, passage_words,
                                 max_passages_per_book)
    if corpus is not None and not allow_overlap:
        texts = getattr(corpus, "train_texts", None)
        if texts is not None or hasattr(corpus, "train_documents_token_ids"):
            check_no_overlap(passages, texts, corpus)
    by_book = {}
    for book, passage in passages:
        by_book.setdefault(book, []).append(passage)
    splits = {"train": [], "dev": [], "test": []}
    for book, texts in by_book.items():
        name = book if label == "book" else _author(book)
        for split, chunk in split_in_order(texts, split_fractions, book,
                                           "passages").items():
            splits[split].extend((name, t) for t in chunk)
    return make_classification_task(
        f"{label}_attribution", splits["train"], splits["dev"],
        splits["test"],
    )


def split_in_order(items, split_fractions, book, argument):
    """`{"train", "dev", "test"}` slices of one book's items, in order.

    Each split gets at least one item, so a book needs three.

    >>> parts = split_in_order(list("abcdefghij"), (0.6, 0.2, 0.2), "b", "x")
    >>> parts["train"], parts["dev"], parts["test"]
    (['a', 'b', 'c', 'd', 'e', 'f'], ['g', 'h'], ['i', 'j'])
    """
    n = len(items)
    if n < 3:
        raise invalid(argument, f"{n} passages of {book!r}",
                      "at least 3 passages per book (train, dev, test)")
    a = min(max(1, round(n * split_fractions[0])), n - 2)
    b = min(max(a + 1, round(n * sum(split_fractions[:2]))), n - 1)
    return {"train": items[:a], "dev": items[a:b], "test": items[b:]}
