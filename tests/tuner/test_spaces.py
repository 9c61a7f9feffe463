"""Search spaces, tuning recipes and the bad-input errors. No training."""

import os

import pytest

from keras_objectives import cli
from keras_objectives.config import base_config
from keras_objectives.objectives import names as registered
from keras_objectives.tuner import spaces
from keras_objectives.tuner.recipe import load_tuning_recipe
from keras_objectives.tuner.recipe import validate_tuning_recipe

keras_tuner = pytest.importorskip("keras_tuner")

from keras_objectives.tuner.hypermodel import ObjectiveHyperModel  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def declared(hypermodel, **values):
    hp = keras_tuner.HyperParameters()
    hp.values.update(values)
    hypermodel.declare_hyperparameters(hp)
    return hp


def test_an_unregistered_objective_lists_the_registered_ones():
    with pytest.raises(ValueError) as info:
        ObjectiveHyperModel(objectives=["masked_lm", "bert_mlm"])
    message = str(info.value)
    assert "`bert_mlm` is not a registered objective" in message
    assert str(registered()) in message
    assert "argument `objectives`" in message


def test_a_hyperparameter_the_objective_lacks_is_named_with_its_tunables():
    with pytest.raises(ValueError) as info:
        ObjectiveHyperModel(objectives=["masked_lm", "causal_lm"], space={
            "causal_lm": {"noise_density": [0.1, 0.2]}})
    message = str(info.value)
    assert "Objective `causal_lm` has no tunable hyperparameter " \
           "`noise_density`" in message
    assert "Tunable hyperparameters of `causal_lm`: ['learning_rate']" \
        in message
    with pytest.raises(ValueError) as info:
        ObjectiveHyperModel(objectives=["masked_lm"], space={
            "masked_lm": {"mean_noise_span_length": [3.0]}})
    message = str(info.value)
    assert "`mean_noise_span_length`" in message
    assert "'selection_rate'" in message and "'mask_token_rate'" in message


def test_other_space_mistakes_say_how_to_fix_them():
    with pytest.raises(ValueError, match="not among the searched objectives"):
        ObjectiveHyperModel(objectives=["masked_lm"], space={
            "span_corruption": {"noise_density": [0.1]}})
    with pytest.raises(ValueError, match=r"nest it, for example space="
                       r"\{'masked_lm': \{'selection_rate'"):
        ObjectiveHyperModel(objectives=["masked_lm"], space={
            "selection_rate": [0.1]})
    with pytest.raises(ValueError, match="shared by every objective"):
        ObjectiveHyperModel(objectives=["masked_lm"], space={
            "masked_lm": {"learning_rate": [1e-3]}})
    # A value the objective itself refuses, before any training.
    with pytest.raises(ValueError, match=r"refuses masked_lm/selection_rate"
                       r"=1.5: Invalid value received for argument "
                       r"`selection_rate`"):
        ObjectiveHyperModel(objectives=["masked_lm"], space={
            "masked_lm": {"selection_rate": [0.15, 1.5]}})
    with pytest.raises(ValueError, match="twice"):
        ObjectiveHyperModel(objectives=["masked_lm", "masked_lm"])
    with pytest.raises(ValueError, match="min_value < max_value"):
        ObjectiveHyperModel(objectives=["masked_lm"], space={
            "masked_lm": {"selection_rate": {"min_value": 0.5,
                                             "max_value": 0.1}}})


def test_span_length_appears_only_when_a_span_objective_is_chosen():
    hypermodel = ObjectiveHyperModel(
        objectives=["masked_lm", "span_corruption", "causal_lm"])
    hp = declared(hypermodel, objective="causal_lm")
    span = "span_corruption/mean_noise_span_length"
    assert {p.name for p in hp.space} >= {
        "objective", "learning_rate", "masked_lm/selection_rate",
        "span_corruption/noise_density", span}
    assert not hp.is_active(span)
    assert not hp.is_active("masked_lm/selection_rate")
    assert hp.is_active("learning_rate")
    name, values = hypermodel.trial_values(hp)
    assert name == "causal_lm" and set(values) == {"learning_rate"}
    hp = declared(hypermodel, objective="span_corruption")
    assert hp.is_active(span)
    name, values = hypermodel.trial_values(hp)
    assert set(values) == {"learning_rate", "noise_density",
                           "mean_noise_span_length"}
    # Defaults are the canonical settings (T5: 15%, span 3; lr 5e-4).
    assert values == {"learning_rate": 5e-4, "noise_density": 0.15,
                      "mean_noise_span_length": 3.0}


def test_each_default_space_builds_its_objective():
    for name in spaces.search_spaces():
        assert name in registered()
        for argument in spaces.search_spaces()[name]:
            assert argument in spaces.tunable_hyperparameters(name)
    # Arguments reached through **kwargs are tunable too (SpanBERT's
    # masking is a MaskedLM): the geometric span length and the rate.
    assert {"geometric_p", "selection_rate"} <= set(
        spaces.tunable_hyperparameters("span_masking"))
    # Every value of every default space is accepted by its objective.
    ObjectiveHyperModel(objectives=sorted(spaces.search_spaces()))


def test_list_values_and_ranges_round_trip_through_the_tuner():
    hypermodel = ObjectiveHyperModel(objectives=["mixture"], space={
        "learning_rate": {"min_value": 1e-4, "max_value": 1e-2,
                          "sampling": "log"}})
    hp = declared(hypermodel)
    choice = hp._hps["mixture/rates"][0]
    assert all(isinstance(v, str) for v in choice.values)
    hp.values["mixture/rates"] = choice.values[1]
    _, values = hypermodel.trial_values(hp)
    assert values["rates"] == [0.75, 0.25]
    assert type(hp._hps["learning_rate"][0]).__name__ == "Float"
    # A single value fixes a hyperparameter.
    hypermodel = ObjectiveHyperModel(objectives=["masked_lm"], space={
        "learning_rate": 1e-3, "masked_lm": {"mask_token_rate": 0.9}})
    _, values = hypermodel.trial_values(declared(hypermodel))
    assert values["learning_rate"] == 1e-3
    assert values["mask_token_rate"] == 0.9


def test_fit_refuses_data_arguments():
    hypermodel = ObjectiveHyperModel(objectives=["causal_lm"])
    with pytest.raises(ValueError, match="builds its data from the run"):
        hypermodel.fit(declared(hypermodel), None, [1, 2, 3])


def recipe(**changes):
    out = {"name": "t", "objectives": ["masked_lm", "causal_lm"],
           "budget": {"steps": 10}, "base": base_config()}
    out.update(changes)
    return out


def test_recipe_validation():
    r = validate_tuning_recipe(recipe())
    assert r["tuner"] == "RandomSearch" and r["executions_per_trial"] == 1
    assert validate_tuning_recipe(recipe(tuner="bayesian"))["tuner"] == (
        "BayesianOptimization")
    cases = [
        (recipe(tuner="grid"), "recipe field `tuner`"),
        (recipe(budget={"flops": 1, "steps": 2}), "argument `budget`"),
        (recipe(budget={"steps": -1}), "argument `budget`"),
        (recipe(max_trials=0), "recipe field `max_trials`"),
        (recipe(probe_seeds=[]), "recipe field `probe_seeds`"),
        (recipe(distribution_strategy="gpu"), "distribution_strategy"),
        (recipe(objectives=["nope"]), "`nope` is not a registered"),
        (recipe(trials=3), "Unknown tuning recipe field"),
        ({"name": "t"}, "lacks the field"),
    ]
    for bad, message in cases:
        with pytest.raises(ValueError, match=message):
            validate_tuning_recipe(bad)


def test_quickstart_recipe_validates_and_overrides_apply():
    path = os.path.join(ROOT, "recipes", "tune_quickstart.py")
    with open(path) as f:
        assert "keras-objectives tune recipes/tune_quickstart.py" in f.read()
    r = load_tuning_recipe(path, ["--config.max_trials=2",
                                  "--config.budget.tokens=1e5",
                                  "--config.base.training.learning_rate=1e-3"])
    assert r["max_trials"] == 2 and r["budget"] == {"tokens": 1e5}
    assert r["base"]["training"]["learning_rate"] == 1e-3
    assert set(r["objectives"]) >= {"masked_lm", "causal_lm"}
    ObjectiveHyperModel(config=r["base"], objectives=r["objectives"],
                        space=r["space"], budget=r["budget"])


def test_tune_cli_errors_exit_non_zero(tmp_path, capsys):
    assert cli.main(["tune", str(tmp_path / "nope.py")]) == 2
    assert "no such file" in capsys.readouterr().err
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from keras_objectives.config import base_config\n"
        "def get_config(arg=None):\n"
        "    return {'name': 'x', 'objectives': ['masked_lm', 'nope'],\n"
        "            'budget': {'steps': 2}, 'base': base_config()}\n")
    assert cli.main(["tune", str(bad), "--workdir", str(tmp_path / "w")]) == 2
    err = capsys.readouterr().err
    assert "`nope` is not a registered objective" in err
    assert "masked_lm" in err
    assert cli.main(["tune", str(bad), "--config.space.causal_lm."
                     "selection_rate=[0.1]", "--config.objectives="
                     "['masked_lm','causal_lm']"]) == 2
    err = capsys.readouterr().err
    assert "`causal_lm` has no tunable hyperparameter `selection_rate`" in err
    assert not os.path.exists(tmp_path / "w")


def test_bayesian_optimization_without_scipy_says_what_to_install(tmp_path):
    try:
        import scipy  # noqa: F401

        pytest.skip("scipy is installed: BayesianOptimization can run")
    except ImportError:
        pass
    from keras_objectives.tuner.search import make_tuner

    r = validate_tuning_recipe(recipe(tuner="BayesianOptimization"))
    with pytest.raises(ValueError, match=r"recipe field `tuner`.*"
                       r"keras-tuner\[bayesian\]"):
        make_tuner(r, ObjectiveHyperModel(objectives=["causal_lm"]),
                   str(tmp_path))
