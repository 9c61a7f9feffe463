"""Two `MultiWorkerMirroredStrategy` workers on 127.0.0.1 (`TF_CONFIG`).

Each worker is a `keras-objectives train` process with one CPU replica, so
the job has two replicas and each worker reads its half of every global
batch. The tests check that the workers end with identical weights, that
together they read every row of the stream once (the same rows, in the same
global batches, as one process would), and that killing a worker and
restarting the job resumes to the weights of an uninterrupted job.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import h5py
import numpy as np
import pytest

from keras_objectives import checkpointing
from keras_objectives import data
from keras_objectives import training
from tests.test_training import ROOT
from tests.test_training import corpus_dir  # noqa: F401 (fixture)
from tests.test_training import tiny_config

pytestmark = pytest.mark.large

STEPS = 6
BATCH = 8


def _free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _recipe(tmp_path, corpus):
    config = tiny_config(corpus, steps=STEPS, steps_per_checkpoint=2,
                         log_example_ids=True)
    config["strategy"] = "multi_worker_mirrored"
    path = tmp_path / "recipe.py"
    path.write_text(f"def get_config(arg=None):\n    return {config!r}\n")
    return str(path), config


def _start_job(recipe, workdir, ports):
    """Start both workers; returns their `Popen`s (chief first)."""
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    os.makedirs(os.path.dirname(workdir), exist_ok=True)
    processes = []
    for index in range(len(ports)):
        env = dict(
            os.environ,
            PYTHONPATH=ROOT,
            TF_CONFIG=json.dumps(
                {"cluster": cluster, "task": {"type": "worker",
                                              "index": index}}
            ),
        )
        log = open(os.path.join(os.path.dirname(workdir),
                                f"worker{index}.log"), "ab")
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "keras_objectives.cli", "train", recipe,
             "--workdir", workdir],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        ))
    return processes


def _wait(processes, workdir, timeout=900):
    deadline = time.time() + timeout
    for index, process in enumerate(processes):
        try:
            code = process.wait(timeout=max(1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            for p in processes:
                p.kill()
            code = "timeout"
        if code != 0:
            with open(os.path.join(os.path.dirname(workdir),
                                   f"worker{index}.log"), "rb") as f:
                tail = f.read()[-4000:].decode(errors="replace")
            pytest.fail(f"worker {index} exited with {code}:\n{tail}")


def _worker_dirs(workdir):
    return [workdir, os.path.join(workdir, "workers", "worker-1")]


def _final_weights(run_dir):
    _, path = checkpointing.list_checkpoints(run_dir)[-1]
    arrays = []
    with h5py.File(os.path.join(path, "model.weights.h5"), "r") as f:
        f.visititems(lambda name, item: arrays.append((name, item[()]))
                     if isinstance(item, h5py.Dataset) else None)
    return arrays


def _assert_same_weights(dirs_a, dirs_b=None):
    reference = _final_weights(dirs_a[0])
    others = [_final_weights(d) for d in dirs_a[1:] + (dirs_b or [])]
    for other in others:
        assert [n for n, _ in other] == [n for n, _ in reference]
        for (name, x), (_, y) in zip(reference, other, strict=True):
            np.testing.assert_array_equal(x, y, err_msg=name)


def _consumed(run_dir, steps):
    """The `(epoch, row)` pairs of the first `steps` batches it logged."""
    with open(os.path.join(run_dir, "example_ids.txt")) as f:
        lines = f.read().splitlines()[:steps]
    assert len(lines) == steps
    return [[tuple(map(int, pair.split(":"))) for pair in line.split()]
            for line in lines]


@pytest.fixture(scope="module")
def job(corpus_dir, tmp_path_factory):  # noqa: F811
    """One uninterrupted 2-worker job: `(recipe, config, workdir)`."""
    tmp_path = tmp_path_factory.mktemp("multi_worker")
    recipe, config = _recipe(tmp_path, corpus_dir)
    workdir = str(tmp_path / "straight" / "job")
    _wait(_start_job(recipe, workdir, _free_ports(2)), workdir)
    return recipe, config, workdir


def test_two_workers_agree_and_read_every_row_once(job):
    _, config, workdir = job
    chief, worker = _worker_dirs(workdir)
    for run_dir in (chief, worker):
        with open(os.path.join(run_dir, "summary.json")) as f:
            summary = json.load(f)
        assert summary["status"] == "completed"
        assert summary["replicas"] == 2
        assert summary["steps"] == STEPS
    _assert_same_weights([chief, worker])

    # Each worker read half of every global batch: per step, chief rows +
    # worker rows == the single-process global batch, and no row twice.
    halves = [_consumed(d, STEPS) for d in (chief, worker)]
    corpus = training.prepare_corpus(config)
    objective = training.build_objective(config, corpus)
    rows = corpus.pack("train", objective.raw_length)
    expected = [
        list(zip(b["epoch"].numpy().tolist(),
                 b["example_ids"].numpy().tolist(), strict=True))
        for b in data.make_dataset(rows, BATCH, seed=config["seed"]).take(
            STEPS)
    ]
    for step in range(STEPS):
        assert halves[0][step] + halves[1][step] == expected[step], step
        assert len(halves[0][step]) == len(halves[1][step]) == BATCH // 2
    seen = [pair for half in halves for batch in half for pair in batch]
    assert len(seen) == len(set(seen)) == STEPS * BATCH


def test_killing_a_worker_and_restarting_the_job_resumes(job, tmp_path):
    recipe, _, straight = job
    killed = str(tmp_path / "killed" / "job")
    processes = _start_job(recipe, killed, _free_ports(2))
    deadline = time.time() + 600
    while time.time() < deadline and processes[1].poll() is None:
        if checkpointing.latest_step(_worker_dirs(killed)[1]) > 0:
            break
        time.sleep(0.02)
    processes[1].send_signal(signal.SIGKILL)  # A preempted worker...
    processes[1].wait()
    # ...stalls the chief in its next collective: the job is restarted.
    processes[0].send_signal(signal.SIGKILL)
    processes[0].wait()
    steps = [checkpointing.latest_step(d) for d in _worker_dirs(killed)]
    assert 0 < min(steps) and max(steps) < STEPS, steps
    _wait(_start_job(recipe, killed, _free_ports(2)), killed)
    _assert_same_weights(_worker_dirs(straight), _worker_dirs(killed))
