"""The fine-tuning config: defaults with the reason, overrides, checks."""

import copy

from keras_objectives import config as config_lib
from keras_objectives.utils import check_choice
from keras_objectives.utils import check_int
from keras_objectives.utils import check_rate
from keras_objectives.utils import invalid

SCHEDULES = ("linear", "cosine", "constant")


def finetune_config():
    """Every field of `keras-objectives finetune`, with its default.

    Examples:

    >>> finetune_config()["epochs"]
    5
    """
    return {
        "seed": 0,  # Head init, dropout, data order (stateless per epoch).
        "task": {
            "kind": "auto",  # auto|classification|tagging (CoNLL).
            "format": None,  # label_text|tsv|csv|jsonl; None: extension.
            "label_column": "label",  # TSV/CSV header name or JSONL key.
            "text_column": "text",
            "header": None,  # TSV/CSV: None guesses from the columns.
            "word_column": 0,  # CoNLL: word and tag columns.
            "tag_column": -1,
            "dev_fraction": 0.1,  # Without a dev file: carved from train.
            "allow_unseen_tags": False,  # CoNLL-2000's test has I-LST.
        },
        "sequence_length": None,  # None: the preset's preprocessor length.
        "batch_size": 32,
        "epochs": 5,  # The most; early stopping on dev usually stops first.
        "learning_rate": 1e-4,  # The harness' fine-tuning rate.
        "schedule": "linear",  # linear|cosine|constant, after warmup.
        "warmup_fraction": 0.1,  # Of all steps, linear from 0.
        "weight_decay": 0.01,  # AdamW, as BERT fine-tuning.
        "clipnorm": 1.0,
        "dropout": 0.1,  # Before the dense head, as BERT.
        "early_stopping_patience": 2,  # Epochs without a better dev score.
        "deterministic": True,  # TF op determinism: bitwise resume.
        "jit_compile": False,  # XLA: compiling costs more on short runs.
        "keep_checkpoints": 2,  # Epoch checkpoints kept for resume.
    }


def load_finetune_config(overrides=(), config=None):
    """The defaults (or `config`) with `--config.x=y` overrides, checked.

    Examples:

    >>> c = load_finetune_config(["--config.epochs=2"])
    >>> c["epochs"], c["task"]["kind"]
    (2, 'auto')
    """
    config = copy.deepcopy(config or finetune_config())
    config = config_lib.apply_overrides(config, list(overrides))
    return validate(config)


def validate(config):
    """Check every field; unknown fields are errors."""
    base = finetune_config()
    for key in config:
        if key not in base:
            raise ValueError(
                f"Unknown finetune field `{key}`. Known fields: "
                f"{sorted(base)}.")
    for key in config.get("task", {}):
        if key not in base["task"]:
            raise ValueError(
                f"Unknown finetune field `task.{key}`. Known fields: "
                f"{sorted('task.' + k for k in base['task'])}.")
    merged = {**base, **config, "task": {**base["task"],
                                         **config.get("task", {})}}
    check_int("seed", merged["seed"], minimum=0)
    check_int("sequence_length", merged["sequence_length"], minimum=4,
              allow_none=True)
    check_int("batch_size", merged["batch_size"], minimum=1)
    check_int("epochs", merged["epochs"], minimum=1)
    check_int("early_stopping_patience", merged["early_stopping_patience"],
              minimum=1)
    check_int("keep_checkpoints", merged["keep_checkpoints"], minimum=1)
    check_choice("schedule", merged["schedule"], SCHEDULES)
    for name in ("warmup_fraction", "dropout"):
        check_rate(name, merged[name])
    check_rate("task.dev_fraction", merged["task"]["dev_fraction"])
    for name in ("learning_rate", "weight_decay", "clipnorm"):
        value = merged[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or value < 0 or (name == "learning_rate" and value == 0):
            raise invalid(name, value, "a positive float")
    return merged
