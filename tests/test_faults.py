"""Faults: corrupt checkpoints, failed attempts, Ctrl-C, files, logs.

One uninterrupted tiny run (6 steps, a checkpoint every 2) is the
reference: a copy whose newest checkpoint is truncated, or whose newest
`state.json` is garbage, must resume from the previous checkpoint and end
with bitwise the same weights.
"""

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time

import numpy as np
import pytest

from keras_objectives import checkpointing
from keras_objectives import training
from keras_objectives.cli import main as cli_main
from tests.bad_input_cases import write_corpus
from tests.test_training import tiny_config

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory):
    return write_corpus(str(tmp_path_factory.mktemp("corpus")), 40)


@pytest.fixture(scope="module")
def straight(corpus_dir, tmp_path_factory):
    """A 6-step run under the default umask, never interrupted."""
    workdir = str(tmp_path_factory.mktemp("straight") / "run")
    previous = os.umask(0o022)
    try:
        training.train(tiny_config(corpus_dir, steps=6), workdir, verbose=0)
    finally:
        os.umask(previous)
    return workdir


def _weights(workdir, step=None):
    model, *_ = training.load_run(workdir, step=step)
    return [np.array(w) for w in model.get_weights()]


def _resume_broken_copy(straight, corpus_dir, tmp_path, capsys, damage):
    workdir = str(tmp_path / "run")
    shutil.copytree(straight, workdir)
    os.remove(os.path.join(workdir, "summary.json"))
    newest = checkpointing.list_checkpoints(workdir)[-1][1]
    damage(newest)
    summary = training.train(tiny_config(corpus_dir, steps=6), workdir,
                             verbose=0)
    err = capsys.readouterr().err
    assert f"checkpoint {newest} is corrupt" in err, err
    assert "resuming from step 4" in err, err
    assert summary["status"] == "completed" and summary["steps"] == 6
    for a, b in zip(_weights(straight), _weights(workdir), strict=True):
        np.testing.assert_array_equal(a, b)
    with open(os.path.join(straight, "summary.json")) as f:
        assert json.load(f)["final_loss"] == summary["final_loss"]
    for name in ("metrics.csv",):  # Same columns, same order, same rows.
        with open(os.path.join(straight, name)) as f, open(
                os.path.join(workdir, name)) as g:
            a, b = f.read().splitlines(), g.read().splitlines()
        assert a[0] == b[0]
        assert [r.split(",")[0] for r in a] == [r.split(",")[0] for r in b]
    return workdir


def test_truncated_newest_checkpoint_falls_back(straight, corpus_dir,
                                                tmp_path, capsys):
    def truncate(path):
        weights = os.path.join(path, "model.weights.h5")
        with open(weights, "r+b") as f:
            f.truncate(os.path.getsize(weights) // 2)

    _resume_broken_copy(straight, corpus_dir, tmp_path, capsys, truncate)


def test_garbage_state_json_falls_back(straight, corpus_dir, tmp_path,
                                       capsys):
    def garble(path):
        with open(os.path.join(path, "state.json"), "w") as f:
            f.write("garbage{")

    _resume_broken_copy(straight, corpus_dir, tmp_path, capsys, garble)


def test_a_changed_weights_file_fails_its_digest(straight, tmp_path):
    workdir = str(tmp_path / "run")
    shutil.copytree(straight, workdir)
    path = checkpointing.list_checkpoints(workdir)[-1][1]
    assert checkpointing.check(path)[0] is None
    shutil.copy(os.path.join(checkpointing.list_checkpoints(workdir)[0][1],
                             "model.weights.h5"),
                os.path.join(path, "model.weights.h5"))
    assert "digest" in checkpointing.check(path)[0]


def test_no_good_checkpoint_is_a_clear_error(straight, tmp_path):
    workdir = str(tmp_path / "run")
    shutil.copytree(straight, workdir)
    for _, path in checkpointing.list_checkpoints(workdir):
        with open(os.path.join(path, "state.json"), "w") as f:
            f.write("")
    with pytest.raises(ValueError, match="No usable checkpoint in .*"
                       "checkpoints.*Delete that folder"):
        checkpointing.latest_good(workdir)


def test_a_failed_attempt_leaves_the_workdir_for_the_corrected_command(
        corpus_dir, tmp_path):
    workdir = str(tmp_path / "run")
    bad = tiny_config(corpus_dir, steps=2)
    bad["objective"] = {"class_name": "masked_lm",
                        "config": {"selection_rate": 0.0}}
    with pytest.raises(ValueError, match="loss on no position"):
        training.train(bad, workdir, verbose=0)  # Fails after the model.
    assert not os.path.exists(workdir)
    summary = training.train(tiny_config(corpus_dir, steps=2), workdir,
                             verbose=0)
    assert summary["status"] == "completed"


def test_eval_batches_zero_is_refused_before_reading_data(
        tmp_path, capsys, monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("data was read")

    monkeypatch.setattr(training, "prepare_corpus", never)
    recipe = os.path.join(ROOT, "recipes", "masked_lm.py:runlocal")
    started = time.perf_counter()
    code = cli_main(["train", recipe, "--workdir", str(tmp_path / "run"),
                     "--config.training.steps=2",
                     "--config.training.eval_batches=0"])
    seconds = time.perf_counter() - started
    err = capsys.readouterr().err
    assert code == 2 and "training.eval_batches" in err, err
    print(f"eval_batches=0 refused in {seconds:.2f} s")  # Not asserted.


def test_files_follow_the_umask_and_summary_is_strict_json(straight):
    modes = {}
    for root, dirs, files in os.walk(straight):
        for name in dirs + files:
            path = os.path.join(root, name)
            modes[os.path.relpath(path, straight)] = stat.S_IMODE(
                os.stat(path).st_mode)
    files = [p for p in modes if os.path.isfile(os.path.join(straight, p))]
    assert {modes[p] for p in files} == {0o644}, modes
    assert {modes[p] for p in modes if p not in files} == {0o755}, modes
    with open(os.path.join(straight, "summary.json")) as f:
        summary = json.loads(f.read(), parse_constant=pytest.fail)
    assert summary["diverged"] is False


def test_a_diverged_run_writes_null_not_nan(corpus_dir, tmp_path):
    config = tiny_config(corpus_dir, steps=4, learning_rate=1e30,
                         clipnorm=None, warmup_steps=0)
    summary = training.train(config, str(tmp_path / "run"), verbose=0)
    assert summary["status"] == "diverged" and summary["diverged"]
    with open(tmp_path / "run" / "summary.json") as f:
        text = f.read()
    saved = json.loads(text, parse_constant=pytest.fail)  # No NaN.
    assert saved["diverged"] is True and saved["final_loss"] is None


def test_ctrl_c_exits_130_with_one_line(corpus_dir, tmp_path, capsys,
                                        monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(training, "fit_and_evaluate", interrupted)
    recipe = tmp_path / "recipe.py"
    recipe.write_text("def get_config(arg=None):\n    return "
                      f"{tiny_config(corpus_dir, steps=2)!r}\n")
    code = cli_main(["train", str(recipe), "--workdir", str(tmp_path / "w")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 130
    assert len(err) == 2, err  # "training ... in ..." and the one line.
    assert "interrupted" in err[-1] and "to resume" in err[-1]
    assert f"--workdir {tmp_path / 'w'}" in err[-1]


def _cli(*args, env=None):
    return [sys.executable, "-m", "keras_objectives.cli", *args]


def test_start_up_is_quiet_without_debug(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TF_CPP", "KERAS_OBJECTIVES_DEBUG"))}
    env["PYTHONPATH"] = ROOT
    recipe = os.path.join(ROOT, "recipes", "masked_lm.py:runlocal")
    command = _cli("train", recipe, "--workdir", str(tmp_path / "w"),
                   "--config.training.steps=0")
    quiet = subprocess.run(command, env=env, capture_output=True, text=True)
    assert quiet.returncode == 2
    lines = quiet.stderr.strip().splitlines()
    assert len(lines) == 1 and "training.steps" in lines[0], quiet.stderr
    loud = subprocess.run(command + ["--debug"], env=env,
                          capture_output=True, text=True)
    assert loud.returncode == 2
    assert "Traceback" in loud.stderr and len(
        loud.stderr.splitlines()) > len(lines)


@pytest.mark.large
def test_sigint_during_training_then_resume(corpus_dir, tmp_path):
    """A real Ctrl-C: exit 130, one line, and the rerun completes."""
    recipe = tmp_path / "recipe.py"
    recipe.write_text("def get_config(arg=None):\n    return "
                      f"{tiny_config(corpus_dir, steps=40)!r}\n")
    workdir = str(tmp_path / "run")
    env = dict(os.environ, PYTHONPATH=ROOT)
    command = _cli("train", str(recipe), "--workdir", workdir)
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 600
    while (time.time() < deadline and process.poll() is None
           and checkpointing.latest_step(workdir) == 0):
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=300)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    assert "interrupted" in err.strip().splitlines()[-1]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]


def test_compare_fails_when_every_evaluation_failed(tmp_path, capsys,
                                                    monkeypatch):
    from keras_objectives import compare

    def run(status):
        return {"arm": "mlm", "seed": 0, "status": "completed", "evals": {
            "linear_probe@4": {"status": status, "reason": "bad file"}}}

    runs = [run("error"), run("error")]
    monkeypatch.setattr(compare, "run_comparison",
                        lambda *a, **k: {"runs": runs})
    path = os.path.join(ROOT, "recipes", "quickstart.py:runlocal")
    argv = ["compare", path, "--workdir", str(tmp_path), "--quiet"]
    assert cli_main(argv) == 1
    err = capsys.readouterr().err
    assert err.count("evaluation failed: mlm seed 0: linear_probe@4: "
                     "bad file") == 2, err
    assert "every evaluation failed" in err
    runs[1] = run("ok")  # One failure among successes is a result.
    assert cli_main(argv) == 0
    err = capsys.readouterr().err
    assert err.count("evaluation failed") == 1
    assert "every evaluation failed" not in err
