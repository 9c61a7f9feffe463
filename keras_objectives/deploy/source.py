"""What `finetune` starts from: a preset directory, or a run it exports."""

import json
import os

from keras_objectives import checkpointing
from keras_objectives.deploy.export import METADATA_KEY
from keras_objectives.deploy.export import export_run
from keras_objectives.deploy.export import read_metadata
from keras_objectives.utils import invalid


def _read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def is_preset(path):
    """A keras-hub preset: a `config.json` naming a registered class."""
    config = _read_json(os.path.join(path, "config.json"))
    return isinstance(config, dict) and "registered_name" in config


def is_run_dir(path):
    """A `keras-objectives train` run: its config has `objective`."""
    config = _read_json(os.path.join(path, "config.json"))
    return isinstance(config, dict) and "objective" in config


def resolve_source(source, workdir):
    """The preset to fine-tune: `source` itself, or its export.

    A run directory is exported (its last checkpoint) to `workdir/preset`
    once; a restarted fine-tune reuses that export when it was made from
    the same run and step.
    """
    source = os.fspath(source)
    if is_preset(source):
        return source
    if not is_run_dir(source):
        raise invalid(
            "source", source,
            "a keras-hub preset directory (from `keras-objectives export`) "
            "or a run directory (from `keras-objectives train`)",
            "No config.json of either kind there")
    preset = os.path.join(workdir, "preset")
    step = checkpointing.latest_step(source)
    done = read_metadata(preset).get(METADATA_KEY, {})
    if not (done.get("run_dir") == os.path.abspath(source)
            and done.get("step") == step):
        export_run(source, preset, overwrite=True)
    return preset


def load_preset(preset):
    """`(backbone, tokenizer, sequence_length)` of a preset, checked.

    Raises:
        ValueError: the tokenizer's vocabulary size differs from the
            backbone's embedding size, or the tokenizer is not a WordPiece
            tokenizer with `[SEP]` and `[PAD]`.
    """
    import keras_hub

    from keras_objectives.models.backbones import check_vocabulary

    backbone = keras_hub.models.Backbone.from_preset(preset)
    tokenizer = keras_hub.tokenizers.Tokenizer.from_preset(preset)
    try:
        check_vocabulary(backbone, tokenizer.vocabulary_size())
    except ValueError as error:
        raise ValueError(
            f"Invalid value received for argument `preset`: its tokenizer "
            f"does not match its backbone. {error} Received: preset="
            f"{preset!r}. Export the preset again from its run "
            "(`keras-objectives export RUN_DIR --output DIR --overwrite`), "
            "or use the vocabulary the backbone was trained with."
        ) from None
    for name in ("end_token_id", "pad_token_id"):
        if getattr(tokenizer, name, None) is None:
            raise invalid(
                "preset", preset,
                "a WordPiece tokenizer with [SEP] and [PAD] tokens (as "
                "`keras-objectives export` writes)",
                f"Its {type(tokenizer).__name__} has no `{name}`")
    return backbone, tokenizer, preset_sequence_length(preset, backbone)


def preset_sequence_length(preset, backbone):
    """The preset preprocessor's length, else the run's, else 128."""
    config = _read_json(os.path.join(preset, "preprocessor.json")) or {}
    length = config.get("config", {}).get("sequence_length") or (
        read_metadata(preset).get(METADATA_KEY, {}).get("sequence_length")
    ) or 128
    limit = getattr(backbone, "max_sequence_length", None)
    return min(length, limit) if limit else length
