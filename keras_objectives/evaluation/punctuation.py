"""The built-in token-level task: restore the punctuation after each word.

Every word of a held-out passage is tagged with the punctuation that
followed it in the book, and the punctuation is removed from the text the
model reads:

| tag      | the word was followed by  |
|----------|---------------------------|
| `O`      | nothing (a space)         |
| `COMMA`  | `,`                       |
| `PERIOD` | `.`, `!` or `?`           |
| `OTHER`  | `;`, `:` or a dash        |

Why it measures what it claims:

* **It needs right context.** Whether a sentence or clause ends after a
  word is decided mostly by the words that follow it ("... the door **he**
  turned" vs "... the door. **He** turned"); the word itself and its left
  context give only a prior. A body that attends to the right (a
  bidirectional MLM encoder) can see that evidence; a causal body cannot,
  whatever it learned. So the task separates bidirectional from causal
  pre-training on purpose, the contrast BERT's Table 5 reports as largest
  on token-level tasks (SQuAD).
* **The cue is lexical and syntactic, not typographic.** The words are
  lowercased and stripped of quotes and brackets, so capital letters and
  quote marks cannot give a boundary away.
* **It never overlaps pre-training.** Passages come from the held-out tails
  of the embedded books (the same tails as the book-attribution probe),
  which `keras_objectives.data.embedded_corpus` keeps out of the training
  split.
* **It is cheap and honest to score.** Labels come from the original text
  with no annotation; the probe reads each word at its **last** sub-token,
  where a causal body has seen the whole word and everything before it:
  all that left context can offer. The headline metric is the micro-F1 over
  the punctuation tags (`O` is not a positive class), so predicting `O`
  everywhere (the majority line, about 80% token accuracy) scores 0.
"""

import re

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.data.embedded import TAIL_FRACTION
from keras_objectives.data.embedded import embedded_books
from keras_objectives.data.embedded import split_tail
from keras_objectives.evaluation.book_attribution import split_in_order
from keras_objectives.evaluation.task import TaggingTask
from keras_objectives.utils import check_int
from keras_objectives.utils import invalid

TAGS = ("O", "COMMA", "PERIOD", "OTHER")
_TAG_OF = {",": "COMMA", ".": "PERIOD", "!": "PERIOD", "?": "PERIOD",
           ";": "OTHER", ":": "OTHER", "-": "OTHER"}
# Characters stripped from both ends of a token before reading its tag.
_QUOTES = "\"'`()[]{}_*\u2018\u2019\u201c\u201d"
_CORE = re.compile(r"[a-z0-9]")


def tag_words(text):
    """`(words, tags)` of `text`: punctuation removed, lowercased.

    A token's tag is read from its trailing punctuation (quotes and
    brackets ignored); the strongest mark wins when several follow a word
    (`PERIOD` over `OTHER` over `COMMA`). A token with no letter or digit
    (a lone dash) passes its tag to the word before it.

    Examples:

    >>> tag_words('"Well, sir," said he; "go.  Now!"')
    (['well', 'sir', 'said', 'he', 'go', 'now'], \
['COMMA', 'COMMA', 'O', 'OTHER', 'PERIOD', 'PERIOD'])
    >>> tag_words("so -- then")
    (['so', 'then'], ['OTHER', 'O'])
    """
    words, tags = [], []
    rank = {t: i for i, t in enumerate(("O", "COMMA", "OTHER", "PERIOD"))}
    for token in text.split():
        token = token.lower().strip(_QUOTES)
        end = len(token)
        while end and not _CORE.match(token[end - 1]):
            end -= 1
        core = token[:end].lstrip(_QUOTES + "-")
        tag = "O"
        for char in token[end:]:
            mark = _TAG_OF.get(char)
            if mark and rank[mark] > rank[tag]:
                tag = mark
        if not _CORE.search(core):
            if words and rank[tag] > rank[tags[-1]]:
                tags[-1] = tag
            continue
        words.append(core.strip(_QUOTES))
        tags.append(tag)
    return words, tags


def passages(books=None, tail_fraction=TAIL_FRACTION, passage_words=40,
             max_passages_per_book=120):
    """`(book, words, tags)` windows of the held-out tail of every book."""
    check_int("passage_words", passage_words, minimum=2)
    check_int("max_passages_per_book", max_passages_per_book, minimum=3)
    books = embedded_books() if books is None else books
    out = []
    for book in books:
        words, tags = tag_words(split_tail(book["text"], tail_fraction)[1])
        starts = list(range(0, len(words) - passage_words + 1,
                            passage_words))
        if len(starts) > max_passages_per_book:
            step = len(starts) / max_passages_per_book
            starts = [starts[int(k * step)]
                      for k in range(max_passages_per_book)]
        out.extend((book["name"], words[s:s + passage_words],
                    tags[s:s + passage_words]) for s in starts)
    return out


@keras_objectives_export("keras_objectives.evaluation.punctuation_task")
def punctuation_task(books=None, tail_fraction=TAIL_FRACTION,
                     passage_words=40, max_passages_per_book=120,
                     split_fractions=(0.6, 0.2, 0.2)):
    """The built-in token-level task: punctuation restoration.

    Args:
        books: dicts with `name` and `text`; default the embedded books
            (the held-out tail of each).
        tail_fraction: float, the held-out share at the end of each book.
        passage_words: int, words per passage.
        max_passages_per_book: int, evenly spaced over each tail.
        split_fractions: the train/dev/test shares of each book's passages,
            in text order.

    Returns:
        A `TaggingTask` named `punctuation` with tags `TAGS`, scored by
        tag F1 (`metric = "tag_f1"`, `O` excluded).

    Examples:

    >>> book = {"name": "b", "text": "one, two three.\\n" * 40}
    >>> task = punctuation_task([book], tail_fraction=0.9, passage_words=6)
    >>> task.split("train")[0][0], task.split("train")[1][0]
    (['one', 'two', 'three', 'one', 'two', 'three'], \
['COMMA', 'O', 'PERIOD', 'COMMA', 'O', 'PERIOD'])
    """
    if len(split_fractions) != 3 or abs(sum(split_fractions) - 1) > 1e-6:
        raise invalid("split_fractions", split_fractions,
                      "three shares (train, dev, test) summing to 1")
    by_book = {}
    for book, words, tags in passages(books, tail_fraction, passage_words,
                                      max_passages_per_book):
        by_book.setdefault(book, []).append((words, tags))
    splits = {"train": ([], []), "dev": ([], []), "test": ([], [])}
    for book, windows in by_book.items():
        for split, chunk in split_in_order(windows, split_fractions, book,
                                           "books").items():
            splits[split][0].extend(w for w, _ in chunk)
            splits[split][1].extend(t for _, t in chunk)
    if not splits["train"][0]:
        raise invalid("books", books, "books with a held-out tail of at "
                      f"least 3 x passage_words={passage_words} words")
    task = TaggingTask("punctuation", TAGS, splits)
    task.metric = "tag_f1"
    task.word_position = "last"
    task.class_weight = "balanced"
    return task
