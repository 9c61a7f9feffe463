"""Real comparisons on a tiny corpus: SIGKILL mid-way and resume to the
same results, and a diverging arm reported as failed. Tiny body, ~10
steps, a corpus written to tmp files."""

import csv
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from keras_objectives.compare import run_comparison
from keras_objectives.config import base_config
from keras_objectives.config import set_model_size
from tests.helpers import write_corpus


def tiny_recipe(root, arms, variable="objective"):
    train, valid, probe = write_corpus(root)
    base = set_model_size(base_config(), "tiny")
    base["sequence_length"] = 32
    base["data"].update(source=train, validation=valid,
                        vocabulary_size=400)
    base["model"]["max_sequence_length"] = 64
    base["training"].update(global_batch_size=4, eval_batches=2,
                            deterministic=True)
    return {
        "name": "tiny", "seeds": [0, 1], "budget": {"steps": 10},
        "base": base, "arms": arms, "variable": variable,
        "evaluations": [
            {"name": "linear_probe", "task": probe, "seeds": [0, 1]},
            {"name": "minimal_pairs", "num_pairs": 20},
        ],
        "log_intervals": 2, "checkpoints_for_curves": 2,
    }


def read_results(workdir):
    """Results without the wall-clock dependent rows."""
    with open(os.path.join(workdir, "results.csv")) as f:
        rows = [r for r in csv.DictReader(f)
                if r["metric"] != "tokens_per_second"]
    return sorted(rows, key=lambda r: tuple(r.values()))


ARMS = [{"name": "mlm", "objective": "masked_lm"},
        {"name": "clm", "objective": "causal_lm"}]


@pytest.mark.large
def test_sigkill_mid_comparison_then_resume_gives_the_same_results(
        tmp_path):
    recipe = tiny_recipe(str(tmp_path), ARMS)
    reference = str(tmp_path / "reference")
    run_comparison(recipe, reference, progress=False)

    path = tmp_path / "compare_tiny.py"
    path.write_text(f"def get_config(arg=None):\n    return {recipe!r}\n")
    workdir = str(tmp_path / "killed")
    process = subprocess.Popen(
        [sys.executable, "-m", "keras_objectives.cli", "compare", str(path),
         "--workdir", workdir, "--quiet"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    second = os.path.join(workdir, "runs", "clm", "seed-0")
    deadline = time.time() + 600
    while not os.path.isdir(second) and process.poll() is None:
        assert time.time() < deadline, "the first run never finished"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    first = os.path.join(workdir, "runs", "mlm", "seed-0")
    assert os.path.isfile(os.path.join(first, "summary.json"))
    assert not os.path.exists(os.path.join(workdir, "report.html"))

    collection = run_comparison(recipe, workdir, progress=False)
    assert [r["status"] for r in collection["runs"]] == ["completed"] * 4
    got, want = read_results(workdir), read_results(reference)
    assert [r["metric"] for r in got] == [r["metric"] for r in want]
    for a, b in zip(got, want, strict=True):
        assert {k: v for k, v in a.items() if k != "value"} == {
            k: v for k, v in b.items() if k != "value"}
        np.testing.assert_allclose(float(a["value"]), float(b["value"]),
                                   rtol=1e-5, atol=1e-6)


@pytest.mark.large
def test_a_diverging_learning_rate_is_reported_failed(tmp_path):
    arms = [{"name": "mlm", "objective": "masked_lm"},
            {"name": "mlm-lr1e4", "objective": "masked_lm",
             "overrides": {"training.learning_rate": 1e4}}]
    recipe = tiny_recipe(str(tmp_path), arms,
                         variable="training.learning_rate")
    recipe["evaluations"] = recipe["evaluations"][:1]
    workdir = str(tmp_path / "w")
    collection = run_comparison(recipe, workdir, progress=False)
    status = {(r["arm"], r["seed"]): r["status"]
              for r in collection["runs"]}
    assert status[("mlm", 0)] == status[("mlm", 1)] == "completed"
    assert status[("mlm-lr1e4", 0)] == "diverged"
    report = open(os.path.join(workdir, "report.md")).read()
    assert "FAILED (diverged)" in report and "non-finite loss" in report
    rows = read_results(workdir)
    assert {r["arm"] for r in rows if r["evaluation"] == "linear_probe"} \
        == {"mlm"}
