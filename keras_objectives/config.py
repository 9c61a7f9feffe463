"""Run configs: the common base, recipe loading and `--config.x=y` overrides.

A recipe is a Python file with `get_config(arg=None)` returning a nested
dict built from `base_config()`, setting only what differs (STYLE.md, 12).
`load_recipe("recipes/masked_lm.py:runlocal")` calls it with `"runlocal"`.
"""

import ast
import copy
import importlib.util
import os


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
            # XLA: off, as compiling costs more than short CPU runs gain;
            # +40% tok/s for a 4 x 256 body (docs/performance.md).
            "jit_compile": False,
            "mixed_precision": None,  # mixed_bfloat16 | mixed_float16.
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


# Fields whose value is free-form (validated by whoever consumes them).
FREE_FORM = ("objective",)


def load_recipe(spec):
    """Load `path.py[:arg]` and return `get_config(arg)`.

    Raises a clear error for a missing file or a recipe without
    `get_config`.
    """
    path, _, arg = spec.partition(":")
    if not os.path.isfile(path):
        raise ValueError(
            f"Invalid value received for argument `recipe`. Expected a path "
            f"to a recipe .py file. Received: recipe={spec!r} (no such file)."
            " See the recipes/ folder for examples."
        )
    name = "keras_objectives_recipe_" + os.path.basename(path)[:-3]
    module_spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    if not hasattr(module, "get_config"):
        raise ValueError(
            f"Recipe {path!r} has no `get_config(arg=None)` function."
        )
    return module.get_config(arg or None)


def _parse_value(text):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        if text in ("none", "null"):
            return None
        if text in ("true", "false"):
            return text == "true"
        return text


def override(config, dotted, value, parse=True):
    """Set `config["a"]["b"] = value` for `dotted="a.b"`, refusing new keys.

    Examples:

    >>> c = override(base_config(), "training.steps", "20")
    >>> c["training"]["steps"]
    20
    """
    config = copy.deepcopy(config)
    keys = dotted.split(".")
    node = config
    for depth, key in enumerate(keys):
        known = node if isinstance(node, dict) else {}
        inside_free = keys[0] in FREE_FORM and depth > 0
        if key not in known and not inside_free:
            where = ".".join(keys[:depth]) or "the recipe"
            raise ValueError(
                f"Unknown recipe field `{dotted}`: `{key}` is not a field of "
                f"{where}. Known fields there: {sorted(known)}."
            )
        if depth == len(keys) - 1:
            node[key] = _parse_value(value) if parse else value
        else:
            if keys[0] in FREE_FORM and not isinstance(node.get(key), dict):
                node[key] = _objective_as_dict(node.get(key))
            node = node[key]
    return config


def _objective_as_dict(value):
    if isinstance(value, str):
        return {"class_name": value, "config": {}}
    return dict(value or {})


def apply_overrides(config, overrides):
    """Apply `["--config.a.b=1", ...]` (or `"a.b=1"`) in order."""
    for item in overrides:
        text = item[len("--config."):] if item.startswith("--config.") else item
        if "=" not in text:
            raise ValueError(
                f"Invalid override {item!r}. Expected `--config.FIELD=VALUE`,"
                " for example `--config.training.steps=200`."
            )
        dotted, value = text.split("=", 1)
        config = override(config, dotted, value)
    return config


def validate(config):
    """Check every field against `base_config()` (unknown fields are errors).

    Returns the config with missing fields filled from the base.
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

    config = merge(base, config, "")
    pretokenized = config["data"]["pretokenized"]
    if pretokenized is not None and (
        not isinstance(pretokenized, str) or not pretokenized.strip()
    ):
        raise ValueError(
            "Invalid value received for recipe field `data.pretokenized`. "
            "Expected None or the directory `keras-objectives pretokenize` "
            "wrote (a local path or gs://bucket/dir). Received: "
            f"data.pretokenized={pretokenized!r}"
        )
    return config


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


def apply_run_type(config, arg):
    """Apply a recipe's `:arg` run type; `runlocal` is a CPU smoke run.

    `runlocal` keeps the objective, the data and the vocabulary (the
    default one ships with the package, so nothing is trained) and shrinks
    the model (`tiny`) and the steps, so it finishes in a few minutes on 2
    CPU cores.
    """
    if arg is None:
        return config
    if arg != "runlocal":
        raise ValueError(
            f"Unknown recipe argument {arg!r}. Use `RECIPE.py:runlocal` for "
            "a CPU smoke run, or no argument for the full run."
        )
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
    if arg == "runlocal":
        config.update(strategy="cpu", tpu=None, sequence_length=128)
        config["data"].update(source="embedded", validation=None,
                              vocabulary_size=8192, pretokenized=None)
        config["model"].update(dropout=0.0, max_sequence_length=512)
        config["training"].update(global_batch_size=32, jit_compile=False,
                                  mixed_precision=None, peak_flops=None)
    return config
