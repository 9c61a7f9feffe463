"""Fixtures for the bad-input table (`tests/bad_input_cases.py`).

The tiny recipes, one small corpus, a snapshot of a workdir, and the
setups that write a case's files into its own directory before it runs.
"""

import json
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

TINY_RECIPE = '''"""A tiny run for tests: 2 x 64 body, length 32, 2 steps."""
from keras_objectives.config import base_config
from keras_objectives.config import set_model_size


def get_config(arg=None):
    config = base_config()
    config["objective"] = "masked_lm"
    config["sequence_length"] = 32
    config["data"].update(source={corpus!r}, vocabulary_size=600)
    set_model_size(config, "tiny")
    config["model"]["max_sequence_length"] = 64
    config["training"].update(global_batch_size=8, steps=2,
                              steps_per_checkpoint=2, warmup_steps=1,
                              eval_batches=1, learning_rate=3e-3)
    config["strategy"] = "cpu"
    return config
'''

COMPARE_RECIPE = '''"""A tiny comparison for tests."""
import importlib.util

_spec = importlib.util.spec_from_file_location("tiny", {tiny!r})
_tiny = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_tiny)


def get_config(arg=None):
    return {{
        "name": "tiny", "seeds": [0, 1], "budget": {{"steps": 2}},
        "base": _tiny.get_config(), "arms": ["masked_lm", "causal_lm"],
        "evaluations": [{{"name": "linear_probe", "task": {task}}}],
        "log_intervals": 1,
    }}
'''


def snapshot(path):
    """Every file under `path` with its size and mtime (None: absent)."""
    if not os.path.exists(path):
        return None
    if os.path.isfile(path):
        return {"": os.path.getsize(path)}
    out = {}
    for root, _, files in os.walk(path):
        for name in files:
            full = os.path.join(root, name)
            out[os.path.relpath(full, path)] = (os.path.getsize(full),
                                                os.path.getmtime(full))
    return out


def write_corpus(folder, documents=20):
    """About 3 KB of book text per file: fast to tokenize."""
    from keras_objectives.data import embedded_corpus

    os.makedirs(folder, exist_ok=True)
    docs = iter(embedded_corpus("train"))
    for i in range(documents):
        with open(os.path.join(folder, f"doc{i:02d}.txt"), "w",
                  encoding="utf-8") as f:
            f.write(next(docs)[:3000])
    return folder


def write_fixtures(folder, corpus_dir):
    """Write the tiny recipes into `folder`; return the placeholders."""
    tiny = os.path.join(folder, "tiny.py")
    with open(tiny, "w") as f:
        f.write(TINY_RECIPE.format(corpus=corpus_dir))
    return {"tiny": tiny, "recipes": os.path.join(ROOT, "recipes"),
            "corpus": corpus_dir}


def write(path, text, encoding="utf-8"):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding=encoding) as f:
        f.write(text)


def compare_with_task(task):
    """A setup writing `{tmp}/compare.py` whose probe task is `task`."""

    def setup(tmp, places):
        spec = task(tmp) if callable(task) else task
        write(os.path.join(tmp, "compare.py"), COMPARE_RECIPE.format(
            tiny=places["tiny"], task=repr(spec)))

    return setup


def task_files(tmp, train="pos a good film\nneg a bad film\n" * 4,
                dev="pos good\nneg bad\n", encoding="utf-8"):
    paths = {}
    for split, text in (("train", train), ("dev", dev)):
        paths[split] = os.path.join(tmp, "task", f"{split}.txt")
        write(paths[split], text, encoding)
    return paths


def recipe(body):
    def setup(tmp, places):
        write(os.path.join(tmp, "recipe.py"), body)

    return setup


def file_at(relative, text="not a directory\n"):
    def setup(tmp, places):
        write(os.path.join(tmp, relative), text)

    return setup


def saved_run(change, extra=None):
    """A workdir holding the tiny recipe's config.json, `change`d."""

    def setup(tmp, places):
        from keras_objectives import config as config_lib

        config = config_lib.validate(config_lib.load_recipe(places["tiny"]))
        change(config)
        write(os.path.join(tmp, "run", "config.json"),
               json.dumps(config, indent=2))
        for relative, text in (extra or {}).items():
            write(os.path.join(tmp, "run", relative), text)

    return setup


def steps(config, value=8):
    config["training"]["steps"] = value


def garbage_config(tmp, places):
    write(os.path.join(tmp, "run", "config.json"), "{not json")


def garbage_comparison(tmp, places):
    compare_with_task("book_attribution")(tmp, places)
    write(os.path.join(tmp, "run", "comparison.json"), "")


def small_validation(tmp, places):
    write(os.path.join(tmp, "val.txt"), "a few words only.\n")


def empty_dir(tmp, places):
    os.makedirs(os.path.join(tmp, "empty"), exist_ok=True)


def pretokenize_file(tmp, places):
    write(os.path.join(tmp, "out"), "a file\n")


def both(*setups):
    """A setup running every one of `setups` in turn."""

    def setup(tmp, places):
        for one in setups:
            one(tmp, places)

    return setup
