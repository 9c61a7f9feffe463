"""Text sources: the embedded books, the user's text files, and TFDS.

Every source gives documents as Python strings. `embedded_corpus` returns a
list (the corpus is small); `text_files` and `tfds_text` return re-iterable
objects that read their input again on each pass and check the path or the
dataset when they are created, so a wrong path fails at once.
"""

import glob
import os
import re
import warnings

from keras_objectives.api_export import keras_objectives_export

# The embedded books live in `embedded.py`; they are sources too.
from keras_objectives.data.embedded import CORPUS_DIR  # noqa: F401
from keras_objectives.data.embedded import CORPUS_FILE  # noqa: F401
from keras_objectives.data.embedded import EMBEDDED_BOOKS  # noqa: F401
from keras_objectives.data.embedded import TAIL_FRACTION  # noqa: F401
from keras_objectives.data.embedded import VALIDATION_BOOKS  # noqa: F401
from keras_objectives.data.embedded import embedded_books  # noqa: F401
from keras_objectives.data.embedded import embedded_corpus  # noqa: F401
from keras_objectives.data.embedded import split_tail  # noqa: F401
from keras_objectives.utils import check_choice

_GLOB_CHARS = re.compile(r"[*?\[]")


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
