"""`--task` of `keras-objectives finetune`: files, folders or TFDS.

A task is given as

* a folder with `train.*` and optionally `dev.*` and `test.*` files;
* one training file (dev is then carved from it, seeded);
* `tfds:NAME` for a TFDS classification dataset (needs a network);
* `builtin:book_attribution` or `builtin:author_attribution`: the
  embedded corpus' held-out book tails, labelled by book or by author,
  as the comparison harness evaluates them.

Classification files are read by `keras_objectives.evaluation`'s loaders
(`label_text` `.txt`, `.tsv`, `.csv`, `.jsonl`), tagging files as CoNLL
columns. `task.kind="auto"` takes a `.conll` file, or a file whose
non-blank lines all have the same number (2 to 10) of whitespace-separated
columns with blank lines between sentences, as tagging.
"""

import glob
import os

from keras_objectives.utils import check_choice
from keras_objectives.utils import invalid

KINDS = ("auto", "classification", "tagging")
BUILTIN = {"builtin:book_attribution": "book",
           "builtin:author_attribution": "author"}
_EXTENSIONS = (".txt", ".tsv", ".csv", ".jsonl", ".json", ".conll")


def task_files(spec):
    """`{"train": path, "dev": path?, "test": path?}` of a folder or file.

    Examples:

    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> for name in ("train.txt", "test.txt"):
    ...     _ = open(os.path.join(folder, name), "w").write("1 good\\n")
    >>> sorted(task_files(folder))
    ['test', 'train']
    """
    spec = os.fspath(spec)
    if os.path.isfile(spec):
        return {"train": spec}
    if not os.path.isdir(spec):
        raise invalid(
            "task", spec,
            "a folder with train/dev/test files, a training file, "
            f"tfds:NAME or one of {sorted(BUILTIN)}",
            "No such file or folder")
    files = {}
    for split in ("train", "dev", "test"):
        found = sorted(p for p in glob.glob(os.path.join(spec, split + ".*"))
                       if p.endswith(_EXTENSIONS))
        if len(found) > 1:
            raise invalid("task", spec, f"one {split}.* file",
                          f"Found {found}; keep one")
        if found:
            files[split] = found[0]
    if "train" not in files:
        raise invalid(
            "task", spec,
            f"a folder with a train file ({', '.join(_EXTENSIONS)})",
            f"It holds {sorted(os.listdir(spec))[:10]}")
    return files


def looks_like_conll(path, max_lines=200):
    """Whether a file reads as CoNLL columns (see the module docstring).

    Examples:

    >>> import tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "train.txt")
    >>> _ = open(path, "w").write("He PRP B-NP\\nran VBD B-VP\\n\\nOk UH O\\n")
    >>> looks_like_conll(path)
    True
    """
    if path.endswith(".conll"):
        return True
    if not path.endswith(".txt"):
        return False
    widths, blank = set(), False
    with open(path, encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f):
            if number >= max_lines:
                break
            fields = line.split()
            if not fields:
                blank = blank or bool(widths)
                continue
            widths.add(len(fields))
    return blank and len(widths) == 1 and 2 <= min(widths) <= 10


def resolve_task(spec, options, seed=0):
    """The `ClassificationTask` or `TaggingTask` behind `--task`.

    Args:
        spec: the `--task` value.
        options: the finetune config's `task` dict (`kind`, `format`,
            `label_column`, `text_column`, `header`, `word_column`,
            `tag_column`, `dev_fraction`, `allow_unseen_tags`).
        seed: int, the seed of a dev split carved from train.
    """
    from keras_objectives import evaluation

    kind = check_choice("task.kind", options["kind"], KINDS)
    if isinstance(spec, str) and spec.startswith("tfds:"):
        if kind == "tagging":
            raise invalid("task.kind", kind, "'classification' for tfds:")
        return evaluation.load_tfds(spec[len("tfds:"):],
                                    dev_fraction=options["dev_fraction"],
                                    seed=seed)
    if spec in BUILTIN:
        if kind == "tagging":
            raise invalid("task.kind", kind, f"'classification' for {spec}")
        return evaluation.book_attribution_task(label=BUILTIN[spec])
    files = task_files(spec)
    if kind == "auto":
        kind = ("tagging" if looks_like_conll(files["train"])
                else "classification")
    name = os.path.basename(os.path.normpath(spec))
    if kind == "tagging":
        return evaluation.load_conll(
            **files, word_column=options["word_column"],
            tag_column=options["tag_column"], name=name,
            dev_fraction=options["dev_fraction"], seed=seed,
            allow_unseen_tags=options["allow_unseen_tags"])
    return evaluation.load_classification(
        **files, format=options["format"],
        label_column=options["label_column"],
        text_column=options["text_column"], header=options["header"],
        name=name, dev_fraction=options["dev_fraction"], seed=seed)
