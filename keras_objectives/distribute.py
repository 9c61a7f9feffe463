"""One string picks the `tf.distribute` strategy; global-batch arithmetic.

Anchor: TF Model Garden `official/common/distribute_utils.py`.
"""

import json
import os

import tensorflow as tf

from keras_objectives.config_checks import STRATEGIES
from keras_objectives.utils import check_choice


def _num_workers_from_tf_config():
    try:
        cluster = json.loads(os.environ.get("TF_CONFIG", "{}")).get(
            "cluster", {}
        )
    except json.JSONDecodeError as e:
        raise ValueError(
            f"Invalid value in environment variable `TF_CONFIG`: {e}. It "
            "must be JSON such as {'cluster': {'worker': ['host:port', ...]},"
            " 'task': {'type': 'worker', 'index': 0}}."
        ) from None
    return len(cluster.get("worker", [])) + len(cluster.get("chief", []))


# One strategy per (name, devices, tpu) per process. Every new
# `MirroredStrategy` numbers its collective groups and instances from 1, and
# the TF runtime caches collective parameters by those keys: a second
# strategy over the same devices in one process would reuse the first one's
# keys with other tensor shapes, and its all-reduce would abort with "Shape
# mismatch in the collective instance". TPU systems and multi-worker
# collectives can only be initialized once per process anyway.
_STRATEGIES = {}


def get_strategy(name="auto", devices=None, tpu=None):
    """Return a `tf.distribute.Strategy` from one string.

    Args:
        name: `"auto"` (TPU if `tpu` is given, else multi-worker if
            `TF_CONFIG` names several workers, else mirrored over all GPUs
            if there are several, else the default strategy), `"cpu"` /
            `"one_device"` (`OneDeviceStrategy` on the first GPU or the CPU),
            `"mirrored"` (over `devices`, default all GPUs or the CPU),
            `"multi_worker_mirrored"` (from `TF_CONFIG`) or `"tpu"`.
        devices: optional list of device strings for `"mirrored"`, for
            example `["/cpu:0", "/cpu:1"]`.
        tpu: for `"tpu"`: `"local"` on a TPU VM, or a TPU name or
            `grpc://` address.

    Returns:
        A `tf.distribute.Strategy`. Create the model, compile and fit inside
        its `scope()`. The same arguments return the same strategy object
        for the life of the process, so several models can train one after
        another under it.

    Examples:

    >>> strategy = get_strategy("cpu")
    >>> strategy.num_replicas_in_sync
    1
    """
    check_choice("strategy", name, STRATEGIES)
    if name == "auto":
        if tpu:
            name = "tpu"
        elif _num_workers_from_tf_config() > 1:
            name = "multi_worker_mirrored"
        elif len(tf.config.list_logical_devices("GPU")) > 1:
            name = "mirrored"
        else:
            return tf.distribute.get_strategy()
    key = (name, tuple(devices) if devices else None, tpu)
    if key not in _STRATEGIES:
        _STRATEGIES[key] = _make_strategy(name, devices, tpu)
    return _STRATEGIES[key]


def _make_strategy(name, devices, tpu):
    if name in ("cpu", "one_device"):
        gpus = tf.config.list_logical_devices("GPU")
        device = "/gpu:0" if (gpus and name == "one_device") else "/cpu:0"
        return tf.distribute.OneDeviceStrategy(device)
    if name == "mirrored":
        if devices is None and not tf.config.list_logical_devices("GPU"):
            devices = ["/cpu:0"]
        return tf.distribute.MirroredStrategy(devices)
    if name == "multi_worker_mirrored":
        return tf.distribute.MultiWorkerMirroredStrategy()
    resolver = tf.distribute.cluster_resolver.TPUClusterResolver(
        tpu=tpu or "local"
    )
    tf.config.experimental_connect_to_cluster(resolver)
    tf.tpu.experimental.initialize_tpu_system(resolver)
    return tf.distribute.TPUStrategy(resolver)


def num_workers(strategy):
    """The number of input pipelines (hosts) of `strategy`."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not hasattr(resolver, "cluster_spec"):
        return 1
    spec = resolver.cluster_spec().as_dict()
    return max(1, len(spec.get("worker", [])) + len(spec.get("chief", [])))


def num_local_replicas(strategy):
    """The replicas of `strategy` on this host (worker).

    Examples:

    >>> num_local_replicas(get_strategy("cpu"))
    1
    """
    return strategy.num_replicas_in_sync // num_workers(strategy)


def per_replica_batch_size(global_batch_size, strategy):
    """`global_batch_size / replicas`, or a clear error if it does not divide.

    Examples:

    >>> per_replica_batch_size(32, get_strategy("cpu"))
    32
    """
    replicas = strategy.num_replicas_in_sync
    if global_batch_size % replicas:
        raise ValueError(
            "Invalid value received for argument `global_batch_size`. "
            f"Expected a multiple of the {replicas} replicas in sync. "
            f"Received: global_batch_size={global_batch_size}. Use "
            f"{(global_batch_size // replicas + 1) * replicas}."
        )
    return global_batch_size // replicas


def is_chief(strategy):
    """Whether this process writes the run directory's shared artifacts.

    True unless `strategy` is multi-worker and this task is not the chief
    (the `"chief"` task, or worker 0 when the cluster has no chief).
    """
    resolver = getattr(strategy, "cluster_resolver", None)
    task_type = getattr(resolver, "task_type", None)
    if resolver is None or task_type is None or num_workers(strategy) == 1:
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    if has_chief:
        return task_type == "chief"
    return task_type == "worker" and resolver.task_id == 0


def worker_workdir(workdir, strategy):
    """This process's run directory: `workdir` itself on the chief.

    Every worker of a multi-worker job checkpoints and logs, so that every
    worker can resume from its own files whether or not `workdir` is on a
    shared filesystem; non-chief workers use `workdir/workers/<type>-<id>/`.
    """
    if is_chief(strategy):
        return workdir
    resolver = strategy.cluster_resolver
    return os.path.join(
        workdir, "workers", f"{resolver.task_type}-{resolver.task_id}"
    )


def min_over_workers(strategy, value):
    """The minimum of the int `value` over all workers (collective).

    Every worker of a multi-worker job must call this at the same point.
    A single-worker strategy returns `value` unchanged.
    """
    if num_workers(strategy) == 1:
        return int(value)
    local = tf.constant([int(value)], tf.int64)

    @tf.function
    def gather():
        def replica_fn():
            context = tf.distribute.get_replica_context()
            return context.all_gather(local, axis=0)

        return strategy.run(replica_fn)

    values = strategy.experimental_local_results(gather())[0]
    return int(tf.reduce_min(values))


def distribute_dataset(strategy, dataset_fn):
    """`dataset_fn(input_context)` as the input of `fit` under `strategy`.

    With one replica this is `dataset_fn(None)`. Otherwise every worker
    builds its own pipeline with its `tf.distribute.InputContext` (per
    replica batches, its own shard of every global batch): no example is
    read by two workers and nothing depends on tf.data auto-sharding.
    """
    if strategy.num_replicas_in_sync == 1 and num_workers(strategy) == 1:
        return dataset_fn(None)
    return strategy.distribute_datasets_from_function(dataset_fn)
