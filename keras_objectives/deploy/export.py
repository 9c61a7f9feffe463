"""`export_run`: a run's checkpoint as a keras-hub preset directory.

The preset holds what keras-hub's `save_to_preset` writes (`config.json`
and `model.weights.h5` of the backbone, `tokenizer.json` with the
vocabulary under `assets/tokenizer/`, `preprocessor.json`,
`metadata.json`), and `metadata.json` gains a `keras_objectives` entry:
the objective, the run config, seed, step, and the tokens and FLOPs
trained up to that step.

| backbone | tokenizer       | preprocessor                     |
|----------|-----------------|----------------------------------|
| `body`   | `BodyTokenizer` | `BodyTextClassifierPreprocessor` |
| `bert`   | `BertTokenizer` | `BertTextClassifierPreprocessor` |
| `gpt2`   | `BertTokenizer` | `GPT2CausalLMPreprocessor`       |
| `t5`...  | `BertTokenizer` | none                             |

A body preset loads with `keras_hub.models.Backbone.from_preset(DIR)` and
`keras_hub.models.TextClassifier.from_preset(DIR, num_classes=k)` after
`import keras_objectives`; the others are plain keras-hub presets
(`BertTextClassifier.from_preset`, `GPT2CausalLM.from_preset`,
`Backbone.from_preset`) that load without this package.

A run on a stock backbone trains with the project's WordPiece vocabulary
(BERT's special tokens `[CLS] [SEP] [PAD] [MASK] [UNK]` among its reserved
tokens), which is exactly a `keras_hub.models.BertTokenizer`; its
GPT-2 preset therefore carries that tokenizer, not GPT-2's byte-pair one.
"""

import json
import os

import keras_hub

from keras_objectives import checkpointing
from keras_objectives.api_export import keras_objectives_export
from keras_objectives.deploy.files import atomic_directory
from keras_objectives.deploy.files import check_output_dir
from keras_objectives.models.body_text_classifier import default_attention
from keras_objectives.models.body_text_classifier_preprocessor import (
    BodyTextClassifierPreprocessor,
)
from keras_objectives.models.body_tokenizer import BodyTokenizer
from keras_objectives.models.transformer_body import TransformerBody
from keras_objectives.utils import check_local_dir
from keras_objectives.utils import invalid
from keras_objectives.version import __version__

METADATA_KEY = "keras_objectives"


def check_run_dir(run_dir, step=None):
    """The `(step, path)` of the checkpoint to export, or a clear error."""
    check_local_dir("run_dir", run_dir)
    if not os.path.isfile(os.path.join(run_dir, "config.json")):
        raise invalid(
            "run_dir", os.fspath(run_dir),
            "a run directory written by `keras-objectives train` (with a "
            "config.json)", "Pass the run's --workdir")
    saved = checkpointing.list_checkpoints(run_dir)
    if not saved:
        raise invalid(
            "run_dir", os.fspath(run_dir),
            "a run directory with at least one complete checkpoint under "
            "checkpoints/", "This run has none yet: let it train past its "
            "first `training.steps_per_checkpoint`, or rerun "
            "`keras-objectives train` to resume it")
    if step is None:
        return saved[-1]
    initial = checkpointing.initial_weights_path(run_dir)
    has_initial = os.path.isfile(initial)
    if step == 0 and has_initial:
        return 0, os.path.dirname(initial)  # The untrained reference.
    for found, path in saved:
        if found == step:
            return found, path
    raise invalid(
        "step", step,
        f"one of the saved checkpoint steps {[s for s, _ in saved]}"
        + (" or 0 (the initial weights)" if has_initial else ""),
        "Older checkpoints are pruned (`training.keep_checkpoints`); omit "
        "--step for the last one")


def preset_parts(backbone, vocabulary, lowercase, sequence_length):
    """`(tokenizer, preprocessor or None)` of a run's preset (table above)."""
    if isinstance(backbone, TransformerBody):
        tokenizer = BodyTokenizer(vocabulary, lowercase=lowercase)
        return tokenizer, BodyTextClassifierPreprocessor(
            tokenizer, sequence_length=sequence_length)
    tokenizer = keras_hub.models.BertTokenizer(
        vocabulary=vocabulary, lowercase=lowercase, strip_accents=False)
    if isinstance(backbone, keras_hub.models.BertBackbone):
        return tokenizer, keras_hub.models.BertTextClassifierPreprocessor(
            tokenizer, sequence_length=sequence_length)
    if isinstance(backbone, keras_hub.models.GPT2Backbone):
        return tokenizer, keras_hub.models.GPT2CausalLMPreprocessor(
            tokenizer, sequence_length=sequence_length)
    return tokenizer, None


def _jsonable(value):
    return json.loads(json.dumps(value, default=str))


def run_metadata(run_dir, step, state, model, objective, config):
    """The `keras_objectives` entry of an exported preset's metadata."""
    from keras_objectives.objectives.flops import ModelDims

    dims = ModelDims.from_backbone(model.backbone, config["sequence_length"])
    per_step = objective.accounting(
        dims, config["training"]["global_batch_size"])
    rows = state.get("rows") or [{}]
    return _jsonable({
        "version": __version__,
        "run_dir": os.path.abspath(run_dir),
        "step": step,
        "objective": objective.name,
        "objective_config": objective.get_config(),
        "attention_mode": objective.attention_mode,
        "feature_attention": default_attention(model.backbone),
        "seed": config["seed"],
        "backbone": config["model"]["backbone"],
        "sequence_length": config["sequence_length"],
        "lowercase": config["data"]["lowercase"],
        "tokens": step * per_step["tokens_per_step"],
        "loss_positions": step * per_step["loss_positions_per_step"],
        "flops": step * per_step["flops_per_step"],
        "metrics_at_step": rows[-1],
        "run_config": config,
    })


@keras_objectives_export("keras_objectives.deploy.export_run")
def export_run(run_dir, output, step=None, overwrite=False):
    """Write checkpoint `step` of a run as a keras-hub preset directory.

    Args:
        run_dir: a run directory written by `keras-objectives train` (or a
            comparison's `runs/<arm>/seed-<s>/`).
        output: the preset directory to create. It must not exist or be
            empty, unless `overwrite`.
        step: int, the checkpoint step; `None` exports the last one; `0`
            the untrained initial weights, when the run saved them
            (`training.save_initial_weights`, on in every comparison): the
            untrained reference to fine-tune the same way.
        overwrite: bool, replace a non-empty `output`.

    Returns:
        The `keras_objectives` metadata dict written to
        `output/metadata.json`.

    Raises:
        ValueError: no checkpoint, `step` not saved, or `output` not empty;
            nothing is written then. The preset is written to a temporary
            directory and renamed into place, so `output` is never left
            half-written.
    """
    from keras_objectives import training

    chosen, path = check_run_dir(run_dir, step)
    output = check_output_dir("output", output, overwrite)
    state = {}  # Step 0, the initial weights, has no training state.
    if chosen:
        with open(os.path.join(path, "state.json")) as f:
            state = json.load(f)
    model, objective, corpus, config = training.load_run(run_dir, chosen)
    backbone = model.backbone
    tokenizer, preprocessor = preset_parts(
        backbone, corpus.vocabulary, config["data"]["lowercase"],
        min(config["sequence_length"],
            getattr(backbone, "max_sequence_length", None)
            or config["sequence_length"]))
    metadata = run_metadata(run_dir, chosen, state, model, objective, config)
    with atomic_directory(output) as tmp:
        backbone.save_to_preset(tmp)
        tokenizer.save_to_preset(tmp)
        if preprocessor is not None:
            preprocessor.save_to_preset(tmp)
        meta_path = os.path.join(tmp, "metadata.json")
        with open(meta_path) as f:
            written = json.load(f)
        written[METADATA_KEY] = metadata
        with open(meta_path, "w") as f:
            json.dump(written, f, indent=4)
    return metadata


def read_metadata(preset):
    """A preset's `metadata.json` (`{}` when absent)."""
    path = os.path.join(preset, "metadata.json")
    if not os.path.isfile(path):
        return {}
    with open(path) as f:
        return json.load(f)


def export_command(run_dir, output, step=None):
    """The CLI line that exports a run.

    >>> export_command("runs/qs/runs/mlm/seed-0", "exports/mlm")
    'keras-objectives export runs/qs/runs/mlm/seed-0 --output exports/mlm'
    """
    line = f"keras-objectives export {run_dir} --output {output}"
    return line + (f" --step {step}" if step is not None else "")
