"""The comparison runner with a stand-in trainer: grid order, progress,
skipping finished runs, resume after an interruption, failed and diverged
arms, evaluation caching. Real training is in test_end_to_end.py."""

import csv
import json
import os

import keras
import pytest

from keras_objectives import training
from keras_objectives.compare import budget
from keras_objectives.compare import evaluate
from keras_objectives.compare import run_comparison
from keras_objectives.compare.results import collect
from keras_objectives.compare.results import tidy_rows
from keras_objectives.config import base_config
from keras_objectives.config import set_model_size

COST = {"masked_lm": 1e9, "causal_lm": 2e9}


class Killed(BaseException):
    """Stands for SIGKILL: not an `Exception`, so nothing may catch it."""


def fake_train(calls, kill_at=None):
    """A trainer that writes the run dir `training.train` writes."""

    def train(config, path):
        calls.append((config["objective"], config["seed"]))
        if kill_at is not None and len(calls) == kill_at:
            raise Killed()
        objective = config["objective"]
        t = config["training"]
        steps, per = t["steps"], t["steps_per_checkpoint"]
        diverge = t["learning_rate"] >= 1e3
        os.makedirs(path, exist_ok=True)
        with open(os.path.join(path, "config.json"), "w") as f:
            json.dump(config, f)
        rows = ["step,tokens,flops,wall_time,tokens_per_second,loss"]
        for step in range(per, steps + 1, per):
            loss = "nan" if diverge else 5.0 - step / 100 + config["seed"]
            rows.append(f"{step},{step * 64},{step * COST[objective]},"
                        f"{step / 10},640,{loss}")
            os.makedirs(os.path.join(path, "checkpoints",
                                     f"ckpt-{step:08d}"), exist_ok=True)
            if diverge:
                break
        with open(os.path.join(path, "metrics.csv"), "w") as f:
            f.write("\n".join(rows) + "\n")
        summary = {
            "status": "diverged" if diverge else "completed",
            "failure": "non-finite loss (nan) at step 2" if diverge
            else None, "objective": objective, "steps": steps,
            "held_out_loss": 4.0, "tokens_seen": steps * 64,
            "training_flops": steps * COST[objective],
            "loss_positions_seen": steps * 10, "tokens_per_second": 640,
            "parameters": 10, "wall_time": 1.0, "seed": config["seed"]}
        with open(os.path.join(path, "summary.json"), "w") as f:
            json.dump(summary, f)
        return summary

    return train


@pytest.fixture
def fakes(monkeypatch):
    """Stand-in accounting, checkpoint loading and probe."""
    evaluated = []

    def accounting(config, corpus):
        name = config["objective"]
        return {"tokens_per_step": 64, "flops_per_step": COST[name],
                "loss_positions_per_step": 10 if name == "masked_lm"
                else 64, "objective": name, "attention_mode":
                "bidirectional" if name == "masked_lm" else "causal",
                "architecture": "encoder", "parameters": 10}

    def load_run(path, step):
        with open(os.path.join(path, "config.json")) as f:
            config = json.load(f)
        return config, config["objective"], None, config

    def probe(model, objective, corpus, task, seed=0, **options):
        # As evaluate_linear_probe: a list of probe seeds, one call.
        assert task == "books-task" and isinstance(seed, list)
        bonus = 0.2 if objective == "masked_lm" else 0.0
        runs = []
        for s in seed:
            evaluated.append((objective, model["seed"], s))
            runs.append({"seed": s, "dev_accuracy": 0.5 + bonus + 0.01
                         * model["seed"] + 0.001 * s})
        return {"dev_accuracy": sum(r["dev_accuracy"] for r in runs)
                / len(runs), "per_seed": runs, "feature_dim": 64}

    # Nothing is built here: skip the (slow, gc-heavy) session clearing.
    monkeypatch.setattr(keras.backend, "clear_session", lambda: None)
    monkeypatch.setattr(budget, "arm_accounting", accounting)
    monkeypatch.setattr(training, "load_run", load_run)
    monkeypatch.setattr(evaluate, "evaluation_function", lambda name: probe)
    monkeypatch.setattr(evaluate, "resolve_task",
                        lambda name, spec, corpus: "books-task")
    return evaluated


def recipe(**changes):
    base = set_model_size(base_config(), "tiny")
    out = {"name": "fake", "seeds": [0, 1], "budget": {"flops": 2e10},
           "base": base,
           "arms": [{"name": "mlm", "objective": "masked_lm"},
                    {"name": "clm", "objective": "causal_lm"}],
           "evaluations": [{"name": "linear_probe", "seeds": [0, 1]}],
           "checkpoints_for_curves": 2}
    out.update(changes)
    return out


def read_results(workdir):
    with open(os.path.join(workdir, "results.csv")) as f:
        return list(csv.DictReader(f))


def tidy(workdir):
    return tidy_rows(collect(workdir))


def test_grid_runs_every_arm_and_seed(tmp_path, fakes, capsys):
    calls = []
    collection = run_comparison(recipe(), str(tmp_path),
                                train_fn=fake_train(calls), corpus=object())
    # Seed-major order; equal FLOPs mean 20 MLM steps but 10 CLM steps.
    assert calls == [("masked_lm", 0), ("causal_lm", 0), ("masked_lm", 1),
                     ("causal_lm", 1)]
    plan = json.load(open(tmp_path / "comparison.json"))["plan"]
    assert (plan["mlm"]["steps"], plan["clm"]["steps"]) == (20, 10)
    assert [r["status"] for r in collection["runs"]] == ["completed"] * 4
    err = capsys.readouterr().err
    assert "[1/4] mlm seed 0: training 20 steps" in err
    assert "[4/4] clm seed 1: training 10 steps" in err and "ETA" in err
    # Probe at 2 checkpoints (curves) x 2 eval seeds x 4 runs, plus step 0
    # (the untrained control) of each attention mode's reference arm.
    assert len(fakes) == 2 * 2 * 4 + 2 * 2 * 2
    evals = json.load(open(tmp_path / "runs/mlm/seed-1/evals.json"))
    assert sorted(evals["entries"]) == [
        "linear_probe@0", "linear_probe@10", "linear_probe@20"]
    assert os.path.isfile(tmp_path / "report.html")
    probe = [r for r in read_results(str(tmp_path))
             if r["evaluation"] == "linear_probe"]
    assert len(probe) == 4 * 2 + 2 * 2
    # The untrained control: every seed of each attention mode's reference
    # arm, at step 0, through the same probe call and probe seeds.
    assert sorted((r["arm"], r["seed"]) for r in probe
                  if str(r["step"]) == "0") == [
        ("clm", "0"), ("clm", "1"), ("mlm", "0"), ("mlm", "1")]
    assert sorted(set(fakes)) == sorted(
        {(o, s, p) for o in ("masked_lm", "causal_lm") for s in (0, 1)
         for p in (0, 1)})


def test_finished_runs_and_evaluations_are_cached(tmp_path, fakes):
    calls = []
    run_comparison(recipe(), str(tmp_path), train_fn=fake_train(calls),
                   corpus=object(), progress=False, report=False)
    before = len(fakes)
    run_comparison(recipe(), str(tmp_path), train_fn=fake_train(calls),
                   corpus=object(), progress=False, report=False)
    assert len(calls) == 4 and len(fakes) == before


def test_interrupted_comparison_resumes_to_the_same_results(tmp_path, fakes):
    reference = str(tmp_path / "uninterrupted")
    run_comparison(recipe(), reference, train_fn=fake_train([]),
                   corpus=object(), progress=False, report=False)

    workdir = str(tmp_path / "interrupted")
    calls = []
    with pytest.raises(Killed):
        run_comparison(recipe(), workdir, train_fn=fake_train(calls,
                                                              kill_at=2),
                       corpus=object(), progress=False, report=False)
    assert os.path.isfile(os.path.join(workdir, "runs/mlm/seed-0/"
                                       "summary.json"))
    resumed = []
    run_comparison(recipe(), workdir, train_fn=fake_train(resumed),
                   corpus=object(), progress=False, report=False)
    # The finished run is not trained again.
    assert resumed == [("causal_lm", 0), ("masked_lm", 1), ("causal_lm", 1)]
    rows = tidy(workdir)
    assert len(rows) > 20 and rows == tidy(reference)


def test_a_failing_arm_does_not_stop_the_others(tmp_path, fakes):
    calls = []
    inner = fake_train(calls)

    def flaky(config, path):
        if config["objective"] == "causal_lm" and config["seed"] == 1:
            raise RuntimeError("out of memory")
        return inner(config, path)

    collection = run_comparison(recipe(), str(tmp_path), train_fn=flaky,
                                corpus=object(), progress=False)
    status = {(r["arm"], r["seed"]): r["status"]
              for r in collection["runs"]}
    assert status[("clm", 1)] == "failed"
    assert list(status.values()).count("completed") == 3
    failure = json.load(open(tmp_path / "runs/clm/seed-1/failure.json"))
    assert "RuntimeError: out of memory" in failure["failure"]
    report = open(tmp_path / "report.md").read()
    assert "FAILED (failed)" in report and "out of memory" in report
    # A rerun retries the failed run (and only it), then clears the record.
    run_comparison(recipe(), str(tmp_path), train_fn=inner,
                   corpus=object(), progress=False, report=False)
    assert calls[-1] == ("causal_lm", 1) and len(calls) == 4
    assert not os.path.exists(tmp_path / "runs/clm/seed-1/failure.json")


def test_a_diverging_arm_is_reported_failed(tmp_path, fakes, capsys):
    arms = [{"name": "mlm", "objective": "masked_lm"},
            {"name": "mlm-hot", "objective": "masked_lm",
             "overrides": {"training.learning_rate": 1e4}},
            {"name": "clm", "objective": "causal_lm"}]
    collection = run_comparison(
        recipe(arms=arms, variable="training.learning_rate"),
        str(tmp_path), train_fn=fake_train([]), corpus=object())
    status = {(r["arm"], r["seed"]): r["status"]
              for r in collection["runs"]}
    assert status[("mlm-hot", 0)] == status[("mlm-hot", 1)] == "diverged"
    assert status[("mlm", 1)] == status[("clm", 1)] == "completed"
    assert "mlm-hot seed 0: DIVERGED" in capsys.readouterr().err
    report = open(tmp_path / "report.md").read()
    assert report.count("FAILED (diverged)") == 2
    assert "0/2" in next(line for line in report.splitlines()
                         if line.startswith("| mlm-hot | masked_lm"))


def test_a_changed_recipe_in_the_same_workdir(tmp_path,
                                                            fakes):
    run_comparison(recipe(), str(tmp_path), train_fn=fake_train([]),
                   corpus=object(), progress=False, report=False)
    with pytest.raises(ValueError, match="budget changed"):
        run_comparison(recipe(budget={"flops": 4e10}), str(tmp_path),
                       train_fn=fake_train([]), corpus=object())
    arms = recipe()["arms"]
    arms[1] = {**arms[1], "objective": "masked_lm"}
    with pytest.raises(ValueError, match=r"arms\[clm\] changed"):
        run_comparison(recipe(arms=arms), str(tmp_path),
                       train_fn=fake_train([]), corpus=object())
    # A new seed, a new arm and a new evaluation extend the comparison.
    calls = []
    more = recipe(seeds=[0, 1, 2],
                  arms=recipe()["arms"] + [{"name": "mlm2",
                                            "objective": "masked_lm"}])
    run_comparison(more, str(tmp_path), train_fn=fake_train(calls),
                   corpus=object(), progress=False, report=False)
    assert calls == [("masked_lm", 0), ("masked_lm", 1), ("masked_lm", 2),
                     ("causal_lm", 2), ("masked_lm", 2)]


def test_curve_steps():
    assert evaluate.curve_steps(20, 2, 2) == [10, 20]
    assert evaluate.curve_steps(7, 1, 3) == [3, 5, 7]
    assert evaluate.curve_steps(10, 10, 5) == [10]


def test_the_report_shows_the_share_of_wall_time_training(tmp_path, fakes,
                                                          capsys):
    from keras_objectives.compare.timing import read_timing
    from keras_objectives.compare.timing import training_share

    run_comparison(recipe(), str(tmp_path), train_fn=fake_train([]),
                   corpus=object())
    timing = read_timing(str(tmp_path))
    assert sorted(timing["runs"]) == ["clm/0", "clm/1", "mlm/0", "mlm/1"]
    assert all(r["run_seconds"] > 0 for r in timing["runs"].values())
    rows = training_share(collect(str(tmp_path)))
    assert [r["arm"] for r in rows] == ["mlm", "clm", "all"]
    # Each fake run reports 1 s of training.
    assert [r["train"] for r in rows] == [2.0, 2.0, 4.0]
    total = rows[-1]
    assert total["total"] >= sum(
        r["run_seconds"] + r["evaluation_seconds"]
        for r in timing["runs"].values())
    assert total["share"] == pytest.approx(4.0 / total["total"])
    assert "compare: time: training " in capsys.readouterr().err
    report = open(tmp_path / "report.md").read()
    assert "training share" in report and "| all |" in report
    # A second session with nothing to do adds nothing.
    run_comparison(recipe(), str(tmp_path), train_fn=fake_train([]),
                   corpus=object(), progress=False)
    assert read_timing(str(tmp_path)) == timing


def test_a_broken_timing_record_is_a_warning(tmp_path, fakes):
    run_comparison(recipe(), str(tmp_path), train_fn=fake_train([]),
                   corpus=object(), progress=False, report=False)
    (tmp_path / "timing.json").write_text("{")
    collection = collect(str(tmp_path))
    assert collection["timing"] is None
    assert any("timing.json" in w for w in collection["warnings"])
