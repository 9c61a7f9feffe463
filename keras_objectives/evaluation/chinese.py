"""Built-in Chinese evaluations: book attribution, minimal pairs, CrossWOZ.

They ship with the package, so the Chinese quickstart needs nothing else:

* `chinese_book_attribution_task`: which work a held-out passage comes
  from. The tails of the 14 training works of `embedded-zh` (the last 10%,
  which `embedded_zh_corpus("train")` leaves out) are cut into passages of
  `passage_characters` characters (Chinese has no spaces to count words),
  split 60/20/20 in text order per work, and checked against the
  pre-training token ids (`check_no_overlap`);
* `make_chinese_minimal_pairs`: the English minimal pairs' recipe on the
  held-out works (老残游记, 呐喊): a sentence ends at `。！？`, and its
  words (jieba when installed, else characters) are swapped, shuffled or
  one of them replaced by a frequent word of the same length;
* `crosswoz_domain_task`: 6-way dialogue-domain classification of CrossWOZ
  user turns (Apache-2.0; attraction, general, hotel, metro, restaurant,
  taxi), 5,881 / 654 / 697, read by `load_classification` from the
  package's `data/tasks/crosswoz_domain/*.txt.xz`.
"""

import os
import re
from collections import Counter

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.data.embedded import TAIL_FRACTION
from keras_objectives.data.embedded import split_tail
from keras_objectives.data.embedded_zh import ZH_VALIDATION_BOOKS
from keras_objectives.data.embedded_zh import embedded_zh_books
from keras_objectives.evaluation.minimal_pairs import draw_pairs
from keras_objectives.utils import check_int

TASKS_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)),
                         "data", "tasks")
_SENTENCE = re.compile(r"[^。！？]*[。！？]")
_HAN = re.compile(r"^[\u4e00-\u9fff，、；：]+$")


def chinese_tail_passages(tail_fraction=TAIL_FRACTION,
                          passage_characters=64, max_passages_per_book=60,
                          validation_books=ZH_VALIDATION_BOOKS):
    """`(work, passage)` pairs from the held-out tail of every training work.

    Lines are joined (without separators) before the tail is cut into
    windows of `passage_characters` characters; at most
    `max_passages_per_book` windows, evenly spaced, are kept per work. A
    window that also occurs in the work's training head (the old novels
    repeat passages: 红楼梦 has one) is left out, so the task never
    overlaps pre-training.
    """
    check_int("passage_characters", passage_characters, minimum=1)
    check_int("max_passages_per_book", max_passages_per_book, minimum=3)
    pairs = []
    for book in embedded_zh_books():
        if book["name"] in validation_books:
            continue
        head, tail = split_tail(book["text"], tail_fraction)
        head, tail = "".join(head.split()), "".join(tail.split())
        size = passage_characters
        windows = [tail[i:i + size]
                   for i in range(0, len(tail) - size + 1, size)]
        windows = [w for w in windows if w not in head]
        if len(windows) > max_passages_per_book:
            step = len(windows) / max_passages_per_book
            windows = [windows[int(k * step)]
                       for k in range(max_passages_per_book)]
        pairs.extend((book["name"], w) for w in windows)
    return pairs


@keras_objectives_export(
    "keras_objectives.evaluation.chinese_book_attribution_task")
def chinese_book_attribution_task(corpus=None, passage_characters=64,
                                  max_passages_per_book=60,
                                  allow_overlap=False):
    """Attribute held-out passages to one of the 14 Chinese training works.

    Args:
        corpus: optional prepared `embedded-zh` corpus; every passage is
            checked against its training token ids (`check_no_overlap`).
        passage_characters, max_passages_per_book: see
            `chinese_tail_passages`.
        allow_overlap: bool, skip the overlap check.

    Returns:
        A `ClassificationTask` named `book_attribution` (14 classes).

    Examples:

    >>> task = chinese_book_attribution_task()
    >>> len(task.label_names), [len(task.split(s)[0]) for s in task.splits]
    (14, [463, 153, 155])
    """
    from keras_objectives.evaluation.book_attribution import (
        book_attribution_task,
    )

    passages = chinese_tail_passages(
        passage_characters=passage_characters,
        max_passages_per_book=max_passages_per_book)
    return book_attribution_task(passages, corpus=corpus,
                                 allow_overlap=allow_overlap)


@keras_objectives_export("keras_objectives.evaluation.crosswoz_domain_task")
def crosswoz_domain_task():
    """The built-in CrossWOZ dialogue-domain task (Apache-2.0).

    Examples:

    >>> task = crosswoz_domain_task()
    >>> task.label_names
    ['attraction', 'general', 'hotel', 'metro', 'restaurant', 'taxi']
    >>> [len(task.split(s)[0]) for s in task.splits]
    [5881, 654, 697]
    """
    from keras_objectives.evaluation.tasks import load_classification

    folder = os.path.join(TASKS_DIR, "crosswoz_domain")
    paths = [os.path.join(folder, f"{s}.txt.xz")
             for s in ("train", "dev", "test")]
    return load_classification(*paths, name="crosswoz_domain")


def chinese_sentences(texts, min_characters=8, max_characters=30):
    """Short sentences of Han characters and `，、；：`, ending in `。！？`."""
    seen, out = set(), []
    for text in texts:
        for sentence in _SENTENCE.findall("".join(text.split())):
            body = sentence[:-1]
            if not (min_characters <= len(sentence) <= max_characters):
                continue
            if not _HAN.match(body) or body[0] in "，、；：":
                continue
            if sentence not in seen:
                seen.add(sentence)
                out.append(sentence)
    return out


def _words(sentence, segmenter):
    return segmenter.cut(sentence) if segmenter is not None else list(
        sentence)


def _perturb(words, kind, rng, frequent):
    """A corrupted word list, or `None`."""
    words = list(words)
    if kind == "swap":
        places = [i for i in range(len(words) - 1)
                  if words[i] != words[i + 1]]
        if not places:
            return None
        i = places[rng.integers(len(places))]
        words[i], words[i + 1] = words[i + 1], words[i]
    elif kind == "shuffle":
        if len(set(words)) < 2:
            return None
        order = rng.permutation(len(words))
        words = [words[j] for j in order]
    else:
        i = int(rng.integers(len(words)))
        choices = [w for w in frequent.get(len(words[i]), [])
                   if w != words[i]]
        if not choices:
            return None
        words[i] = choices[rng.integers(len(choices))]
    return words


@keras_objectives_export(
    "keras_objectives.evaluation.make_chinese_minimal_pairs")
def make_chinese_minimal_pairs(texts, num_pairs=300, seed=0,
                               segmenter="auto", min_characters=8,
                               max_characters=30,
                               perturbations=("swap", "shuffle", "replace")):
    """Deterministic minimal pairs from held-out Chinese text.

    Args:
        texts: list of str.
        num_pairs: int.
        seed: int.
        segmenter: `"auto"` (jieba when installed, else characters),
            `None` (characters) or what `get_segmenter` takes.
        min_characters, max_characters: the sentence length range.
        perturbations: kinds to cycle through.

    Returns:
        A list of dicts `{"good", "bad", "kind"}`; the final `。！？` stays.

    Examples:

    >>> text = "我们今天去山上看花。他在家里读书写字。天下大雨了吗？"
    >>> pairs = make_chinese_minimal_pairs([text], 3, seed=1, segmenter=None,
    ...                                    min_characters=5)
    >>> [p["kind"] for p in pairs], all(p["good"] != p["bad"] for p in pairs)
    (['swap', 'shuffle', 'replace'], True)
    """
    from keras_objectives.data.segmentation import get_segmenter
    from keras_objectives.data.segmentation import jieba_available

    check_int("num_pairs", num_pairs, minimum=1)
    if segmenter == "auto":
        segmenter = "jieba" if jieba_available() else None
    segmenter = None if segmenter is None else get_segmenter(segmenter)
    sentences = chinese_sentences(texts, min_characters, max_characters)
    split = [_words(s[:-1], segmenter) for s in sentences]
    counts = Counter(w for words in split for w in words
                     if w not in "，、；：")
    frequent = {}
    for word, _ in sorted(counts.items(), key=lambda x: (-x[1], x[0])):
        if len(frequent.setdefault(len(word), [])) < 100:
            frequent[len(word)].append(word)

    def make_bad(index, kind, rng):
        words = _perturb(split[index], kind, rng, frequent)
        good = sentences[index]
        bad = None if words is None else "".join(words) + good[-1]
        return None if bad == good else bad

    return draw_pairs(sentences, num_pairs, perturbations, seed, make_bad)
