"""The input stream of a run: seeded packed rows -> the objective's batches.

`input_stream` is what `training.train` feeds `model.fit` (one per worker
under a multi-worker strategy) and what `benchmarks/input_pipeline.py`
times.
"""

import tensorflow as tf

from keras_objectives import data


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


def input_stream(rows, objective, config, shuffle=True, start_example=0,
                 input_context=None, log_path=None, once=False,
                 num_parallel_calls=tf.data.AUTOTUNE,
                 prefetch=tf.data.AUTOTUNE, autotune_model=False):
    """The batches `train` feeds `fit`: the seeded stream, transformed.

    Args:
        rows: packed rows (`corpus.pack(split, objective.raw_length)`).
        objective: the run's objective; its transform is mapped over each
            batch (`model_inputs`).
        config: the run config (`seed`, `training.global_batch_size`).
        shuffle: the seeded per-epoch order (training) or file order.
        start_example: the position to start at (`step * batch` on resume).
        input_context: this worker's `tf.distribute.InputContext`, or None.
        log_path: append each batch's `epoch:example_id`s here, or None.
        once: one pass over `rows` (epoch 0, in file order), cached in
            memory after the first: every iteration yields the same
            batches without rebuilding them (held-out evaluation).
        num_parallel_calls, prefetch: tf.data settings (never change what
            the stream holds).
        autotune_model: run tf.data's autotuning model thread. Off by
            default: destroying an iterator waits for that thread,
            whose sleep between optimizations grows over the iterator's
            life; it stalled the end of about one `fit` in four by
            20-57 s. Without it, `AUTOTUNE` parallelism is TF's default
            (the smaller of 16 and the tf.data thread pool) and
            prefetching sizes its buffer inline.

    Returns:
        A `tf.data.Dataset` of `(x, y, sample_weight)` batches.
    """
    ds = data.make_dataset(
        rows, config["training"]["global_batch_size"], seed=config["seed"],
        shuffle=shuffle, start_example=start_example,
        input_context=input_context, num_epochs=1 if once else None,
    )
    if log_path:
        ds = ds.map(_example_id_logger(log_path))  # Sequential: in order.
    ds = ds.map(model_inputs(objective),
                num_parallel_calls=num_parallel_calls, deterministic=True)
    if once:
        ds = ds.cache()
    options = tf.data.Options()
    options.autotune.enabled = autotune_model
    return ds.prefetch(prefetch).with_options(options)




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
