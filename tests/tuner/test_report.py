"""The tuning report from trial files alone: no training, no keras-tuner."""

import csv
import json
import os

import pytest

from keras_objectives.compare.recipe import comparison_base
from keras_objectives.config import load_recipe
from keras_objectives.tuner.recipe import validate_tuning_recipe
from keras_objectives.tuner.report import write_tuning_report

SPACE = [
    {"class_name": "Choice", "config": {"name": "objective"}},
    {"class_name": "Choice", "config": {"name": "learning_rate"}},
    {"class_name": "Choice", "config": {"name": "masked_lm/selection_rate"}},
]


def write_trial(workdir, trial_id, values, scores, status="COMPLETED"):
    folder = os.path.join(workdir, "tuner", f"trial_{trial_id}")
    os.makedirs(folder)
    base, _ = comparison_base("runlocal")
    for k, score in enumerate(scores):
        config = {**base, "seed": k, "objective": {
            "class_name": values["objective"], "config": {}}}
        with open(os.path.join(folder, f"execution-{k}.json"), "w") as f:
            json.dump({"execution": k, "seed": k, "score": score,
                       "probe": {"dev_accuracy": score,
                                 "test_accuracy": score - 0.1},
                       "steps_total": 40, "tokens": 40960, "flops": 4e10,
                       "final_loss": 5.0 + k, "wall_time": 10.0,
                       "config": config}, f)
    mean = sum(scores) / len(scores) if scores else None
    with open(os.path.join(folder, "trial.json"), "w") as f:
        json.dump({"trial_id": trial_id, "status": status, "score": mean,
                   "hyperparameters": {"space": SPACE, "values": values},
                   "message": "Traceback...\nValueError: diverged"
                   if status == "FAILED" else None}, f)


def test_report_tables_best_trial_plot_and_best_recipe(tmp_path):
    workdir = str(tmp_path)
    base, _ = comparison_base("runlocal")
    recipe = validate_tuning_recipe({
        "name": "demo", "objectives": ["masked_lm", "causal_lm"],
        "space": {"masked_lm": {"selection_rate": [0.15, 0.4]}},
        "budget": {"flops": 4e10}, "base": base,
        "executions_per_trial": 2})
    with open(os.path.join(workdir, "tuning.json"), "w") as f:
        json.dump({"recipe": recipe}, f)
    write_trial(workdir, "0", {"objective": "causal_lm",
                               "learning_rate": 1e-3}, [0.40, 0.44])
    write_trial(workdir, "1", {"objective": "masked_lm",
                               "learning_rate": 5e-4,
                               "masked_lm/selection_rate": 0.4},
                [0.60, 0.62])
    write_trial(workdir, "2", {"objective": "masked_lm",
                               "learning_rate": 1e-3,
                               "masked_lm/selection_rate": 0.15}, [],
                status="FAILED")

    paths = write_tuning_report(workdir)
    markdown = open(paths["markdown"]).read()
    # Best first; the conditional rate shows as missing for causal_lm.
    trials = [line for line in markdown.splitlines()
              if line.startswith("| 1 |") or line.startswith("| 2 |")]
    assert trials[0].startswith("| 1 | 1 | completed | masked_lm | 0.0005 "
                                "| 0.4 | 0.6100 ± 0.014 | 0.600, 0.620 |")
    assert trials[1].startswith("| 2 | 0 | completed | causal_lm | 0.001 "
                                "| – | 0.4200 ± 0.028 |")
    assert "| – | 2 | FAILED | masked_lm |" in markdown
    assert "trial 2: ValueError: diverged" in markdown
    assert "**trial 1**: probe dev accuracy 0.6100 ± 0.014 (n=2 " \
           "pre-training seeds)" in markdown
    assert "`masked_lm/selection_rate` = 0.4" in markdown
    assert "test accuracy 0.5100 (reported once" in markdown
    assert "| masked_lm/selection_rate | objective = masked_lm | 0.15, 0.4 |" \
        in markdown
    assert "never by pre-training loss" in markdown
    assert f"keras-objectives train {workdir}/best_recipe.py" in markdown
    html = open(paths["html"]).read()
    assert "<img alt='Score by hyperparameter'" in html
    assert os.path.getsize(os.path.join(
        workdir, "plots", "score_by_hyperparameter.png")) > 1000

    with open(paths["csv"]) as f:
        rows = list(csv.DictReader(f))
    assert [(r["trial"], r["execution"]) for r in rows] == [
        ("1", "0"), ("1", "1"), ("0", "0"), ("0", "1"), ("2", "")]
    with open(paths["best"]) as f:
        best = json.load(f)
    assert best["trial_id"] == "1"
    assert best["hyperparameters"]["masked_lm/selection_rate"] == 0.4
    # best_recipe.py is a run recipe `keras-objectives train` can load.
    config = load_recipe(paths["recipe"])
    assert config == best["config"]
    assert config["objective"]["class_name"] == "masked_lm"


def test_report_needs_a_search_directory(tmp_path):
    with pytest.raises(ValueError, match="search directory"):
        write_tuning_report(str(tmp_path))
