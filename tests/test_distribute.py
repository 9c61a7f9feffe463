import json

import pytest
import tensorflow as tf

from keras_objectives import distribute


def test_cpu_and_mirrored_strategies():
    assert distribute.get_strategy("cpu").num_replicas_in_sync == 1
    mirrored = distribute.get_strategy("mirrored",
                                       devices=["/cpu:0", "/cpu:1"])
    assert mirrored.num_replicas_in_sync == 2
    assert distribute.per_replica_batch_size(32, mirrored) == 16


def test_auto_without_accelerators_is_default_strategy(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    strategy = distribute.get_strategy("auto")
    assert strategy.num_replicas_in_sync == 1


def test_batch_must_divide_replicas():
    mirrored = distribute.get_strategy("mirrored",
                                       devices=["/cpu:0", "/cpu:1"])
    with pytest.raises(ValueError, match="global_batch_size=33.*Use 34"):
        distribute.per_replica_batch_size(33, mirrored)


def test_unknown_strategy_name():
    with pytest.raises(ValueError, match="strategy='gpu'"):
        distribute.get_strategy("gpu")


def test_bad_tf_config(monkeypatch):
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(ValueError, match="TF_CONFIG"):
        distribute.get_strategy("auto")


def test_tf_config_worker_count(monkeypatch):
    cluster = {"cluster": {"worker": ["localhost:1", "localhost:2"]},
               "task": {"type": "worker", "index": 0}}
    monkeypatch.setenv("TF_CONFIG", json.dumps(cluster))
    assert distribute._num_workers_from_tf_config() == 2
    assert tf.config.list_logical_devices("CPU")
