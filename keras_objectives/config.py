"""Run configs: the common base, recipe loading and `--config.x=y` overrides.

A recipe is a Python file with `get_config(arg=None)` returning a nested
dict built from `base_config()`, setting only what differs.
`load_recipe("recipes/masked_lm.py:runlocal")` calls it with `"runlocal"`.
"""

import copy
import importlib.util
import os

from keras_objectives.config_checks import check_run_config
from keras_objectives.overrides import RUN
from keras_objectives.overrides import apply_overrides  # noqa: F401
from keras_objectives.overrides import override  # noqa: F401
from keras_objectives.overrides import parse_value
from keras_objectives.overrides import split_top_level


def base_config():
    """The fields every run has, with the defaults and why."""
    return {
        "seed": 0,  # Derives every random choice: data order, noise, init.
        "objective": "masked_lm",  # Name or {"class_name", "config"}.
        "sequence_length": 128,  # BERT phase 1 / ELECTRA-Small length.
        "data": {
            "source": "embedded",  # Public-domain books in the package.
            # Held-out split: book names (embedded), a path (your text) or
            # a TFDS split; None: the default books / last 5% of documents.
            "validation": None,
            "mode": "file",  # Your text: one document per "file" or "line".
            "vocabulary_size": 8192,  # Small corpus: a small vocabulary.
            "lowercase": True,
            "errors": "strict",  # Non-UTF-8 input: strict|replace|skip.
            # A `keras-objectives pretokenize` output (local or gs://): read
            # its packed rows and vocabulary; tokenize nothing. None: the
            # fields above are read and tokenized in-process (cached).
            "pretokenized": None,
            # Word boundaries for whole-word masking of text without spaces
            # (Chinese): "auto" segments a mostly-CJK corpus with jieba
            # (the [zh] extra), None never segments, "jieba"/"char" force.
            "segmenter": "auto",
            # "wordpiece" (CJK-aware for Chinese) or "sentencepiece" (a
            # unigram model trained on the train split).
            "tokenizer": "wordpiece",
        },
        "model": {
            "backbone": "body",  # body|bert|gpt2|a keras-hub preset.
            "num_layers": 4,
            "num_heads": 4,
            "hidden_dim": 256,  # ELECTRA-Small width.
            "intermediate_dim": 1024,  # 4 x hidden, as BERT.
            "max_sequence_length": 512,
            "dropout": 0.0,  # Short runs under-fit; dropout only hurts.
            "document_masking": False,  # Attend only within a document.
        },
        "training": {
            "global_batch_size": 32,  # Summed over replicas and workers.
            "steps": 1000,
            "learning_rate": 5e-4,  # ELECTRA-Small's rate.
            "warmup_steps": 100,
            "weight_decay": 0.01,
            "clipnorm": 1.0,
            "steps_per_checkpoint": 100,  # Also the logging interval.
            "keep_checkpoints": 3,
            "eval_batches": 8,  # Held-out batches per evaluation.
            # XLA "auto": per precision and CPU (keras_objectives.precision,
            # docs/performance.md); off for short runs and several replicas.
            "jit_compile": "auto",
            # None (float32, on every CPU: results do not depend on it) |
            # mixed_bfloat16 (1.6-1.9x with AMX, slower if emulated).
            "mixed_precision": None,
            "deterministic": False,  # tf op determinism (bitwise resume).
            "peak_flops": None,  # Hardware peak FLOP/s, for MFU.
            # Audit: each worker appends the rows it reads to
            # example_ids.txt (with the few batches prefetched past the end).
            "log_example_ids": False,
            # Keep the initial weights (checkpoints/initial/): comparisons
            # evaluate them as the untrained reference of the same body.
            "save_initial_weights": False,
        },
        "strategy": "auto",  # auto|cpu|mirrored|multi_worker_mirrored|tpu
        "devices": None,  # For "mirrored": e.g. ["/cpu:0", "/cpu:1"].
        "tpu": None,  # For "tpu": "local", a name or an address.
    }


# Fields whose insides are free-form (the objective's options).
FREE_FORM = RUN.free_form


def _recipe_path(spec):
    path, _, arg = spec.partition(":")
    problem = None
    if os.path.isdir(path):
        problem = "a directory; name a recipe .py file in it"
    elif not path.endswith(".py"):
        problem = ("not a .py file" + (f"; did you mean {path + '.py'!r}?"
                                       if os.path.isfile(path + ".py")
                                       else ""))
    elif not os.path.isfile(path):
        problem = "no such file"
    if problem:
        raise ValueError(
            f"Invalid value received for argument `recipe`. Expected a path "
            f"to a recipe .py file, optionally with `:args`. Received: "
            f"recipe={spec!r} ({problem}). See the recipes/ folder for "
            "examples."
        )
    return path, arg


def load_recipe(spec):
    """Load `path.py[:arg]` and return `get_config(arg)`.

    Raises:
        ValueError: naming the recipe file, for a path that is not a .py
            file, a recipe that fails to import, has no `get_config`, whose
            `get_config` fails, or that returns something other than a dict.
    """
    if not isinstance(spec, str) or not spec:
        raise ValueError(
            "Invalid value received for argument `recipe`. Expected a path "
            f"to a recipe .py file. Received: recipe={spec!r}"
        )
    path, arg = _recipe_path(spec)
    name = "keras_objectives_recipe_" + os.path.basename(path)[:-3]
    module_spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(module_spec)
    try:
        module_spec.loader.exec_module(module)
    except Exception as e:
        raise ValueError(
            f"Recipe {path!r} failed to load: {_describe(e)}. Fix the "
            "recipe file (rerun with --debug for the traceback)."
        ) from e
    if not callable(getattr(module, "get_config", None)):
        raise ValueError(
            f"Recipe {path!r} has no `get_config(arg=None)` function. A "
            "recipe defines `get_config(arg=None)` returning its config "
            "dict; see the recipes/ folder."
        )
    try:
        config = module.get_config(arg or None)
    except ValueError:
        raise  # The recipe's own message (e.g. an unknown `:arg` key).
    except Exception as e:
        raise ValueError(
            f"Recipe {path!r}: get_config({arg or None!r}) raised "
            f"{_describe(e)}. Fix the recipe (rerun with --debug for the "
            "traceback)."
        ) from e
    if not isinstance(config, dict):
        raise ValueError(
            f"Recipe {path!r}: get_config({arg or None!r}) returned a "
            f"{type(config).__name__}. Expected a dict (a run config from "
            "`base_config()`, or a comparison or tuning recipe)."
        )
    return config


def _describe(error):
    where = ""
    if isinstance(error, SyntaxError) and error.lineno:
        where = f" at line {error.lineno}"
    return f"{type(error).__name__}{where}: {error}"


def _describe_args(defaults):
    return ", ".join(f"{k}={v!r}" for k, v in defaults.items()) or "none"


def _check_arg_type(key, value, default, defaults):
    if default is None or value is None:
        return value
    if isinstance(default, bool):
        ok = isinstance(value, bool)
        expected = "True or False (a bare word is True)"
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
        expected = "an integer"
    elif isinstance(default, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
        expected = "a number"
    else:
        ok = isinstance(value, type(default))
        expected = f"a {type(default).__name__}"
    if not ok:
        raise ValueError(
            f"Invalid value received for recipe argument `{key}`. Expected "
            f"{expected}. Received: {key}={value!r}. This recipe's "
            f"arguments and defaults: {_describe_args(defaults)}."
        )
    return value


def recipe_args(arg, **defaults):
    """Parse a recipe's `:arg` string in big_vision form.

    `RECIPE.py:runlocal,seeds=5,budget=1e13` calls the recipe's
    `get_config("runlocal,seeds=5,budget=1e13")`, which passes the string
    here with its keys and their defaults. A bare word sets that key to
    `True`; `key=value` values are Python literals (lists may hold commas),
    else strings (a string default always keeps the raw text). `None` or
    `""` gives the defaults. An unknown key, a repeated key or a value of
    the wrong type raises a `ValueError` that lists the known keys and
    their defaults: that message is how a recipe documents its keys.

    Args:
        arg: the recipe argument string, or `None`.
        **defaults: every key the recipe takes, with its default.

    Returns:
        A dict with every key of `defaults`.

    Examples:

    >>> recipe_args("runlocal,seeds=5,budget=1e13", runlocal=False,
    ...             seeds=3, budget=None)
    {'runlocal': True, 'seeds': 5, 'budget': 10000000000000.0}
    >>> recipe_args(None, runlocal=False)
    {'runlocal': False}
    >>> recipe_args("bogus", runlocal=False)
    Traceback (most recent call last):
    ...
    ValueError: Unknown recipe argument `bogus`. This recipe's arguments and \
defaults: runlocal=False. Give them as `RECIPE.py:key=value,flag`, e.g. \
`RECIPE.py:runlocal`.
    """
    if arg is not None and not isinstance(arg, str):
        raise ValueError(
            "Invalid value received for argument `arg`. Expected None or a "
            f"string such as 'runlocal,seeds=5'. Received: arg={arg!r}"
        )
    out = dict(defaults)
    seen = set()
    for item in split_top_level(arg or ""):
        key, has_value, text = item.partition("=")
        key = key.strip()
        if key not in defaults:
            example = ",".join(
                k if isinstance(v, bool) else f"{k}={v!r}"
                for k, v in list(defaults.items())[:2]) or "key=value"
            raise ValueError(
                f"Unknown recipe argument `{key}`. This recipe's arguments "
                f"and defaults: {_describe_args(defaults)}. Give them as "
                f"`RECIPE.py:key=value,flag`, e.g. `RECIPE.py:{example}`."
            )
        if key in seen:
            raise ValueError(
                f"Recipe argument `{key}` is given twice in {arg!r}. Give "
                "each argument once."
            )
        seen.add(key)
        if not has_value:
            value = True
        elif isinstance(defaults[key], str):
            value = text.strip()
        else:
            value = parse_value(text.strip())
        out[key] = _check_arg_type(key, value, defaults[key], defaults)
    return out


def validate(config):
    """Check a run config; return it with missing fields from the base.

    Unknown fields are errors, and so is every value of the wrong type or
    out of its range (`config_checks.check_run_config`): the message names
    the dotted field, the value and a `--config.FIELD=VALUE` that fixes it.
    The objective's options are checked against its class signature.

    >>> validate({"training": {"steps": 5}})["training"]["steps"]
    5
    >>> validate({"training": {"learning_rate": -0.5}})
    Traceback (most recent call last):
    ...
    ValueError: Invalid value received for `training.learning_rate`. \
Expected a finite number > 0. Received: training.learning_rate=-0.5. For \
example --config.training.learning_rate=0.0005.
    """
    base = base_config()

    def merge(defaults, given, prefix):
        out = copy.deepcopy(defaults)
        for key, value in given.items():
            path = f"{prefix}{key}"
            if key not in defaults:
                raise ValueError(
                    f"Unknown recipe field `{path}`. Known fields: "
                    f"{sorted(prefix + k for k in defaults)}."
                )
            if isinstance(defaults[key], dict) and key not in FREE_FORM:
                if not isinstance(value, dict):
                    raise ValueError(
                        f"Invalid value received for recipe field `{path}`. "
                        f"Expected a dict. Received: {path}={value!r}"
                    )
                out[key] = merge(defaults[key], value, path + ".")
            else:
                out[key] = value
        return out

    if not isinstance(config, dict):
        raise ValueError(
            "Invalid value received for argument `config`. Expected the "
            "dict a recipe's `get_config()` returns. Received: config of "
            f"type {type(config).__name__}."
        )
    return check_run_config(merge(base, config, ""))


# Layered sizes (big_vision style): model size x run type x experiment.
MODEL_SIZES = {
    # name: (layers, heads, hidden, intermediate)
    "tiny": (2, 2, 64, 256),  # CPU smoke runs and tests.
    "mini": (4, 4, 256, 1024),  # BERT-Mini / ELECTRA-Small width.
    "small": (6, 8, 512, 2048),
    "base": (12, 12, 768, 3072),  # BERT-base, T5-base, GPT-2 small.
}


def set_model_size(config, size):
    """Set `model.*` dims to one of `MODEL_SIZES`."""
    if size not in MODEL_SIZES:
        raise ValueError(
            f"Invalid value received for argument `size`. Expected one of "
            f"{sorted(MODEL_SIZES)}. Received: size={size!r}"
        )
    layers, heads, hidden, intermediate = MODEL_SIZES[size]
    config["model"].update(num_layers=layers, num_heads=heads,
                           hidden_dim=hidden, intermediate_dim=intermediate)
    return config


def run_args(arg):
    """A training recipe's `:arg` as a dict: `runlocal` (default False).

    Takes the string (parsed with `recipe_args`) or a dict a recipe already
    parsed with more keys of its own.

    >>> run_args("runlocal")
    {'runlocal': True}
    """
    if isinstance(arg, dict):
        return dict(arg)
    return recipe_args(arg, runlocal=False)


def apply_run_type(config, arg):
    """Apply a recipe's `:arg` run type; `runlocal` is a CPU smoke run.

    `runlocal` keeps the objective, the data and the vocabulary (the
    default one ships with the package, so nothing is trained) and shrinks
    the model (`tiny`) and the steps, so it finishes in a few minutes on 2
    CPU cores.

    Args:
        config: the recipe's run config (changed in place and returned).
        arg: the `:arg` string, or the dict `recipe_args` returned.
    """
    if not run_args(arg).get("runlocal"):
        return config
    set_model_size(config, "tiny")
    config["training"].update(steps=200, steps_per_checkpoint=50,
                              warmup_steps=20, eval_batches=4)
    return config


# Stated peaks for MFU and the cost estimates of `recipes/tpu/` (bf16).
TPU_PEAK_FLOPS = {
    "v3-8": 420e12,  # The v3-8 board's stated 420 TFLOP/s (4 chips).
    "v4-8": 1100e12,  # 4 chips x 275 TFLOP/s.
}


def apply_tpu_run_type(config, arg):
    """Apply a `recipes/tpu/` recipe's `:arg`; `runlocal` runs on the CPU.

    The full run reads `data.pretokenized` on a TPU (`strategy="tpu"`,
    bfloat16, XLA). `runlocal` is `apply_run_type`'s smoke run (tiny
    model, 200 steps) on the CPU with the embedded books tokenized in the
    process (the shipped vocabulary), length 128 and batch 32: the
    objective and the backbone kind stay.
    """
    config = apply_run_type(config, arg)
    if run_args(arg).get("runlocal"):
        config.update(strategy="cpu", tpu=None, sequence_length=128)
        config["data"].update(source="embedded", validation=None,
                              vocabulary_size=8192, pretokenized=None)
        config["model"].update(dropout=0.0, max_sequence_length=512)
        config["training"].update(global_batch_size=32, jit_compile=False,
                                  mixed_precision=None, peak_flops=None)
    return config
