"""Real searches on tiny data: a 3-trial RandomSearch over {masked_lm,
causal_lm} x mask rate, scored by the probe, interrupted and resumed.
Tiny body, 10 steps, a corpus and a 2-class probe task written to tmp."""

import glob
import json
import os

import numpy as np
import pytest

keras_tuner = pytest.importorskip("keras_tuner")

from keras_objectives import evaluation  # noqa: E402
from keras_objectives.tuner.hypermodel import METRIC  # noqa: E402
from keras_objectives.tuner.recipe import validate_tuning_recipe  # noqa: E402
from keras_objectives.tuner.search import make_hypermodel  # noqa: E402
from keras_objectives.tuner.search import make_tuner  # noqa: E402
from keras_objectives.tuner.search import run_search  # noqa: E402
from tests.helpers import tiny_base  # noqa: E402
from tests.helpers import write_corpus  # noqa: E402


def tiny_recipe(root, **changes):
    train, valid, probe = write_corpus(root, label_in_context=True)
    base = tiny_base(train, valid)
    recipe = {
        "name": "tiny", "tuner": "RandomSearch", "max_trials": 3,
        "objectives": ["masked_lm", "causal_lm"],
        "space": {"learning_rate": [5e-4, 1e-3],
                  "masked_lm": {"selection_rate": [0.15, 0.4]}},
        "budget": {"steps": 10}, "base": base, "task": probe,
        "probe_seeds": [0], "seed": 3,
    }
    recipe.update(changes)
    return recipe


def trial_files(workdir):
    out = {}
    for path in sorted(glob.glob(os.path.join(workdir, "tuner", "trial_*",
                                              "*.json"))):
        with open(path) as f:
            out[os.path.relpath(path, workdir)] = json.load(f)
    return out


def test_random_search_scores_by_probe_and_resumes(tmp_path):
    workdir = str(tmp_path / "search")
    recipe = tiny_recipe(str(tmp_path), max_trials=2)
    first = run_search(recipe, workdir, verbose=0)
    assert first["trainings"] == 2 and first["trials"] == 2
    before = trial_files(workdir)

    # "Interrupted" after 2 of 3 trials: rerun with the same workdir.
    recipe["max_trials"] = 3
    second = run_search(recipe, workdir, verbose=0)
    assert second["trainings"] == 1, "finished trials must not be redone"
    assert second["trials"] == 3
    after = trial_files(workdir)
    for name, content in before.items():
        if name.endswith("execution-0.json"):
            assert after[name] == content  # Not retrained, not rewritten.

    tuner = second["tuner"]
    trials = list(tuner.oracle.trials.values())
    assert len(trials) == 3
    chosen = {t.hyperparameters.values["objective"] for t in trials}
    assert chosen == {"masked_lm", "causal_lm"}
    for trial in trials:
        assert trial.status == "COMPLETED"
        # The tuner tracks the probe metric and nothing else: never loss.
        assert set(trial.metrics.metrics) == {METRIC}
        record_path = os.path.join(workdir, "tuner", f"trial_{trial.trial_id}",
                                   "execution-0.json")
        with open(record_path) as f:
            record = json.load(f)
        assert trial.score == pytest.approx(record["probe"]["dev_accuracy"])
        assert 0.0 <= trial.score <= 1.0
        values = trial.hyperparameters.values
        # A mask rate only where masked_lm was chosen (conditional space).
        assert ("masked_lm/selection_rate" in values) == (
            values["objective"] == "masked_lm")
        config = record["config"]
        assert config["objective"]["class_name"] == values["objective"]
        assert config["training"]["learning_rate"] == values["learning_rate"]
        assert config["training"]["steps"] == 10
        if values["objective"] == "masked_lm":
            assert config["objective"]["config"]["selection_rate"] == (
                values["masked_lm/selection_rate"])

    # The best hyperparameters are reported: returned, in best.json, in
    # the report and as a runnable recipe.
    best = max(trials, key=lambda t: t.score)
    assert second["best_hyperparameters"] == best.hyperparameters.values
    assert second["best_score"] == pytest.approx(best.score)
    # best.json names a trial with the best score (ties may pick another
    # trial of equal score than keras-tuner's order does).
    with open(os.path.join(workdir, "best.json")) as f:
        reported = json.load(f)["hyperparameters"]
    [chosen] = [t for t in trials if t.hyperparameters.values == reported]
    assert chosen.score == pytest.approx(best.score)
    report = open(os.path.join(workdir, "report.md")).read()
    assert f"**trial {chosen.trial_id}**" in report
    assert report.count("| completed |") == 3
    html = open(os.path.join(workdir, "report.html")).read()
    assert "data:image/png;base64," in html
    assert os.path.isfile(os.path.join(workdir, "plots",
                                       "score_by_hyperparameter.png"))

    # Independently: the best checkpoint, probed again, gives its score.
    hypermodel = tuner.hypermodel
    model = tuner.get_best_models(1)[0]
    config, objective, _ = hypermodel.run_config(best.hyperparameters)
    again = evaluation.evaluate_linear_probe(
        model, objective, hypermodel.corpus, hypermodel.probe_task, seed=[0])
    assert again["dev_accuracy"] == pytest.approx(best.score)


def test_a_changed_recipe_is_refused_on_resume(tmp_path):
    workdir = str(tmp_path / "search")
    recipe = tiny_recipe(str(tmp_path), max_trials=1)
    old = validate_tuning_recipe({**recipe, "budget": {"steps": 20}})
    os.makedirs(workdir)
    with open(os.path.join(workdir, "tuning.json"), "w") as f:
        json.dump({"recipe": old}, f)
    with pytest.raises(ValueError, match=r"changed: \['budget.steps'\]\). "
                       r"Resuming may only change \['max_trials'"):
        run_search(recipe, workdir, verbose=0)
    # max_trials may change: a longer search keeps its trials.
    with open(os.path.join(workdir, "tuning.json"), "w") as f:
        json.dump({"recipe": {**validate_tuning_recipe(recipe),
                              "max_trials": 7}}, f)
    from keras_objectives.tuner.search import _check_workdir

    _check_workdir(validate_tuning_recipe(recipe), workdir, False)


@pytest.mark.large
def test_an_interrupted_trial_reuses_its_finished_executions(tmp_path):
    workdir = str(tmp_path / "search")
    recipe = tiny_recipe(str(tmp_path), max_trials=1,
                         executions_per_trial=2, objectives=["causal_lm"],
                         space={"learning_rate": [1e-3]})
    recipe = validate_tuning_recipe(recipe)
    hypermodel = make_hypermodel(recipe)

    class Interrupt(keras_tuner.HyperModel):
        """Stops the process (KeyboardInterrupt) before execution 1."""

        def build(self, hp):
            return hypermodel.build(hp)

        def fit(self, hp, model, *args, **kwargs):
            if hypermodel.trainings == 1:
                raise KeyboardInterrupt
            return hypermodel.fit(hp, model, *args, **kwargs)

        def declare_hyperparameters(self, hp):
            hypermodel.declare_hyperparameters(hp)

    with pytest.raises(KeyboardInterrupt):
        make_tuner(recipe, Interrupt(), workdir).search(verbose=0)
    records = glob.glob(os.path.join(workdir, "tuner", "trial_0",
                                     "execution-*.json"))
    assert [os.path.basename(p) for p in records] == ["execution-0.json"]

    result = run_search(recipe, workdir, verbose=0)
    assert result["trainings"] == 1  # Execution 0 reused, 1 trained.
    files = trial_files(workdir)
    seeds = [files[f"tuner/trial_0/execution-{k}.json"]["seed"]
             for k in (0, 1)]
    assert seeds == [recipe["base"]["seed"], recipe["base"]["seed"] + 1]
    scores = [files[f"tuner/trial_0/execution-{k}.json"]["score"]
              for k in (0, 1)]
    trial = files["tuner/trial_0/trial.json"]
    assert trial["status"] == "COMPLETED"
    assert trial["score"] == pytest.approx(np.mean(scores))


@pytest.mark.large
@pytest.mark.parametrize("kind", ["Hyperband", "BayesianOptimization"])
def test_other_tuners_and_a_mirrored_strategy(tmp_path, kind):
    if kind == "BayesianOptimization":
        pytest.importorskip("scipy")  # keras-tuner[bayesian]
    options = {"max_epochs": 2, "factor": 2} if kind == "Hyperband" else {
        "num_initial_points": 1}
    recipe = tiny_recipe(str(tmp_path), tuner=kind, max_trials=2,
                         tuner_options=options,
                         distribution_strategy="mirrored",
                         devices=["/cpu:0", "/cpu:1"])
    result = run_search(recipe, str(tmp_path / "search"), verbose=0)
    assert type(result["tuner"]).__name__ == kind
    assert result["tuner"].distribution_strategy.num_replicas_in_sync == 2
    assert result["trainings"] >= 2
    assert result["best_score"] is not None
    for name, record in trial_files(str(tmp_path / "search")).items():
        if "execution-" in name:
            assert record["probe"]["dev_accuracy"] == record["score"]
