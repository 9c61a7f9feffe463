import json
import lzma
import os
import sys
import warnings

import pytest

from keras_objectives.data import sources
from keras_objectives.data.sources import EMBEDDED_BOOKS
from keras_objectives.data.sources import VALIDATION_BOOKS
from keras_objectives.data.sources import embedded_books
from keras_objectives.data.sources import embedded_corpus
from keras_objectives.data.sources import split_tail
from keras_objectives.data.sources import text_files
from keras_objectives.data.sources import tfds_text


def _words(text):
    return "".join(text.split())


# --- embedded corpus ---------------------------------------------------------


def test_embedded_books_match_the_shipped_file():
    with lzma.open(sources.CORPUS_FILE, "rt", encoding="utf-8") as f:
        names = [json.loads(line)["name"] for line in f]
    assert tuple(names) == EMBEDDED_BOOKS
    assert len(EMBEDDED_BOOKS) == 17
    assert "bible-kjv" not in EMBEDDED_BOOKS
    assert set(VALIDATION_BOOKS) == {"carroll-alice", "shakespeare-macbeth"}
    books = embedded_books()
    assert [b["name"] for b in books] == list(EMBEDDED_BOOKS)
    for book in books:
        assert book["text"].startswith("[" + book["title"])
        assert "\r" not in book["text"]
        assert "PROJECT GUTENBERG" not in book["text"].upper()
    # Mutating the returned dicts must not change the cached corpus.
    books[0]["text"] = ""
    assert embedded_books()[0]["text"]


def test_embedded_split_is_by_whole_books():
    books = {b["name"]: b["text"] for b in embedded_books()}
    train = embedded_corpus("train")
    validation = embedded_corpus("validation")
    everything = embedded_corpus("all")
    untrimmed = embedded_corpus("train", tail_fraction=0.0)
    assert len(untrimmed) + len(validation) == len(everything)
    assert set(train).isdisjoint(validation)
    # The validation documents are exactly the validation books, in order.
    assert _words("".join(validation)) == _words(
        books["carroll-alice"] + books["shakespeare-macbeth"]
    )
    # The train split is the head of every other book: tails are held out.
    heads = [split_tail(t)[0] for n, t in books.items()
             if n not in VALIDATION_BOOKS]
    assert _words("".join(train)) == _words("".join(heads))
    assert _words("".join(everything)) == _words("".join(books.values()))
    for name in VALIDATION_BOOKS:
        first_line = books[name].split("\n", 1)[0]
        assert first_line not in "".join(train)
        assert any(doc.startswith(first_line) for doc in validation)


def test_book_tails_are_held_out_of_train():
    train = "\n".join(embedded_corpus("train"))
    for book in embedded_books():
        head, tail = split_tail(book["text"])
        assert head + tail == book["text"]
        assert 0.05 < len(tail) / len(book["text"]) <= 0.1
        paragraphs = [p for p in tail.split("\n\n") if len(p) > 200]
        assert paragraphs, book["name"]
        for paragraph in paragraphs:
            assert paragraph not in train
    everything = embedded_corpus("train", tail_fraction=0.0)
    assert len(everything) > len(embedded_corpus("train"))
    with pytest.raises(ValueError, match="tail_fraction"):
        embedded_corpus("train", tail_fraction=1.0)


def test_tail_rule_matches_the_evaluation_package():
    evaluation = pytest.importorskip(
        "keras_objectives.evaluation.book_attribution"
    )
    for book in embedded_books():
        assert split_tail(book["text"]) == evaluation.split_book_tail(
            book["text"]
        )


def test_embedded_chunks_are_paragraph_groups():
    docs = embedded_corpus("validation", chunk_characters=1000)
    alice = [d for d in docs if "Alice" in d]
    assert len(docs) > 100
    # Every document but the last of each book reaches the minimum size.
    short = [d for d in docs if len(d) < 1000]
    assert len(short) <= 2
    assert all(d == d.strip("\n") and d.strip() for d in docs)
    assert alice
    whole = embedded_corpus("validation", chunk_characters=None)
    assert len(whole) == 2


def test_embedded_custom_validation_books_and_errors():
    val = embedded_corpus(
        "validation", validation_books=["blake-poems"], chunk_characters=None
    )
    assert len(val) == 1 and val[0].startswith("[Poems by William Blake")
    train = embedded_corpus(
        "train", validation_books="blake-poems", chunk_characters=None
    )
    assert len(train) == 16
    with pytest.raises(ValueError, match="bible-kjv"):
        embedded_corpus("train", validation_books=["bible-kjv"])
    with pytest.raises(ValueError, match="split"):
        embedded_corpus("test")
    with pytest.raises(ValueError, match="chunk_characters"):
        embedded_corpus("train", chunk_characters=0)


# --- text files ------------------------------------------------------------


def _write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data.encode("utf-8") if isinstance(data, str) else data)
    return str(path)


def test_text_files_modes_directories_and_globs(tmp_path):
    _write(tmp_path / "b.txt", "Second file.\r\nStill second.\r\n")
    _write(tmp_path / "a.txt", "\ufeffFirst file.\n\n  \nMore first.\n")
    _write(tmp_path / "sub" / "c.md", "Third.")
    _write(tmp_path / ".hidden", "never read")
    _write(tmp_path / ".git" / "x.txt", "never read")
    _write(tmp_path / "empty.txt", "  \n")

    files = text_files(str(tmp_path))
    assert [os.path.basename(p) for p in files.files] == [
        "a.txt", "b.txt", "empty.txt", "c.md"
    ]
    assert list(files) == [
        "First file.\n\n  \nMore first.\n",
        "Second file.\nStill second.\n",
        "Third.",
    ]
    # Re-iterable.
    assert len(list(files)) == 3
    assert files.num_bad_documents == 0

    lines = list(text_files(tmp_path, mode="line"))
    assert lines == [
        "First file.", "More first.", "Second file.", "Still second.",
        "Third.",
    ]
    globbed = text_files(str(tmp_path / "**" / "*.md"))
    assert list(globbed) == ["Third."]
    listed = text_files([tmp_path / "b.txt", str(tmp_path / "sub")])
    assert len(list(listed)) == 2


def _latin1_file(tmp_path):
    # "café" in Latin-1: byte 0xe9 at offset 3 of line 2 (file offset 16).
    return _write(
        tmp_path / "bad.txt",
        b"A good line ok.\ncaf\xe9 au lait\nlast line\n",
    )


def test_text_files_strict_names_file_offset_and_fix(tmp_path):
    path = _latin1_file(tmp_path)
    for mode in ("file", "line"):
        with pytest.raises(ValueError) as info:
            list(text_files(path, mode=mode))
        message = str(info.value)
        assert path in message
        assert "byte offset 19" in message
        assert "0xe9" in message
        assert 'errors="replace"' in message and 'errors="skip"' in message


def test_text_files_replace_and_skip_report_counts(tmp_path):
    path = _latin1_file(tmp_path)
    _write(tmp_path / "good.txt", "fine\n")
    replaced = text_files(str(tmp_path), mode="line", errors="replace")
    with pytest.warns(UserWarning, match="1 of the documents .* repaired"):
        docs = list(replaced)
    assert docs == ["A good line ok.", "caf\ufffd au lait", "last line",
                    "fine"]
    assert replaced.num_bad_documents == 1

    skipped = text_files(path, mode="line", errors="skip")
    with pytest.warns(UserWarning, match="skipped.*bad.txt \\(byte 16\\)"):
        docs = list(skipped)
    assert docs == ["A good line ok.", "last line"]
    assert skipped.num_bad_documents == 1

    whole = text_files(path, mode="file", errors="skip")
    with pytest.raises(ValueError, match="no documents"):
        with pytest.warns(UserWarning):
            list(whole)

    clean = text_files(str(tmp_path / "good.txt"), errors="skip")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert list(clean) == ["fine\n"]


def test_text_files_path_errors(tmp_path):
    missing = str(tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match="nope.*does not exist"):
        text_files(missing)
    empty = tmp_path / "empty_dir"
    empty.mkdir()
    with pytest.raises(ValueError, match="empty_dir.*contains no files"):
        text_files(str(empty))
    with pytest.raises(FileNotFoundError, match="matched no files"):
        text_files(str(tmp_path / "*.nothing"))
    with pytest.raises(ValueError, match="paths"):
        text_files([])
    blank = _write(tmp_path / "blank.txt", "\n\n")
    with pytest.raises(ValueError, match="blank.txt.*no documents"):
        list(text_files(blank))
    with pytest.raises(ValueError, match="mode"):
        text_files(blank, mode="paragraph")
    with pytest.raises(ValueError, match="errors"):
        text_files(blank, errors="ignore")


# --- TFDS ------------------------------------------------------------------


def test_tfds_text_missing_module(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorflow_datasets", None)
    with pytest.raises(ImportError, match="pip install tensorflow-datasets"):
        tfds_text("imdb_reviews")


def test_tfds_text_load_error_is_clear():
    pytest.importorskip("tensorflow_datasets")
    with pytest.raises(RuntimeError) as info:
        tfds_text("no_such_dataset_xyz", split="train")
    message = str(info.value)
    assert "'no_such_dataset_xyz'" in message
    assert "download_and_prepare" in message and "text_files" in message


def test_tfds_text_reads_text_offline():
    tfds = pytest.importorskip("tensorflow_datasets")
    with tfds.testing.mock_data(num_examples=3):
        docs = tfds_text("imdb_reviews", split="train")
        texts = list(docs)
        with pytest.raises(ValueError, match="text_key.*'label', 'text'"):
            tfds_text("imdb_reviews", text_key="body")
    assert len(texts) == 3
    assert all(isinstance(t, str) and t for t in texts)
