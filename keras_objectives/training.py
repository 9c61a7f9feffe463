"""`train(config, workdir)`: pre-train one objective. Read top to bottom.

text -> tokenize and pack (`data`) -> objective transform (seeded, per
example) -> backbone + head inside `strategy.scope()` -> `model.fit` ->
run dir: `config.json`, `metrics.csv`, `summary.json`, `tensorboard/`,
`checkpoints/`. A killed run restarted with the same workdir resumes from
its last good checkpoint on the same stream of batches. `train` calls one
named function per step, in order; each can be used and tested alone.
"""

import os
import sys
import time

import keras
import tensorflow as tf

from keras_objectives import checkpointing
from keras_objectives import config as config_lib
from keras_objectives import data
from keras_objectives import distribute
from keras_objectives import objectives
from keras_objectives import precision
from keras_objectives.callbacks import RunLogger
from keras_objectives.data.chinese import check_word_boundaries
from keras_objectives.models import Pretrainer
from keras_objectives.models.backbones import check_vocabulary
from keras_objectives.models.backbones import make_backbone
from keras_objectives.objectives.flops import ModelDims
from keras_objectives.run_dir import RunDir
from keras_objectives.run_dir import make_summary
from keras_objectives.streams import input_stream
from keras_objectives.streams import model_inputs  # noqa: F401
from keras_objectives.utils import atomic_write_json
from keras_objectives.utils import check_writable_dir
from keras_objectives.utils import read_json


def prepare_corpus(config):
    """The run's tokenized corpus (vocabulary and token ids are cached).

    With `data.pretokenized` set, the packed rows and the vocabulary are
    read from the shards `keras-objectives pretokenize` wrote there (a local
    path or `gs://`), and nothing is tokenized.
    """
    d = config["data"]
    if d.get("pretokenized"):
        return data.load_pretokenized(
            d["pretokenized"], vocabulary_size=d["vocabulary_size"]
        )
    return data.prepare_corpus(
        d["source"],
        vocabulary_size=d["vocabulary_size"],
        lowercase=d["lowercase"],
        errors=d["errors"],
        validation=d["validation"],
        mode=d["mode"],
        segmenter=d["segmenter"],
        tokenizer=d["tokenizer"],
    )


def build_objective(config, corpus):
    """The run's objective, bound to the corpus vocabulary."""
    check_word_boundaries(config["objective"], corpus)
    return objectives.get(
        objectives.bind_vocabulary(config["objective"], corpus.vocabulary),
        special_tokens=corpus.special_tokens,
        sequence_length=config["sequence_length"],
        seed=config["seed"],
    )


def build_model(config, objective, vocabulary_size):
    """Backbone + objective head, compiled. Call inside `strategy.scope()`."""
    m, t = config["model"], config["training"]
    backbone = make_backbone(
        m["backbone"],
        vocabulary_size=vocabulary_size,
        attention_mode=objective.attention_mode,
        document_masking=m["document_masking"],
        num_layers=m["num_layers"],
        num_heads=m["num_heads"],
        hidden_dim=m["hidden_dim"],
        intermediate_dim=m["intermediate_dim"],
        max_sequence_length=m["max_sequence_length"],
        dropout=m["dropout"],
    )
    check_vocabulary(backbone, objective.special_tokens)
    model = Pretrainer(backbone, objective)
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0,
        decay_steps=max(1, t["steps"] - t["warmup_steps"]),
        warmup_target=t["learning_rate"],
        warmup_steps=t["warmup_steps"],
        alpha=0.1,
    )
    optimizer = keras.optimizers.AdamW(
        learning_rate=schedule,
        weight_decay=t["weight_decay"],
        global_clipnorm=t["clipnorm"],
    )
    optimizer.exclude_from_weight_decay(
        var_names=["bias", "gamma", "beta", "embeddings"]
    )
    model.compile(
        optimizer=optimizer,
        loss=objective.loss(),
        weighted_metrics=objective.metrics(),
        jit_compile=resolve_jit_compile(config),
    )
    return model


def resolve_jit_compile(config, strategy=None):
    """`training.jit_compile` as a bool: `"auto"` resolves per precision.

    `"auto"` is XLA off for short runs, off for mixed_bfloat16 on a CPU
    with bfloat16 hardware (oneDNN's AMX kernels beat XLA's), and see
    `keras_objectives.precision.resolve_jit_compile` for the rest.
    """
    t = config["training"]
    strategy = strategy or tf.distribute.get_strategy()
    return precision.resolve_jit_compile(
        t["jit_compile"], t["mixed_precision"], t["steps"],
        replicas=strategy.num_replicas_in_sync,
        tpu=isinstance(strategy, tf.distribute.TPUStrategy),
    )


def train(config, workdir, verbose="auto"):
    """Pre-train `config["objective"]` and write the run directory.

    Every step is a function below, in this order. Nothing is written
    before the config, the objective, the data and the model have been
    checked: a failed attempt leaves the workdir as it found it.

    Args:
        config: a nested dict from a recipe (`keras_objectives.config`).
        workdir: the run directory. If it holds checkpoints of the same
            config, training resumes from the newest good one.
        verbose: Keras `fit` verbosity (the progress bar).

    Returns:
        The `summary.json` dict.
    """
    # 1. Validate every field, and the workdir, before anything runs.
    config = validate(config, workdir)
    # 2. Process-wide TF state: determinism, dtype policy, seeds.
    set_process_state(config)
    # 3. Strategy first: multi-worker must start before other TF work.
    strategy = make_strategy(config)
    # 4. The run dir: a run already in it must have the same config.
    run = RunDir.open(distribute.worker_workdir(workdir, strategy), config)
    # 5. Corpus and objective: tokenize and pack once (cached).
    corpus = prepare_corpus(config)
    objective = build_objective(config, corpus)
    rows = pack_splits(config, corpus, objective)
    # 6. The resume point: the newest step every worker has in good shape.
    resume = resume_point(run.path, strategy)
    # 7. Model and optimizer inside the strategy scope, restored.
    model = make_model(config, objective, corpus, strategy, resume)
    accounting = check_accounting(config, objective, model)
    # 8. Streams: the seeded batches, from where the run stopped.
    start_step = resume[0] if resume else 0
    streams = make_streams(config, rows, objective, strategy, start_step,
                           run.path)
    # 9. Fit and evaluate; config.json is written now, as training starts.
    run.commit(config)
    if config["training"]["save_initial_weights"] and not resume:
        checkpointing.save_initial(model, run.path)  # the untrained control
    logger, held_out, session = fit_and_evaluate(
        config, model, streams, accounting, resume, run.path, verbose)
    # 10. The summary.
    summary = make_summary(config, model, objective, corpus, strategy,
                           accounting, logger, held_out, start_step)
    summary["session_wall_time"] = session
    atomic_write_json(os.path.join(run.path, "summary.json"), summary)
    return summary


def validate(config, workdir):
    """The validated config; refuses a workdir we cannot write."""
    check_writable_dir("workdir", workdir)
    return config_lib.validate(config)


def set_process_state(config):
    """Set TF's process-wide state either way, so runs do not leak."""
    t = config["training"]
    # Keras turns XLA off under op determinism; `summary.json` records the
    # jit_compile that ran.
    set_op_determinism(t["deterministic"])
    keras.mixed_precision.set_dtype_policy(t["mixed_precision"] or "float32")
    keras.utils.set_random_seed(config["seed"])


def make_strategy(config):
    """The run's strategy, after checking the batch and XLA fit on it."""
    t = config["training"]
    strategy = distribute.get_strategy(
        config["strategy"], devices=config["devices"], tpu=config["tpu"]
    )
    distribute.per_replica_batch_size(t["global_batch_size"], strategy)
    local_replicas = distribute.num_local_replicas(strategy)
    if (t["jit_compile"] is True and local_replicas > 1
            and not isinstance(strategy, tf.distribute.TPUStrategy)):
        raise ValueError(
            "Invalid value received for `training.jit_compile`. Keras 3 "
            "cannot XLA-compile a train step that spans several local "
            "devices (it compiles the function that calls `strategy.run`). "
            f"Received: training.jit_compile=True with strategy="
            f"{config['strategy']!r} over {local_replicas} local devices. "
            "Use --config.training.jit_compile=False (TPUStrategy compiles "
            "its step with XLA anyway)."
        )
    return strategy


def pack_splits(config, corpus, objective):
    """`{"train": rows, "validation": rows}`; each must fill a batch."""
    batch = config["training"]["global_batch_size"]
    rows = {}
    for split in ("train", "validation"):
        rows[split] = corpus.pack(split, objective.raw_length)
        count = len(rows[split]["token_ids"])
        if count >= batch:
            continue
        field = "data.source" if split == "train" else "data.validation"
        given = config["data"]["validation" if split == "validation"
                               else "source"]
        raise ValueError(
            f"The {split} split ({field}={given!r}) packs into {count} rows "
            f"of {objective.raw_length} tokens, fewer than one batch "
            f"(training.global_batch_size={batch}). Give {field} more text, "
            "or lower --config.training.global_batch_size or "
            "--config.sequence_length."
        )
    return rows


def resume_point(path, strategy):
    """`(step, path, state)` to resume from (all workers agree), or None."""
    newest = checkpointing.latest_good(path, log=_say)
    step = distribute.min_over_workers(strategy, newest[0] if newest else 0)
    return checkpointing.at_step(path, step)


def make_model(config, objective, corpus, strategy, resume):
    """The compiled model in the strategy's scope, restored on resume."""
    with strategy.scope():
        model = build_model(config, objective,
                            corpus.special_tokens.vocabulary_size)
        if resume:
            checkpointing.restore(model, resume[1])
    return model


def check_accounting(config, objective, model):
    """The objective's per-step accounting; refuses a loss on no position."""
    dims = ModelDims.from_backbone(model.backbone, config["sequence_length"])
    batch = config["training"]["global_batch_size"]
    accounting = objective.accounting(dims, batch)
    if not accounting["loss_positions_per_step"] > 0:
        raise ValueError(
            f"The objective {objective.name!r} puts the loss on no position "
            "of a batch (loss_positions_per_step="
            f"{accounting['loss_positions_per_step']}), so training would "
            f"learn nothing. Received: objective={config['objective']!r}. "
            "Raise its rate (e.g. --config.objective.config.selection_rate="
            "0.15)."
        )
    return accounting


def make_streams(config, rows, objective, strategy, start_step, path):
    """`(train, validation, eval_batches)` distributed over `strategy`."""
    t = config["training"]
    batch = t["global_batch_size"]

    def stream(split_rows, shuffle, start=0, log=None, once=False):
        return distribute.distribute_dataset(strategy, lambda context: (
            input_stream(split_rows, objective, config, shuffle, start,
                         context, log, once)))

    log = (os.path.join(path, "example_ids.txt") if t["log_example_ids"]
           else None)
    eval_batches = min(t["eval_batches"],
                       max(1, len(rows["validation"]["token_ids"]) // batch))
    # Held-out loss reads the first `eval_batches` batches of epoch 0 every
    # time: one finite, cached pass over exactly those rows. (An endless
    # stream cost a prefetching iterator's teardown per evaluation.)
    held_out = {k: v[:eval_batches * batch]
                for k, v in rows["validation"].items()}
    return (stream(rows["train"], True, start_step * batch, log),
            stream(held_out, False, once=True), eval_batches)


def fit_and_evaluate(config, model, streams, accounting, resume, path,
                     verbose):
    """`model.fit` (one Keras epoch per checkpoint), then held-out loss."""
    t = config["training"]
    steps, per_ckpt = t["steps"], min(t["steps_per_checkpoint"], t["steps"])
    train_ds, valid_ds, eval_batches = streams
    start_step = resume[0] if resume else 0
    logger = RunLogger(path, per_ckpt, accounting,
                       resume[2] if resume else {}, t["keep_checkpoints"])
    callbacks = [logger,
                 keras.callbacks.TensorBoard(os.path.join(path, "tensorboard"))]
    started = time.perf_counter()
    held_out = {}
    if start_step < steps:
        history = model.fit(
            train_ds,
            epochs=steps // per_ckpt,
            initial_epoch=start_step // per_ckpt,
            steps_per_epoch=per_ckpt,
            validation_data=valid_ds,
            validation_steps=eval_batches,
            callbacks=callbacks,
            verbose=verbose,
            shuffle=False,  # The stream is already in its seeded order.
        )
        # Every epoch ends with held-out loss on the same cached batches,
        # so the last one is the final weights' held-out loss.
        held_out = {k[len("val_"):]: v[-1]
                    for k, v in history.history.items()
                    if k.startswith("val_")}
    if not held_out:  # Nothing left to train in this session.
        held_out = model.evaluate(valid_ds, steps=eval_batches, verbose=0,
                                  return_dict=True)
    return logger, held_out, time.perf_counter() - started


def _say(line):
    print(f"keras-objectives: {line}", file=sys.stderr, flush=True)


def set_op_determinism(enabled):
    """Turn TF op determinism on or off for the process.

    TF has a public switch only for on
    (`tf.config.experimental.enable_op_determinism`); off uses the same
    module's counterpart.
    """
    from tensorflow.python.framework import config as tf_config

    if enabled:
        tf.config.experimental.enable_op_determinism()
    else:
        tf_config.disable_op_determinism()


def load_run(workdir, step=None, strategy=None):
    """Rebuild a trained run: `(model, objective, corpus, config)`.

    Args:
        workdir: a run directory written by `train`.
        step: the checkpoint step to load; `None` loads the newest; `0`
            loads the initial weights (`training.save_initial_weights`).
        strategy: optional strategy whose scope the model is built in.

    Raises:
        ValueError: the directory has no config or no checkpoint (for that
            step), with the steps that exist.
    """
    config_path = os.path.join(workdir, "config.json")
    if not os.path.isfile(config_path):
        raise ValueError(
            f"Invalid value received for argument `workdir`. Expected a run "
            f"directory with a config.json. Received: workdir={workdir!r}"
        )
    config = config_lib.validate(read_json(
        config_path, fix="Restore the run's config.json, or train again."))
    available = checkpointing.list_checkpoints(workdir)
    chosen = [p for s, p in available if step is None or s == step]
    initial = checkpointing.initial_weights_path(workdir)
    if step == 0 and os.path.isfile(initial):
        chosen = [None]
    if not chosen:
        raise ValueError(
            f"Invalid value received for argument `step`. Expected one of "
            f"the checkpoints in {workdir!r}: {[s for s, _ in available]}. "
            f"Received: step={step}"
        )
    corpus = prepare_corpus(config)
    objective = build_objective(config, corpus)
    strategy = strategy or tf.distribute.get_strategy()
    with strategy.scope():
        model = build_model(config, objective,
                            corpus.special_tokens.vocabulary_size)
        if chosen[-1] is None:
            model.load_weights(initial)
        else:
            checkpointing.restore(model, chosen[-1])
    return model, objective, corpus, config
