"""`train(config, workdir)`: pre-train one objective. Read top to bottom.

text -> tokenize and pack (`data`) -> objective transform (seeded, per
example) -> backbone + head inside `strategy.scope()` -> `model.fit` ->
run dir: `config.json`, `metrics.csv`, `summary.json`, `tensorboard/`,
`checkpoints/`. A killed run restarted with the same workdir resumes from
its last checkpoint on the same stream of batches.
"""

import json
import os
import platform
import time

import keras
import keras_hub
import tensorflow as tf

from keras_objectives import checkpointing
from keras_objectives import config as config_lib
from keras_objectives import data
from keras_objectives import distribute
from keras_objectives import objectives
from keras_objectives.callbacks import RunLogger
from keras_objectives.models import Pretrainer
from keras_objectives.models.backbones import check_vocabulary
from keras_objectives.models.backbones import make_backbone
from keras_objectives.objectives.flops import ModelDims
from keras_objectives.utils import atomic_write_json
from keras_objectives.utils import check_int
from keras_objectives.utils import check_local_dir
from keras_objectives.version import __version__


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
    )


SENTENCE_ENDS = (".", "!", "?")


def bind_vocabulary(identifier, vocabulary):
    """Fill the arguments an objective derives from the vocabulary.

    Whole words (`whole_word=True`, `span_masking`) need the ids of `##`
    pieces; BART's sentence permutation needs the ids of `. ! ?`. Mixture
    members are bound too. Values the recipe sets are kept.
    """
    if isinstance(identifier, str):
        identifier = {"class_name": identifier, "config": {}}
    config = dict(identifier.get("config") or {})
    name = identifier["class_name"]
    if ((config.get("whole_word") or name == "span_masking")
            and not config.get("continuation_token_ids")):
        config["continuation_token_ids"] = [
            i for i, token in enumerate(vocabulary) if token.startswith("##")
        ]
    if name == "denoising" and config.get("sentence_end_ids") is None:
        config["sentence_end_ids"] = [
            i for i, token in enumerate(vocabulary) if token in SENTENCE_ENDS
        ]
    if "members" in config:
        config["members"] = [bind_vocabulary(m, vocabulary)
                             for m in config["members"]]
    return {**identifier, "config": config}


def build_objective(config, corpus):
    """The run's objective, bound to the corpus vocabulary."""
    return objectives.get(
        bind_vocabulary(config["objective"], corpus.vocabulary),
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
        jit_compile=t["jit_compile"],
    )
    return model


def model_inputs(objective):
    """The objective's transform with boolean masks cast to int32.

    Keras distributes the first batch of `fit` across replicas with ops
    that have no boolean kernels, so masks travel as int32 (the dtype the
    backbones declare).
    """

    def transform(features):
        return tf.nest.map_structure(
            lambda t: tf.cast(t, tf.int32) if t.dtype == tf.bool else t,
            objective(features),
        )

    return transform


def train(config, workdir, verbose="auto"):
    """Pre-train `config["objective"]` and write the run directory.

    Args:
        config: a nested dict from a recipe (`keras_objectives.config`).
        workdir: the run directory. If it holds checkpoints of the same
            config, training resumes from the newest one.
        verbose: Keras `fit` verbosity (the progress bar).

    Returns:
        The `summary.json` dict.
    """
    check_local_dir("workdir", workdir)
    config = config_lib.validate(config)
    t = config["training"]
    steps = check_int("training.steps", t["steps"], minimum=1)
    per_ckpt = min(t["steps_per_checkpoint"], steps)
    if steps % per_ckpt:
        raise ValueError(
            "Invalid value received for `training.steps_per_checkpoint`. "
            f"Expected a divisor of training.steps={steps}. Received: "
            f"training.steps_per_checkpoint={per_ckpt}."
        )
    batch = t["global_batch_size"]
    identifier = config["objective"]
    objectives.get_class(identifier if isinstance(identifier, str)
                         else identifier.get("class_name"))  # Fail fast.
    # Process-wide in TF: set it either way, so an earlier run in the same
    # process does not leak into this one. (Keras turns XLA off under op
    # determinism; `summary.json` records the jit_compile that ran.)
    set_op_determinism(t["deterministic"])
    # Also process-wide: a float32 run after a bfloat16 one stays float32.
    keras.mixed_precision.set_dtype_policy(t["mixed_precision"] or "float32")
    keras.utils.set_random_seed(config["seed"])

    # 1. Strategy first: multi-worker must start before other TF work.
    strategy = distribute.get_strategy(
        config["strategy"], devices=config["devices"], tpu=config["tpu"]
    )
    distribute.per_replica_batch_size(batch, strategy)
    local_replicas = distribute.num_local_replicas(strategy)
    if (t["jit_compile"] and local_replicas > 1
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

    # 2. The run directory and its config; a resumed run must match it.
    # Non-chief workers of a multi-worker job keep their own subdirectory.
    workdir = distribute.worker_workdir(workdir, strategy)
    os.makedirs(workdir, exist_ok=True)
    config_path = os.path.join(workdir, "config.json")
    if os.path.exists(config_path):
        with open(config_path) as f:
            previous = json.load(f)
        # Fields added to the config schema since that run default in.
        if (json.loads(json.dumps(config_lib.validate(previous)))
                != json.loads(json.dumps(config))):
            raise ValueError(
                f"The workdir {workdir!r} holds a run with a different "
                "config. Use a new --workdir, or delete the old run."
            )
    atomic_write_json(config_path, config)

    # 3. Data: tokenize and pack once (cached), then the seeded stream.
    corpus = prepare_corpus(config)
    objective = build_objective(config, corpus)
    special = corpus.special_tokens
    train_rows = corpus.pack("train", objective.raw_length)
    valid_rows = corpus.pack("validation", objective.raw_length)

    # 4. Model and optimizer inside the strategy scope; resume if we can.
    # All workers resume from the newest step every one of them has.
    start_step = distribute.min_over_workers(
        strategy, checkpointing.latest_step(workdir)
    )
    resume = checkpointing.at_step(workdir, start_step)
    with strategy.scope():
        model = build_model(config, objective, special.vocabulary_size)
        if t["save_initial_weights"]:
            checkpointing.save_initial(model, workdir)
        if resume:
            checkpointing.restore(model, resume[1])
    dims = ModelDims.from_backbone(model.backbone, config["sequence_length"])
    accounting = objective.accounting(dims, batch)

    transform = model_inputs(objective)

    def stream(rows, shuffle, start_example=0, log=None):
        def dataset_fn(context):
            ds = data.make_dataset(
                rows, batch, seed=config["seed"], shuffle=shuffle,
                start_example=start_example, input_context=context,
            )
            if log:
                ds = ds.map(_example_id_logger(log))  # Sequential: in order.
            return ds.map(transform, num_parallel_calls=tf.data.AUTOTUNE,
                          deterministic=True).prefetch(tf.data.AUTOTUNE)

        return distribute.distribute_dataset(strategy, dataset_fn)

    train_ds = stream(
        train_rows, True, start_step * batch,
        log=(os.path.join(workdir, "example_ids.txt")
             if t["log_example_ids"] else None),
    )
    valid_ds = stream(valid_rows, False)
    eval_batches = min(t["eval_batches"],
                       max(1, len(valid_rows["token_ids"]) // batch))

    # 5. Fit. One Keras epoch = one checkpoint interval.
    logger = RunLogger(workdir, per_ckpt, accounting,
                       resume[2] if resume else {}, t["keep_checkpoints"])
    callbacks = [
        logger,
        keras.callbacks.TensorBoard(os.path.join(workdir, "tensorboard")),
    ]
    started = time.perf_counter()
    if start_step < steps:
        model.fit(
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

    # 6. Held-out loss and the summary.
    held_out = model.evaluate(valid_ds, steps=eval_batches, verbose=0,
                              return_dict=True)
    final = logger.rows[-1] if logger.rows else {}
    done = final.get("step", start_step)
    tokens_per_second = (done * accounting["tokens_per_step"]
                         / max(logger.train_time, 1e-9))
    flops_per_second = tokens_per_second * (
        accounting["flops_per_step"] / accounting["tokens_per_step"])
    summary = {
        "objective": objective.name,
        "objective_config": _jsonable(objective.get_config()),
        "status": "diverged" if logger.diverged else "completed",
        "failure": logger.diverged,
        "steps": done,
        "final_loss": final.get("loss"),
        "held_out_loss": held_out.get("loss"),
        "held_out": held_out,
        "tokens_seen": done * accounting["tokens_per_step"],
        "loss_positions_seen": done * accounting["loss_positions_per_step"],
        "training_flops": done * accounting["flops_per_step"],
        "flops_per_step": accounting["flops_per_step"],
        "tokens_per_second": tokens_per_second,
        "flops_per_second": flops_per_second,
        "mfu": (flops_per_second / t["peak_flops"]
                if t["peak_flops"] else None),
        "parameters": model.count_params(),
        "backbone_parameters": model.backbone.count_params(),
        "wall_time": logger.wall_time,
        "session_wall_time": time.perf_counter() - started,
        "seed": config["seed"],
        "global_batch_size": batch,
        "replicas": strategy.num_replicas_in_sync,
        "mixed_precision": t["mixed_precision"],
        "jit_compile": bool(model.jit_compile),
        "corpus": corpus.stats,
        "versions": {
            "keras_objectives": __version__,
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
            "keras_hub": keras_hub.__version__,
            "python": platform.python_version(),
        },
    }
    atomic_write_json(os.path.join(workdir, "summary.json"), summary)
    return summary


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


def _example_id_logger(path):
    """A map fn appending each batch's `epoch:example_id`s to `path`."""

    def write(epoch, ids):
        with open(path, "a") as f:
            f.write(" ".join(f"{e}:{i}" for e, i in
                             zip(epoch.numpy(), ids.numpy(), strict=True)))
            f.write("\n")
        return True

    def log(features):
        done = tf.py_function(write, [features["epoch"],
                                      features["example_ids"]], tf.bool)
        with tf.control_dependencies([done]):
            return {k: tf.identity(v) for k, v in features.items()}

    return log


def _jsonable(value):
    return json.loads(json.dumps(value, default=str))


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
    with open(config_path) as f:
        config = config_lib.validate(json.load(f))
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
