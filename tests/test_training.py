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
    summary = training.train(tiny_config(corpus_dir, "causal_lm", steps=2),
                             workdir, verbose=0)
    assert summary["loss_positions_seen"] == summary["tokens_seen"]
    with pytest.raises(ValueError, match="different config"):
        training.train(tiny_config(corpus_dir, "masked_lm", steps=2),
                       workdir, verbose=0)


def test_mirrored_strategy_over_two_logical_cpus_lowers_loss(
        corpus_dir, tmp_path):
    config = tiny_config(corpus_dir, steps=20, steps_per_checkpoint=10)
    config.update(strategy="mirrored", devices=["/cpu:0", "/cpu:1"])
    summary = training.train(config, str(tmp_path / "m"), verbose=0)
    assert summary["replicas"] == 2
    with open(os.path.join(tmp_path, "m", "metrics.csv")) as f:
        header, first, last = f.read().splitlines()
    loss = header.split(",").index("loss")
    assert float(last.split(",")[loss]) < float(first.split(",")[loss])


def _weights(workdir):
    model, *_ = training.load_run(workdir)
    return [np.array(w) for w in model.get_weights()]


def test_resume_after_kill_matches_an_uninterrupted_run(corpus_dir, tmp_path):
    """kill -9 mid-run, restart: same final weights (bitwise) as no kill."""
    config = tiny_config(corpus_dir, steps=12, steps_per_checkpoint=2)
    recipe = tmp_path / "recipe.py"
    recipe.write_text(f"def get_config(arg=None):\n    return {config!r}\n")
    straight, killed = str(tmp_path / "straight"), str(tmp_path / "killed")
    command = [sys.executable, "-m", "keras_objectives.cli", "train",
               str(recipe), "--workdir"]
    env = dict(os.environ, PYTHONPATH=ROOT)
    subprocess.run(command + [straight], check=True, env=env,
                   capture_output=True)
    process = subprocess.Popen(command + [killed], env=env,
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while time.time() < deadline:
        if checkpointing.list_checkpoints(killed):
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    done = [s for s, _ in checkpointing.list_checkpoints(killed)]
    assert done and done[-1] < 12, done
    subprocess.run(command + [killed], check=True, env=env,
                   capture_output=True)
    with open(os.path.join(straight, "summary.json")) as f:
        a = json.load(f)
    with open(os.path.join(killed, "summary.json")) as f:
        b = json.load(f)
    assert a["final_loss"] == b["final_loss"]
    assert a["held_out_loss"] == b["held_out_loss"]
    for x, y in zip(_weights(straight), _weights(killed)):
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
