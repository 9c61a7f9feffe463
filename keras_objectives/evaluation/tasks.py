"""Downstream tasks: the user's labelled files, TFDS/GLUE, and built-ins.

Classification files, one example per line or row:

* `"label_text"` (`.txt`): `<label> <text>`, SST-2 style;
* `"tsv"` / `"csv"`: a header row naming the columns (`label_column`,
  `text_column`), or integer columns with `header=False`;
* `"jsonl"`: one object per line with `label_column` and `text_column` keys.

Tagging files (`load_conll`): one token per line, whitespace-separated
columns (`word POS chunk` for CoNLL-2000), a blank line between sentences.

Labels are the sorted labels of the training split; a dev or test label
never seen in training, an empty split, or a ragged CoNLL file raises an
error naming the file (and line). Without a dev file, `dev_fraction` of the
training examples (seeded) becomes the dev split, so that selection never
touches the test split.
"""

import csv
import json
import os

import numpy as np

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.evaluation.task import ClassificationTask
from keras_objectives.evaluation.task import TaggingTask
from keras_objectives.utils import check_choice
from keras_objectives.utils import invalid

FORMATS = ("label_text", "tsv", "csv", "jsonl")
_EXTENSIONS = {".txt": "label_text", ".tsv": "tsv", ".csv": "csv",
               ".jsonl": "jsonl", ".json": "jsonl"}


def _sort_labels(labels):
    labels = sorted(set(labels))
    try:
        return sorted(labels, key=float)
    except ValueError:
        return labels


def _check_nonempty(examples, split, source):
    if not examples:
        raise ValueError(
            f"Invalid value received for the `{split}` split: it has no "
            f"examples. Received: {split}={source!r}. Pass a file with at "
            "least one example."
        )


def _check_known(labels, known, split, source, fix=None):
    unknown = sorted(set(labels) - set(known))
    if unknown:
        raise ValueError(
            f"Invalid value received for the `{split}` split: the labels "
            f"{unknown} never occur in the training split ({sorted(known)}). "
            f"Received: {split}={source!r}. "
            + (fix or "Fix the labels, or add training examples with them.")
        )


def _carve_dev(examples, dev_fraction, seed):
    order = np.random.default_rng(seed).permutation(len(examples))
    count = int(round(len(examples) * dev_fraction))
    if count < 1 or count >= len(examples):
        raise invalid("dev_fraction", dev_fraction,
                      f"a fraction leaving both train and dev non-empty "
                      f"for {len(examples)} training examples",
                      "Pass a `dev` file")
    dev = set(order[:count].tolist())
    return ([e for i, e in enumerate(examples) if i not in dev],
            [e for i, e in enumerate(examples) if i in dev])


def _open(path):
    if not os.path.isfile(path):
        raise invalid("path", os.fspath(path), "an existing file")
    return open(path, encoding="utf-8", newline="")


def _read_split(split, path, reader, *args):
    """`reader(path, *args)`; a file that is not UTF-8 names its split."""
    try:
        return reader(path, *args)
    except UnicodeDecodeError as e:
        raise ValueError(
            f"Invalid value received for the `{split}` split: "
            f"{os.fspath(path)!r} is not UTF-8 text (byte "
            f"{e.object[e.start]:#04x} at byte offset {e.start}). Re-save it "
            "as UTF-8, e.g. `iconv -f latin1 -t utf-8 FILE > FILE.utf8`."
        ) from None


def _read_label_text(path):
    out = []
    with _open(path) as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            label, _, text = line.partition(" ")
            if not text.strip():
                raise ValueError(
                    f"{path}:{number}: expected `<label> <text>`, found no "
                    f"text after the label. Received line: {line!r}."
                )
            out.append((label, text.strip()))
    return out


def _read_delimited(path, delimiter, label_column, text_column, header):
    with _open(path) as f:
        rows = list(csv.reader(f, delimiter=delimiter))
    rows = [r for r in rows if any(c.strip() for c in r)]
    if header is None:
        header = not (isinstance(label_column, int)
                      and isinstance(text_column, int))
    columns = []
    if header:
        if not rows:
            return []
        names, rows = rows[0], rows[1:]
        for column in (label_column, text_column):
            if isinstance(column, int):
                columns.append(column)
            elif column in names:
                columns.append(names.index(column))
            else:
                raise ValueError(
                    f"{path}: the header has no column {column!r}. Expected "
                    f"one of {names}. Pass `label_column=`/`text_column=`."
                )
    else:
        columns = [label_column, text_column]
    out = []
    first = 2 if header else 1
    for number, row in enumerate(rows, first):
        if max(columns) >= len(row):
            raise ValueError(
                f"{path}:{number}: expected at least {max(columns) + 1} "
                f"columns, found {len(row)}. Received row: {row!r}."
            )
        out.append((row[columns[0]].strip(), row[columns[1]].strip()))
    return out


def _read_jsonl(path, label_column, text_column):
    out = []
    with _open(path) as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                out.append((str(item[label_column]), str(item[text_column])))
            except (ValueError, KeyError, TypeError) as error:
                raise ValueError(
                    f"{path}:{number}: expected a JSON object with keys "
                    f"{label_column!r} and {text_column!r}. Received line: "
                    f"{line.strip()[:80]!r} ({error})."
                ) from None
    return out


def read_classification_file(path, format=None, label_column="label",
                             text_column="text", header=None):
    """`(label, text)` string pairs of one file (module docstring)."""
    path = os.fspath(path)
    if format is None:
        ext = os.path.splitext(path)[1].lower()
        format = _EXTENSIONS.get(ext)
        if format is None:
            raise invalid("format", None, f"one of {list(FORMATS)} (the "
                          f"extension {ext!r} of {path!r} is not known)")
    check_choice("format", format, FORMATS)
    if format == "label_text":
        return _read_label_text(path)
    if format == "jsonl":
        return _read_jsonl(path, label_column, text_column)
    delimiter = "\t" if format == "tsv" else ","
    return _read_delimited(path, delimiter, label_column, text_column,
                           header)


def make_classification_task(name, train, dev=None, test=None,
                             dev_fraction=0.1, seed=0, sources=None):
    """A `ClassificationTask` from lists of `(label, text)` pairs."""
    sources = sources or {}
    raw = {"train": list(train)}
    if dev is None:
        raw["train"], raw["dev"] = _carve_dev(raw["train"], dev_fraction,
                                              seed)
    else:
        raw["dev"] = list(dev)
    if test is not None:
        raw["test"] = list(test)
    for split, examples in raw.items():
        _check_nonempty(examples, split, sources.get(split))
    label_names = _sort_labels(label for label, _ in raw["train"])
    index = {label: i for i, label in enumerate(label_names)}
    splits = {}
    for split, examples in raw.items():
        labels = [label for label, _ in examples]
        _check_known(labels, label_names, split, sources.get(split))
        splits[split] = ([t for _, t in examples],
                         np.array([index[x] for x in labels], np.int64))
    return ClassificationTask(name, label_names, splits)


@keras_objectives_export("keras_objectives.evaluation.load_classification")
def load_classification(train, dev=None, test=None, format=None,
                        label_column="label", text_column="text",
                        header=None, name=None, dev_fraction=0.1, seed=0):
    """Load a text classification task from the user's files.

    Args:
        train, dev, test: paths (`dev`, `test` optional; without `dev`,
            `dev_fraction` of train becomes dev).
        format: one of `"label_text"`, `"tsv"`, `"csv"`, `"jsonl"`, or
            `None` to infer it from the extension (`.txt`, `.tsv`, `.csv`,
            `.jsonl`).
        label_column, text_column: header names (or JSON keys), or column
            indices for headerless TSV/CSV.
        header: bool or `None` (a header unless both columns are ints).
        name: str, defaults to the training file's folder name.
        dev_fraction: float, used only without a `dev` file.
        seed: int, the dev carve-out seed.

    Returns:
        A `ClassificationTask`.

    Examples:

    >>> import tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> for split in ("train", "dev"):
    ...     with open(os.path.join(folder, split + ".txt"), "w") as f:
    ...         _ = f.write("1 a fine film\\n0 a dull film\\n")
    >>> task = load_classification(os.path.join(folder, "train.txt"),
    ...                            os.path.join(folder, "dev.txt"))
    >>> task.label_names, task.split("dev")[1].tolist()
    (['0', '1'], [1, 0])
    """
    paths = {"train": train, "dev": dev, "test": test}
    read = {k: _read_split(k, p, read_classification_file, format,
                           label_column, text_column, header)
            for k, p in paths.items() if p is not None}
    name = name or os.path.basename(os.path.dirname(os.path.abspath(train)))
    return make_classification_task(
        name, read["train"], read.get("dev"), read.get("test"),
        dev_fraction=dev_fraction, seed=seed,
        sources={k: os.fspath(p) for k, p in paths.items() if p},
    )


def read_conll_file(path, word_column=0, tag_column=-1):
    """Sentences `(words, tags)` of a CoNLL-style column file."""
    path = os.fspath(path)
    sentences, words, tags, width = [], [], [], None
    with _open(path) as f:
        for number, line in enumerate(f, 1):
            fields = line.split()
            if not fields or fields[0] == "-DOCSTART-":
                if words:
                    sentences.append((words, tags))
                words, tags = [], []
                continue
            width = width or len(fields)
            if len(fields) != width:
                raise ValueError(
                    f"{path}:{number}: expected {width} columns like the "
                    f"first token line, found {len(fields)}. Received line: "
                    f"{line.rstrip()!r}. Fix the file so every token line "
                    "has the same columns."
                )
            try:
                words.append(fields[word_column])
                tags.append(fields[tag_column])
            except IndexError:
                raise invalid("tag_column", tag_column,
                              f"a column index of {path} ({width} columns)"
                              ) from None
    if words:
        sentences.append((words, tags))
    return sentences


@keras_objectives_export("keras_objectives.evaluation.load_conll")
def load_conll(train, dev=None, test=None, word_column=0, tag_column=-1,
               name=None, dev_fraction=0.1, seed=0, allow_unseen_tags=False):
    """Load a tagging task (for example CoNLL-2000 chunking) from files.

    Args:
        train, dev, test: paths of CoNLL column files (`dev`, `test`
            optional; without `dev`, `dev_fraction` of the training
            sentences becomes dev).
        word_column: int, the column of the word.
        tag_column: int, the column of the tag (`-1`: the last, the chunk
            tag of CoNLL-2000).
        name: str, defaults to the training file's folder name.
        dev_fraction: float, used only without a `dev` file.
        seed: int, the dev carve-out seed.
        allow_unseen_tags: bool. By default a dev or test tag that never
            occurs in train is an error; allow it for benchmarks whose test
            set has rare tags the training set lacks (CoNLL-2000's test has
            `I-LST`). The probe never predicts such a tag, so it counts
            against token accuracy and chunk recall.

    Returns:
        A `TaggingTask` whose splits are `(sentences, tags)`.
    """
    paths = {"train": train, "dev": dev, "test": test}
    raw = {k: _read_split(k, p, read_conll_file, word_column, tag_column)
           for k, p in paths.items() if p is not None}
    if dev is None:
        raw["train"], raw["dev"] = _carve_dev(raw["train"], dev_fraction,
                                              seed)
    for split, sentences in raw.items():
        _check_nonempty(sentences, split, paths.get(split))
    tag_names = _sort_labels(t for _, tags in raw["train"] for t in tags)
    for split, sentences in raw.items():
        if not allow_unseen_tags:
            _check_known([t for _, tags in sentences for t in tags],
                         tag_names, split, paths.get(split),
                         "Fix the tags, or pass `allow_unseen_tags=True` to "
                         "score them as never predicted.")
    name = name or os.path.basename(os.path.dirname(os.path.abspath(train)))
    splits = {k: ([w for w, _ in v], [t for _, t in v])
              for k, v in raw.items()}
    return TaggingTask(name, tag_names, splits)


@keras_objectives_export("keras_objectives.evaluation.load_tfds")
def load_tfds(name="glue/sst2", data_dir=None, dev_fraction=0.1, seed=0):
    """Load a single-sentence TFDS classification task (needs a network).

    GLUE's `validation` split is the dev split; test splits without labels
    (GLUE's, label -1) are dropped.

    Args:
        name: a TFDS name whose examples have `label` and `sentence` (or
            `text`), for example `"glue/sst2"`, `"glue/cola"`, `"imdb_reviews"`.
        data_dir: optional TFDS data directory.
        dev_fraction, seed: as `load_classification`, without a
            `validation` split.
    """
    try:
        import tensorflow_datasets as tfds
    except ImportError:
        raise ImportError(
            "load_tfds needs tensorflow-datasets: `pip install "
            "tensorflow-datasets`."
        ) from None
    try:
        builder = tfds.builder(name, data_dir=data_dir)
        builder.download_and_prepare()
    except Exception as error:  # Offline, unknown name, ...
        raise RuntimeError(
            f"Could not load the TFDS dataset {name!r} ({error}). It needs a "
            "network the first time. Offline, download the data elsewhere "
            "and pass the files to `load_classification` instead."
        ) from error
    names = builder.info.features["label"].names
    raw = {}
    for split in builder.info.splits:
        examples = []
        for item in tfds.as_numpy(builder.as_dataset(split=split)):
            key = "sentence" if "sentence" in item else "text"
            if int(item["label"]) >= 0:
                examples.append((names[int(item["label"])],
                                 item[key].decode("utf-8")))
        if examples:
            raw["dev" if split == "validation" else split] = examples
    return make_classification_task(
        name.replace("/", "_"), raw["train"], raw.get("dev"),
        raw.get("test"), dev_fraction=dev_fraction, seed=seed,
        sources={k: f"tfds:{name}" for k in raw},
    )
