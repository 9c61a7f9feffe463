"""Every run-config field's type and range, checked before anything runs.

`config.validate` calls `check_run_config` after filling in defaults, so a
bad value fails in a second, with its dotted name, the value and the fix,
instead of as a traceback (or a silent gradient ascent) minutes later.
`check_objective` checks an objective identifier and its options against
the objective class's signature, with "did you mean" for a typo.
"""

import difflib
import inspect
import os

from keras_objectives.utils import is_finite_number

STRATEGIES = ("auto", "cpu", "one_device", "mirrored",
              "multi_worker_mirrored", "tpu")
MIXED_PRECISION = (None, "mixed_bfloat16", "mixed_float16", "float32")
# Backbones built from the config's dims (a preset ignores them).
DIM_BACKBONES = ("body", "bert", "gpt2", "t5", "bart")
# Run-time arguments every objective takes from the run, not the recipe.
RUNTIME_ARGUMENTS = ("special_tokens", "sequence_length", "seed")


def _fail(field, value, expected, fix=None):
    message = (f"Invalid value received for `{field}`. Expected {expected}. "
               f"Received: {field}={value!r}")
    return ValueError(message + (f". {fix}" if fix else "") + ".")


def _fix(field, example):
    return f"For example --config.{field}={example}"


def check_integer(field, value, minimum=None, maximum=None, example=None):
    """An int (not a bool) in `[minimum, maximum]`; returns it."""
    bounds = [f">= {minimum}"] if minimum is not None else []
    bounds += [f"<= {maximum}"] if maximum is not None else []
    expected = " ".join(["an integer", " and ".join(bounds)]).strip()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if (isinstance(value, bool) or not isinstance(value, int)
            or (minimum is not None and value < minimum)
            or (maximum is not None and value > maximum)):
        raise _fail(field, value, expected,
                    _fix(field, example if example is not None else minimum))
    return value


def check_number(field, value, minimum=0.0, strict=False, below=None,
                 allow_none=False, example=None):
    """A finite number `> minimum` (strict) or `>= minimum`, `< below`."""
    if value is None and allow_none:
        return None
    bound = f"{'>' if strict else '>='} {minimum:g}"
    expected = f"a finite number {bound}" + (
        f" and < {below:g}" if below is not None else "") + (
        " or None" if allow_none else "")
    ok = is_finite_number(value)
    if ok:
        value = float(value)
        ok = ((value > minimum if strict else value >= minimum)
              and (below is None or value < below))
    if not ok:
        raise _fail(field, value, expected, _fix(
            field, example if example is not None else "None"))
    return value


def check_bool(field, value, also=""):
    if not isinstance(value, bool):
        raise _fail(field, value, "True or False" + (f" {also}" if also
                                                     else ""),
                    _fix(field, "True"))
    return value


def check_choice(field, value, choices):
    if value not in choices:
        raise _fail(field, value, f"one of {list(choices)}",
                    _fix(field, next(c for c in choices if c is not None)))
    return value


def _check_paths(field, value, allow_none):
    if value is None and allow_none:
        return None
    items = value if isinstance(value, (list, tuple)) else [value]
    if not items or not all(isinstance(v, str) and v.strip()
                            for v in items):
        raise _fail(field, value, "a path (a file, a directory or a glob), "
                    "a list of them" + (", or None" if allow_none else ""),
                    _fix(field, "path/to/text"))
    return value


def _check_data(d):
    if not (isinstance(d["source"], str) and (
            d["source"] == "embedded" or d["source"].startswith("tfds:"))):
        _check_paths("data.source", d["source"], allow_none=False)
    if not (d["source"] == "embedded" and isinstance(d["validation"], list)):
        _check_paths("data.validation", d["validation"], allow_none=True)
    check_choice("data.mode", d["mode"], ("file", "line"))
    check_choice("data.errors", d["errors"], ("strict", "replace", "skip"))
    check_bool("data.lowercase", d["lowercase"])
    from keras_objectives.data.special_tokens import reserved_tokens

    d["vocabulary_size"] = check_integer(
        "data.vocabulary_size", d["vocabulary_size"],
        minimum=len(reserved_tokens()) + 1, example=8192)
    # Chinese word segmentation and the tokenizer (owned by the zh work).
    check_choice("data.segmenter", d["segmenter"],
                 ("auto", "jieba", "char", "none", None))
    check_choice("data.tokenizer", d["tokenizer"],
                 ("wordpiece", "sentencepiece"))
    pretokenized = d["pretokenized"]
    if pretokenized is not None and (
            not isinstance(pretokenized, str) or not pretokenized.strip()):
        raise _fail("data.pretokenized", pretokenized, "None or the "
                    "directory `keras-objectives pretokenize` wrote (a local "
                    "path or gs://bucket/dir)")


def _check_backbone(backbone):
    if isinstance(backbone, str) and (
            backbone in DIM_BACKBONES or os.path.isdir(backbone)
            or "://" in backbone):
        return  # A local preset directory, or kaggle:// / hf:// handles.
    import keras_hub

    if isinstance(backbone, str) and backbone in (
            keras_hub.models.Backbone.presets):
        return
    raise _fail("model.backbone", backbone, "one of "
                f"{list(DIM_BACKBONES)}, a keras-hub preset name (such as "
                "'bert_tiny_en_uncased') or a local preset directory",
                "For example --config.model.backbone=body")


def _check_model(config):
    m = config["model"]
    _check_backbone(m["backbone"])
    for field in ("num_layers", "num_heads", "hidden_dim",
                  "intermediate_dim"):
        m[field] = check_integer(f"model.{field}", m[field], minimum=1)
    m["max_sequence_length"] = check_integer(
        "model.max_sequence_length", m["max_sequence_length"], minimum=2)
    m["dropout"] = check_number("model.dropout", m["dropout"], below=1.0,
                                example=0.1)
    check_bool("model.document_masking", m["document_masking"])
    if m["backbone"] not in DIM_BACKBONES:
        return  # A preset brings its own dims.
    if m["hidden_dim"] % m["num_heads"]:
        raise ValueError(
            "Invalid values received for `model.hidden_dim` and "
            "`model.num_heads`. Expected hidden_dim to be a multiple of "
            f"num_heads. Received: model.hidden_dim={m['hidden_dim']}, "
            f"model.num_heads={m['num_heads']}. For example "
            f"--config.model.hidden_dim={m['num_heads'] * 16}."
        )
    if config["sequence_length"] > m["max_sequence_length"]:
        raise ValueError(
            "Invalid value received for `sequence_length`. Expected at most "
            f"model.max_sequence_length={m['max_sequence_length']} (the "
            "position embeddings). Received: sequence_length="
            f"{config['sequence_length']}. Lower it, or raise "
            "--config.model.max_sequence_length."
        )


def _check_training(t):
    t["global_batch_size"] = check_integer(
        "training.global_batch_size", t["global_batch_size"], minimum=1,
        example=32)
    t["steps"] = check_integer("training.steps", t["steps"], minimum=1)
    t["learning_rate"] = check_number(
        "training.learning_rate", t["learning_rate"], strict=True,
        example=5e-4)
    t["warmup_steps"] = check_integer("training.warmup_steps",
                                      t["warmup_steps"], minimum=0)
    t["weight_decay"] = check_number("training.weight_decay",
                                     t["weight_decay"], example=0.01)
    t["clipnorm"] = check_number("training.clipnorm", t["clipnorm"],
                                 strict=True, allow_none=True)
    for field in ("steps_per_checkpoint", "keep_checkpoints",
                  "eval_batches"):
        t[field] = check_integer(f"training.{field}", t[field], minimum=1)
    per_checkpoint = min(t["steps_per_checkpoint"], t["steps"])
    if t["steps"] % per_checkpoint:
        raise _fail("training.steps_per_checkpoint", per_checkpoint,
                    f"a divisor of training.steps={t['steps']}",
                    _fix("training.steps_per_checkpoint", next(
                        d for d in range(per_checkpoint, 0, -1)
                        if t["steps"] % d == 0)))
    if t["jit_compile"] != "auto":
        check_bool("training.jit_compile", t["jit_compile"],
                   also="or 'auto'")
    for field in ("deterministic", "log_example_ids"):
        check_bool(f"training.{field}", t[field])
    check_choice("training.mixed_precision", t["mixed_precision"],
                 MIXED_PRECISION)
    t["peak_flops"] = check_number("training.peak_flops", t["peak_flops"],
                                   strict=True, allow_none=True)


def check_run_config(config):
    """Check every field of a run config (defaults filled); return it.

    Integers given as integral floats (`1e3`) become ints.

    Raises:
        ValueError: naming the dotted field, the value, what it must be and
            a `--config.FIELD=VALUE` that fixes it.
    """
    config["seed"] = check_integer("seed", config["seed"], minimum=0,
                                   maximum=2**32 - 1)
    config["sequence_length"] = check_integer(
        "sequence_length", config["sequence_length"], minimum=2, example=128)
    _check_data(config["data"])
    _check_model(config)
    _check_training(config["training"])
    check_choice("strategy", config["strategy"], STRATEGIES)
    devices = config["devices"]
    if devices is not None and (not isinstance(devices, (list, tuple))
                                or not devices or not all(
                                    isinstance(d, str) for d in devices)):
        raise _fail("devices", devices, "None or a list of device names",
                    "For example --config.devices=['/cpu:0','/cpu:1']")
    if config["tpu"] is not None and not isinstance(config["tpu"], str):
        raise _fail("tpu", config["tpu"], "None, 'local', a TPU name or a "
                    "grpc:// address")
    check_objective(config["objective"])
    return config


def _parameters(cls):
    """The keyword arguments `cls(...)` takes, following `**kwargs` up.

    `None` when a class passes `**kwargs` to a base that takes anything.
    """
    names = []
    for klass in cls.__mro__:
        if "__init__" not in vars(klass):
            continue
        parameters = inspect.signature(klass.__init__).parameters.values()
        names += [p.name for p in parameters if p.name != "self" and p.kind
                  not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        if not any(p.kind == p.VAR_KEYWORD for p in parameters):
            return sorted(set(names))
        if klass.__module__.startswith("keras."):
            return None
    return None


def check_objective(identifier, field="objective"):
    """Check an objective name or `{"class_name", "config"}` and its options.

    Options are checked against the class's `__init__` (a typo gets "did
    you mean"); their values are checked when the objective is built.

    Examples:

    >>> check_objective({"class_name": "masked_lm",
    ...                  "config": {"selction_rate": 0.2}})
    Traceback (most recent call last):
    ...
    ValueError: Unknown option `selction_rate` of the objective `masked_lm` \
(`objective.config.selction_rate`). Did you mean `selection_rate`? ...
    """
    from keras_objectives import objectives

    if isinstance(identifier, str):
        objectives.get_class(identifier)
        return identifier
    if (not isinstance(identifier, dict)
            or not isinstance(identifier.get("class_name"), str)
            or set(identifier) - {"class_name", "config"}
            or not isinstance(identifier.get("config") or {}, dict)):
        raise _fail(field, identifier, "a registered objective name or a "
                    "dict {'class_name': name, 'config': {options}}",
                    f"For example --config.{field}=masked_lm")
    name = identifier["class_name"]
    options = identifier.get("config") or {}
    known = _parameters(objectives.get_class(name))
    for option, value in options.items():
        if known is not None and option not in known:
            close = difflib.get_close_matches(option, known, n=1)
            hint = f" Did you mean `{close[0]}`?" if close else ""
            raise ValueError(
                f"Unknown option `{option}` of the objective `{name}` "
                f"(`{field}.config.{option}`).{hint} Its options: "
                f"{[k for k in known if k not in RUNTIME_ARGUMENTS]}."
            )
        items = value if isinstance(value, (list, tuple)) else []
        for i, item in enumerate(items):
            if isinstance(item, dict) and "class_name" in item:
                check_objective(item, f"{field}.config.{option}[{i}]")
    return identifier
