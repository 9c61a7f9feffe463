"""Text sources: the embedded books, the user's text files, and TFDS.

Every source gives documents as Python strings. `embedded_corpus` returns a
list (the corpus is small); `text_files` and `tfds_text` return re-iterable
objects that read their input again on each pass and check the path or the
dataset when they are created, so a wrong path fails at once.
"""

import functools
import glob
import json
import lzma
import os
import re
import warnings

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
_GLOB_CHARS = re.compile(r"[*?\[]")


@functools.lru_cache(maxsize=1)
def _read_books():
    with lzma.open(CORPUS_FILE, "rt", encoding="utf-8") as f:
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
    return [dict(book) for book in _read_books()]


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
    held_out = set(validation_books)
    documents = []
    for book in _read_books():
        in_validation = book["name"] in held_out
        if split == "train" and in_validation:
            continue
        if split == "validation" and not in_validation:
            continue
        text = book["text"]
        if split == "train":
            text = split_tail(text, tail_fraction)[0]
        if chunk_characters is None:
            documents.append(text)
        else:
            documents.extend(_chunk(text, chunk_characters))
    return documents


def _resolve_paths(paths):
    """Expand files, directories (recursively) and globs, sorted."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    paths = [os.fspath(p) for p in paths]
    if not paths:
        raise ValueError(
            "Invalid value received for argument `paths`. Expected a file, "
            "a directory, a glob pattern or a list of them. Received: "
            "paths=[]"
        )
    files = []
    for path in paths:
        if os.path.isfile(path):
            files.append(path)
        elif os.path.isdir(path):
            found = []
            for root, dirs, names in os.walk(path):
                dirs[:] = [d for d in dirs if not d.startswith(".")]
                found += [
                    os.path.join(root, n) for n in names if n[0] != "."
                ]
            found.sort()
            if not found:
                raise ValueError(
                    f"The corpus directory {path!r} contains no files. Put "
                    "your text files (one document per file, or per line "
                    "with `mode=\"line\"`) in it, or pass another path."
                )
            files.extend(found)
        elif _GLOB_CHARS.search(path):
            found = sorted(
                p for p in glob.glob(path, recursive=True) if os.path.isfile(p)
            )
            if not found:
                raise FileNotFoundError(
                    f"The corpus glob pattern {path!r} matched no files. "
                    "Check the pattern (use `**` to match subdirectories) "
                    "or pass a directory."
                )
            files.extend(found)
        else:
            raise FileNotFoundError(
                f"The corpus path {path!r} does not exist. Pass an existing "
                "text file, a directory of text files or a glob pattern "
                "such as 'data/*.txt'."
            )
    return files


def _normalize(text):
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.replace("\r\n", "\n").replace("\r", "\n")


class TextFiles:
    """Documents read from the user's UTF-8 text files.

    Created by `text_files`; see there. Iterating reads the files again.

    Attributes:
        files: the sorted list of files that will be read.
        num_bad_documents: after a complete pass, the number of documents
            that contained invalid UTF-8 and were repaired or skipped
            (`None` before the first complete pass).
    """

    def __init__(self, paths, mode="file", errors="strict"):
        self.mode = check_choice("mode", mode, ("file", "line"))
        self.errors = check_choice(
            "errors", errors, ("strict", "replace", "skip")
        )
        self.files = _resolve_paths(paths)
        self.num_bad_documents = None

    def _pieces(self, path, data):
        """Yield `(offset, bytes)` documents of one file."""
        if self.mode == "file":
            yield 0, data
            return
        offset = 0
        for line in data.split(b"\n"):
            yield offset, line
            offset += len(line) + 1

    def _decode(self, path, offset, data):
        """Return `(text or None, bad)` for one document's bytes."""
        try:
            return data.decode("utf-8"), False
        except UnicodeDecodeError as e:
            if self.errors == "strict":
                bad = e.object[e.start:e.start + 1].hex()
                raise ValueError(
                    f"Cannot decode the text file {path!r} as UTF-8: "
                    f"invalid byte 0x{bad} at byte offset "
                    f"{offset + e.start}. Convert the file to UTF-8, or "
                    "pass `errors=\"replace\"` (bad bytes become U+FFFD) or "
                    "`errors=\"skip\"` (documents with bad bytes are "
                    "dropped)."
                ) from None
            if self.errors == "skip":
                return None, True
            return data.decode("utf-8", errors="replace"), True

    def __iter__(self):
        count, bad, first_bad = 0, 0, None
        for path in self.files:
            with open(path, "rb") as f:
                data = f.read()
            if self.mode == "line" and self.errors == "strict":
                # Decode once so an error reports the offset in the file.
                self._decode(path, 0, data)
            for offset, piece in self._pieces(path, data):
                text, is_bad = self._decode(path, offset, piece)
                if is_bad:
                    bad += 1
                    first_bad = first_bad or f"{path} (byte {offset})"
                if text is None:
                    continue
                text = _normalize(text)
                if self.mode == "line":
                    text = text.rstrip("\n")
                if not text.strip():
                    continue
                count += 1
                yield text
        self.num_bad_documents = bad
        if bad:
            action = "skipped" if self.errors == "skip" else "repaired"
            warnings.warn(
                f"{bad} of the documents in {self._where()} contained "
                f"invalid UTF-8 and were {action} (errors={self.errors!r}); "
                f"the first is {first_bad}.",
                stacklevel=2,
            )
        if count == 0:
            raise ValueError(
                f"The corpus in {self._where()} has no documents: every "
                "file or line is empty"
                + (" or was skipped" if bad else "")
                + ". Check the path, `mode` and `errors`."
            )

    def _where(self):
        if len(self.files) == 1:
            return repr(self.files[0])
        return f"{len(self.files)} files ({self.files[0]!r}, ...)"

    def __repr__(self):
        return (
            f"TextFiles({len(self.files)} files, mode={self.mode!r}, "
            f"errors={self.errors!r})"
        )


@keras_objectives_export("keras_objectives.data.text_files")
def text_files(paths, mode="file", errors="strict"):
    """Documents from your own text files.

    Args:
        paths: a file, a directory (read recursively, hidden files skipped),
            a glob pattern (`"data/**/*.txt"`), or a list of them. Files are
            read in sorted order.
        mode: `"file"` for one document per file, `"line"` for one document
            per non-empty line.
        errors: what to do with bytes that are not valid UTF-8.
            `"strict"` raises an error naming the file and the byte offset;
            `"replace"` replaces them with U+FFFD; `"skip"` drops the
            documents (files or lines) that contain them. With `"replace"`
            and `"skip"` a warning gives the count, also available as
            `num_bad_documents` after a pass.

    Returns:
        A re-iterable `TextFiles` of strings. Line endings become `\\n` and
        a UTF-8 byte-order mark is dropped; empty documents are skipped.

    Examples:

    >>> import os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> with open(os.path.join(folder, "a.txt"), "w") as f:
    ...     _ = f.write("The first line.\\n\\nThe second line.\\n")
    >>> list(text_files(folder, mode="line"))
    ['The first line.', 'The second line.']
    >>> len(list(text_files(os.path.join(folder, "*.txt"))))
    1
    """
    return TextFiles(paths, mode=mode, errors=errors)


class TFDSText:
    """Documents from a TensorFlow Datasets split; see `tfds_text`."""

    def __init__(self, dataset, name, text_key):
        self.dataset = dataset
        self.name = name
        self.text_key = text_key
        spec = dataset.element_spec
        if isinstance(spec, dict) and text_key not in spec:
            raise ValueError(
                "Invalid value received for argument `text_key`. Expected "
                f"one of the features of {name!r}: {sorted(spec)}. "
                f"Received: text_key={text_key!r}"
            )

    def __iter__(self):
        import tensorflow_datasets as tfds

        for element in tfds.as_numpy(self.dataset):
            if isinstance(element, dict):
                element = element[self.text_key]
            if isinstance(element, bytes):
                element = element.decode("utf-8", errors="replace")
            if element.strip():
                yield element

    def __repr__(self):
        return f"TFDSText({self.name!r}, text_key={self.text_key!r})"


@keras_objectives_export("keras_objectives.data.tfds_text")
def tfds_text(name, split="train", text_key="text", data_dir=None,
              download=True):
    """Documents from a TensorFlow Datasets text dataset (needs a network).

    `tensorflow_datasets` is imported only here. The dataset is loaded when
    this function is called, so a failed download is reported at once.

    Args:
        name: str, a TFDS name such as `"wikipedia/20230601.en"` or
            `"imdb_reviews"`.
        split: str, a TFDS split such as `"train"` or `"train[:10%]"`.
        text_key: str, the feature that holds the text.
        data_dir: str or `None`, where TFDS keeps its data.
        download: bool, whether TFDS may download and prepare the data.

    Returns:
        A re-iterable `TFDSText` of strings (empty texts are skipped).
    """
    try:
        import tensorflow_datasets as tfds
    except ImportError:
        raise ImportError(
            "`tfds_text` needs TensorFlow Datasets. Install it with "
            "`pip install tensorflow-datasets`, or use `text_files` on "
            "local text."
        ) from None
    try:
        dataset = tfds.load(
            name, split=split, data_dir=data_dir, download=download
        )
    except Exception as e:  # TFDS raises many types; report them all alike.
        raise RuntimeError(
            f"Could not load the TFDS dataset {name!r} (split {split!r}): "
            f"{type(e).__name__}: {str(e)[:300]}. TFDS downloads data on "
            "first use, which needs network access: prepare it where you "
            "have one with `tfds.builder(name).download_and_prepare()` and "
            "pass `data_dir`, or export the text to files and use "
            "`text_files`."
        ) from e
    return TFDSText(dataset, name, text_key)
