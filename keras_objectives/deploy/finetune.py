"""`finetune(source, task, workdir)`: fine-tune a preset on a labelled task.

preset (or a run, exported) -> task files -> keras-hub task with its
preprocessor -> `model.fit` (seeded, resumable, dev-based early stopping)
-> the workdir:

    config.json          what was asked (a restart must ask the same)
    preset/              the export, when the source was a run directory
    checkpoints/         one per epoch; a killed run resumes from the last
    best.weights.h5      the weights of the best dev epoch
    metrics.csv          per epoch: loss, accuracy, dev loss and accuracy
    tensorboard/         the same, for TensorBoard
    metrics.json         dev and test scores of the best epoch
    confusion_matrix.png classification: dev and test confusion matrices
    labels.json          the label names, in the model's order
    model.keras          the fine-tuned task, preprocessor included
    saved_model/         strings in, label names and probabilities out
"""

import json
import os
import time

import keras
import tensorflow as tf

from keras_objectives import checkpointing
from keras_objectives.api_export import keras_objectives_export
from keras_objectives.deploy import heads
from keras_objectives.deploy import serving
from keras_objectives.deploy.config import load_finetune_config
from keras_objectives.deploy.files import atomic_save
from keras_objectives.deploy.progress import BEST_WEIGHTS
from keras_objectives.deploy.progress import FineTuneLogger
from keras_objectives.deploy.progress import best_epoch
from keras_objectives.deploy.progress import restore_seed_states
from keras_objectives.deploy.source import load_preset
from keras_objectives.deploy.source import resolve_source
from keras_objectives.deploy.tasks import resolve_task
from keras_objectives.utils import atomic_write_json
from keras_objectives.utils import check_local_dir


def _check_workdir(workdir, request):
    """Write `config.json`, or check a restart asks for the same run."""
    path = os.path.join(workdir, "config.json")
    if os.path.exists(path):
        with open(path) as f:
            previous = json.load(f)
        if previous != json.loads(json.dumps(request)):
            raise ValueError(
                f"Invalid value received for argument `workdir`: "
                f"{workdir!r} holds a fine-tune with a different source, "
                "task or config. Use a new --workdir, or delete the old "
                "one.")
    atomic_write_json(path, request)


def _schedule(config, total_steps):
    from keras_objectives.evaluation.fine_tuning import WarmupLinearDecay

    peak = config["learning_rate"]
    warmup = max(1, int(round(config["warmup_fraction"] * total_steps)))
    if config["schedule"] == "linear":
        return WarmupLinearDecay(peak, total_steps, warmup)
    if config["schedule"] == "cosine":
        return keras.optimizers.schedules.CosineDecay(
            0.0, max(1, total_steps - warmup), warmup_target=peak,
            warmup_steps=warmup)
    return peak


def _compile(model, problem, config, total_steps):
    model.compile(
        optimizer=keras.optimizers.AdamW(
            learning_rate=_schedule(config, total_steps),
            weight_decay=config["weight_decay"],
            global_clipnorm=config["clipnorm"] or None),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=config["jit_compile"], **problem.metrics())


def _train_stream(encoded, batch_size, seed, start_example):
    """Seeded batches: every epoch a fresh stateless order (resumable)."""
    from keras_objectives.data import make_dataset

    x, y, weight, _ = encoded
    labels = tf.constant(y)
    weights = None if weight is None else tf.constant(weight)

    def pair(features):
        rows = features["example_ids"]
        inputs = {"token_ids": features["token_ids"],
                  "padding_mask": tf.cast(features["padding_mask"],
                                          tf.int32)}
        w = None if weights is None else tf.gather(weights, rows)
        return keras.utils.pack_x_y_sample_weight(
            inputs, tf.gather(labels, rows), w)

    packed = {"token_ids": x["token_ids"],
              "padding_mask": x["padding_mask"].astype(bool)}
    return make_dataset(packed, batch_size, seed=seed,
                        start_example=start_example).map(pair)


def _dev_stream(encoded, batch_size):
    x, y, weight, _ = encoded
    data = (x, y) if weight is None else (x, y, weight)
    return tf.data.Dataset.from_tensor_slices(data).batch(batch_size)


def _fit(model, problem, encoded, workdir, config, verbose):
    """`model.fit` from the last checkpoint; the best epoch's weights."""
    batch = config["batch_size"]
    steps_per_epoch = max(1, len(encoded["train"][1]) // batch)
    _compile(model, problem, config, config["epochs"] * steps_per_epoch)
    resume = checkpointing.latest(workdir)
    start, state = (resume[0], resume[2]) if resume else (0, {})
    if resume:
        checkpointing.restore(model, resume[1])
        restore_seed_states(model, state.get("seed_states"))
    logger = FineTuneLogger(workdir, config["early_stopping_patience"],
                            state.get("history", []),
                            keep=config["keep_checkpoints"])
    started = time.perf_counter()
    preprocessor = model.preprocessor
    if start < config["epochs"] and not state.get("stopped"):
        # The streams are preprocessed already (keras-hub's convention).
        model.preprocessor = None
        model.fit(
            _train_stream(encoded["train"], batch, config["seed"],
                          start * steps_per_epoch * batch),
            epochs=config["epochs"], initial_epoch=start,
            steps_per_epoch=steps_per_epoch,
            validation_data=_dev_stream(encoded["dev"], batch),
            callbacks=[logger, keras.callbacks.TensorBoard(
                os.path.join(workdir, "tensorboard"))],
            verbose=verbose, shuffle=False)
        model.preprocessor = preprocessor
    model.load_weights(os.path.join(workdir, BEST_WEIGHTS))
    return logger.history, time.perf_counter() - started


def _write_outputs(model, problem, workdir, scores, confusions):
    """metrics.json, the confusion plot, labels, model.keras, SavedModel."""
    from keras_objectives.deploy.plots import confusion_matrix_png

    atomic_write_json(os.path.join(workdir, "labels.json"),
                      {"kind": problem.kind,
                       "label_names": problem.label_names})
    if any(c is not None for c in confusions.values()):
        png = confusion_matrix_png(confusions, problem.label_names)
        atomic_save(os.path.join(workdir, "confusion_matrix.png"),
                    lambda p: open(p, "wb").write(png))
    atomic_save(os.path.join(workdir, "model.keras"), model.save)
    serving.export_saved_model(model, problem, problem.label_names,
                               os.path.join(workdir, "saved_model"))
    atomic_write_json(os.path.join(workdir, "metrics.json"), scores)


@keras_objectives_export("keras_objectives.deploy.finetune")
def finetune(source, task, workdir, config=None, overrides=(),
             verbose="auto"):
    """Fine-tune a preset (or a run's last checkpoint) on a labelled task.

    Args:
        source: a keras-hub preset directory (`keras-objectives export`, or
            any BERT-like WordPiece preset) or a run directory.
        task: a folder with `train`/`dev`/`test` files, a training file,
            or `tfds:NAME` (see `keras_objectives.deploy.tasks`).
        workdir: the output directory; a restart with the same arguments
            resumes from its last epoch checkpoint.
        config: a dict of `finetune_config()` fields to change.
        overrides: `["--config.epochs=3", ...]`, applied after `config`.
        verbose: Keras `fit` verbosity (the progress bar).

    Returns:
        The `metrics.json` dict.
    """
    check_local_dir("workdir", workdir)
    from keras_objectives.training import set_op_determinism

    config = load_finetune_config(overrides, {**(config or {})})
    # Process-wide, as in `train`: set either way.
    set_op_determinism(config["deterministic"])
    keras.utils.set_random_seed(config["seed"])
    loaded = resolve_task(task, config["task"], seed=config["seed"])
    os.makedirs(workdir, exist_ok=True)
    _check_workdir(workdir, {"source": os.path.abspath(source),
                             "task": str(task), "config": config})
    preset = resolve_source(source, workdir)
    backbone, tokenizer, length = load_preset(preset)
    problem = heads.make_problem(loaded)
    model = problem.build(backbone, tokenizer,
                          config["sequence_length"] or length, config)
    encoded = {split: problem.encode(model, split)
               for split in ("train", "dev", "test") if split in
               loaded.splits}
    history, wall_time = _fit(model, problem, encoded, workdir, config,
                              verbose)
    train_labels = loaded.split("train")[1]
    scores = {"task": loaded.name, "kind": problem.kind,
              "source": os.path.abspath(source), "preset": preset,
              "label_names": problem.label_names,
              "sequence_length": model.preprocessor.sequence_length,
              "epochs_run": len(history),
              "best_epoch": best_epoch(history),
              # Summed over restarts; this session's share separately.
              "fit_wall_time": sum(r.get("seconds", 0.0) for r in history),
              "session_fit_wall_time": wall_time,
              "history": history}
    confusions = {}
    for split in ("dev", "test"):
        if split in encoded:
            values, confusions[split] = problem.score(
                model, split, encoded[split], train_labels)
            scores.update(values)
            if confusions[split] is not None:
                scores[f"{split}_confusion_matrix"] = (
                    confusions[split].tolist())
    scores["train_truncated"] = encoded["train"][3]
    _write_outputs(model, problem, workdir, scores, confusions)
    return scores
