"""End to end: train() writes its run dir, resumes after kill -9, mirrors."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from keras_objectives import checkpointing
from keras_objectives import config as config_lib
from keras_objectives import training
from keras_objectives.cli import main as cli_main
from keras_objectives.data import embedded_corpus

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory):
    """About 120 KB of book text in 40 files: fast to tokenize."""
    folder = tmp_path_factory.mktemp("corpus")
    docs = iter(embedded_corpus("train"))
    for i in range(40):
        with open(folder / f"doc{i:02d}.txt", "w", encoding="utf-8") as f:
            f.write(next(docs)[:3000])
    return str(folder)


def tiny_config(corpus_dir, objective="masked_lm", steps=6, **training_args):
    config = config_lib.base_config()
    config["objective"] = objective
    config["sequence_length"] = 32
    config["data"].update(source=corpus_dir, vocabulary_size=600)
    config_lib.set_model_size(config, "tiny")
    config["model"]["max_sequence_length"] = 64
    config["training"].update(global_batch_size=8, steps=steps,
                              steps_per_checkpoint=2, warmup_steps=1,
                              eval_batches=2, deterministic=True,
                              learning_rate=3e-3)
    config["training"].update(training_args)
    config["strategy"] = "cpu"
    return config


def test_train_writes_the_run_dir(corpus_dir, tmp_path):
    workdir = str(tmp_path / "run")
    summary = training.train(tiny_config(corpus_dir), workdir, verbose=0)
    for name in ("config.json", "metrics.csv", "summary.json"):
        assert os.path.isfile(os.path.join(workdir, name)), name
    assert os.listdir(os.path.join(workdir, "tensorboard"))
    assert [s for s, _ in checkpointing.list_checkpoints(workdir)] == [
        2, 4, 6]
    assert summary["status"] == "completed"
    assert summary["steps"] == 6
    assert summary["tokens_seen"] == 6 * 8 * 32
    assert summary["training_flops"] == pytest.approx(
        6 * summary["flops_per_step"])
    assert 0 < summary["loss_positions_seen"] < summary["tokens_seen"]
    for key in ("final_loss", "held_out_loss", "tokens_per_second",
                "parameters", "wall_time", "seed", "versions"):
        assert summary[key] is not None, key
    with open(os.path.join(workdir, "metrics.csv")) as f:
        rows = f.read().splitlines()
    assert rows[0].startswith("step,tokens,flops,wall_time")
    assert len(rows) == 4
    leftovers = [n for n in os.listdir(workdir) if n.startswith(".tmp")]
    assert not leftovers


def test_causal_lm_and_other_config_refused(corpus_dir, tmp_path):
    workdir = str(tmp_path / "clm")
    config = tiny_config(corpus_dir, "causal_lm", steps=2)
    config["strategy"] = "auto"  # The default strategy, as recipes use.
    summary = training.train(config, workdir, verbose=0)
    assert summary["loss_positions_seen"] == summary["tokens_seen"]
    with pytest.raises(ValueError, match="different config"):
        training.train({**config, "objective": "masked_lm"}, workdir,
                       verbose=0)


def _metric(workdir, name):
    with open(os.path.join(workdir, "metrics.csv")) as f:
        header, *rows = f.read().splitlines()
    column = header.split(",").index(name)
    return np.array([float(row.split(",")[column]) for row in rows])


def test_mirrored_over_two_cpus_matches_one_device_and_lowers_loss(
        corpus_dir, tmp_path):
    """Global batch 8 on 2 replicas == batch 8 on one device, same seed."""
    config = tiny_config(corpus_dir, "causal_lm", steps=12,
                         steps_per_checkpoint=4)
    single = training.train(config, str(tmp_path / "one"), verbose=0)
    config.update(strategy="mirrored", devices=["/cpu:0", "/cpu:1"])
    mirrored = training.train(config, str(tmp_path / "two"), verbose=0)
    assert (single["replicas"], mirrored["replicas"]) == (1, 2)
    one, two = _metric(tmp_path / "one", "loss"), _metric(tmp_path / "two",
                                                          "loss")
    # Every packed row is full, so the mean of the replicas' mean losses is
    # the global mean: only the summation order differs. The first interval
    # agrees to ~1e-5; AdamW's m / sqrt(v) turns rounding differences in
    # near-zero gradients into full-size updates, so the runs drift apart
    # slowly (measured 0.12% after 12 steps at lr 3e-3).
    np.testing.assert_allclose(two[0], one[0], rtol=1e-4)
    np.testing.assert_allclose(two, one, rtol=3e-3)
    assert mirrored["held_out_loss"] == pytest.approx(
        single["held_out_loss"], rel=3e-3)
    assert two[-1] < two[0]


def test_xla_over_several_local_devices_is_refused(corpus_dir, tmp_path):
    config = tiny_config(corpus_dir, jit_compile=True)
    config.update(strategy="mirrored", devices=["/cpu:0", "/cpu:1"])
    with pytest.raises(ValueError, match="jit_compile=False"):
        training.train(config, str(tmp_path / "xla"), verbose=0)
    assert not os.path.exists(tmp_path / "xla")


def _weights(workdir):
    model, *_ = training.load_run(workdir)
    return [np.array(w) for w in model.get_weights()]


def _run(command, env):
    """Run a CLI subprocess; on failure show the tail of its stderr."""
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-4000:]


def _kill_after_checkpoint(command, env, workdir, after_step):
    """Start `command`, SIGKILL it once checkpoint > `after_step` exists."""
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.time() + 600
    while time.time() < deadline and process.poll() is None:
        if checkpointing.latest_step(workdir) > after_step:
            break
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    return checkpointing.latest_step(workdir)


def test_resume_after_two_kills_matches_an_uninterrupted_run(
        corpus_dir, tmp_path):
    """kill -9 at two points, restart each time: bitwise the same weights."""
    config = tiny_config(corpus_dir, steps=12, steps_per_checkpoint=2)
    recipe = tmp_path / "recipe.py"
    recipe.write_text(f"def get_config(arg=None):\n    return {config!r}\n")
    straight, killed = str(tmp_path / "straight"), str(tmp_path / "killed")
    command = [sys.executable, "-m", "keras_objectives.cli", "train",
               str(recipe), "--workdir"]
    env = dict(os.environ, PYTHONPATH=ROOT)
    _run(command + [straight], env)
    # Kill 1: right after the first checkpoint. Kill 2: in a later
    # interval, a little after the restarted run has saved a new one.
    first = _kill_after_checkpoint(command + [killed], env, killed, 0)
    assert 0 < first < 12, first
    second = _kill_after_checkpoint(command + [killed], env, killed, first)
    assert first < second < 12, (first, second)
    _run(command + [killed], env)
    with open(os.path.join(straight, "summary.json")) as f:
        a = json.load(f)
    with open(os.path.join(killed, "summary.json")) as f:
        b = json.load(f)
    assert a["final_loss"] == b["final_loss"]
    assert a["held_out_loss"] == b["held_out_loss"]
    np.testing.assert_array_equal(_metric(straight, "loss"),
                                  _metric(killed, "loss"))
    for x, y in zip(_weights(straight), _weights(killed), strict=True):
        np.testing.assert_array_equal(x, y)


def test_cli_errors_exit_non_zero_with_a_clear_message(capsys, tmp_path):
    recipe = os.path.join(ROOT, "recipes", "masked_lm.py:runlocal")
    assert cli_main(["train", recipe, "--config.training.stpes=3",
                     "--workdir", str(tmp_path / "a")]) == 2
    assert "training.stpes" in capsys.readouterr().err
    assert cli_main(["train", recipe, "--config.objective=nope",
                     "--workdir", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err
    assert "registered objectives" in err and "masked_lm" in err
    assert cli_main(["train", recipe, f"--config.data.source={tmp_path}/x",
                     "--workdir", str(tmp_path / "c")]) == 2
    assert "x" in capsys.readouterr().err


def test_a_url_workdir_is_refused_before_anything_is_written(
        capsys, tmp_path, monkeypatch):
    from keras_objectives.compare import run_comparison
    from keras_objectives.tuner.search import run_search

    monkeypatch.chdir(tmp_path)
    recipe = os.path.join(ROOT, "recipes", "masked_lm.py:runlocal")
    assert cli_main(["train", recipe, "--workdir", "gs://bucket/run"]) == 2
    err = capsys.readouterr().err
    assert "workdir='gs://bucket/run'" in err and "tpu/collect.sh" in err
    for run in (run_comparison, run_search):
        with pytest.raises(ValueError, match="a local directory path"):
            run({}, "gs://bucket/compare")
    assert os.listdir(tmp_path) == []  # No local folder named `gs:`.


def test_mixed_bfloat16_train_reduces_the_loss(corpus_dir, tmp_path):
    import csv

    import keras

    config = tiny_config(corpus_dir, steps=12,
                         mixed_precision="mixed_bfloat16", jit_compile="auto")
    try:
        summary = training.train(config, str(tmp_path / "bf16"), verbose=0)
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    assert summary["jit_compile"] is False  # "auto": a short run
    with open(tmp_path / "bf16" / "metrics.csv") as f:
        losses = [float(row["loss"]) for row in csv.DictReader(f)]
    assert len(losses) == 6 and all(np.isfinite(losses))
    # From ln(600) = 6.4 at chance, down every logging interval.
    assert np.all(np.diff(losses) < 0), losses
    assert losses[-1] < losses[0] - 0.3, losses
