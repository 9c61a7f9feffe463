"""Comparison recipes: validation, sweeps and the budget -> steps plan."""

import copy
import types

import pytest

from keras_objectives.compare import budget
from keras_objectives.compare import sweeps
from keras_objectives.compare.recipe import arm_run_config
from keras_objectives.compare.recipe import load_comparison_recipe
from keras_objectives.compare.recipe import validate_recipe
from keras_objectives.config import base_config
from keras_objectives.config import set_model_size


def recipe(**changes):
    base = set_model_size(base_config(), "tiny")
    out = {"name": "t", "seeds": [0, 1], "budget": {"steps": 20},
           "base": base, "arms": ["masked_lm", "causal_lm"],
           "evaluations": ["linear_probe"]}
    out.update(changes)
    return out


def test_defaults_and_normalization():
    r = validate_recipe(recipe())
    assert [a["name"] for a in r["arms"]] == ["masked_lm", "causal_lm"]
    assert r["variable"] == "objective" and r["log_intervals"] == 10
    probe = r["evaluations"][0]
    assert probe["use"] == "understanding" and probe["seeds"] == [0, 1, 2]
    assert probe["label"] == "linear_probe"


@pytest.mark.parametrize("changes, match", [
    ({"seeds": []}, "seeds"),
    ({"seeds": [1, 1]}, "seeds"),
    ({"budget": {"flops": 1e12, "steps": 3}}, "exactly one"),
    ({"budget": {"epochs": 3}}, "exactly one"),
    ({"budget": {"flops": -1}}, "budget.flops"),
    ({"arms": ["masked_lm"]}, "at least 2 arms"),
    ({"arms": ["masked_lm", "masked_lm"]}, "unique arm names"),
    ({"evaluations": ["glue"]}, "evaluations"),
    ({"expected_null": [{"arms": ["masked_lm", "nope"], "margin": 0.1}]},
     "expected_null"),
    ({"checkpoints_for_curves": 20}, "log_intervals"),
    ({"budgets": {}}, "Unknown comparison recipe field"),
])
def test_invalid_recipes_name_the_field(changes, match):
    with pytest.raises(ValueError, match=match):
        validate_recipe(recipe(**changes))


def test_missing_fields_are_listed():
    r = recipe()
    del r["budget"]
    with pytest.raises(ValueError, match=r"\['budget'\]"):
        validate_recipe(r)


@pytest.mark.parametrize("field, value", [
    ("sequence_length", 64),
    ("data.vocabulary_size", 4096),
    ("model.hidden_dim", 128),
    ("training.learning_rate", 1e-3),
])
def test_arms_must_share_held_fixed_fields(field, value):
    arms = ["masked_lm", {"name": "clm", "objective": "causal_lm",
                          "overrides": {field: value}}]
    with pytest.raises(ValueError, match=rf"differ in `{field}`.*"
                       rf"variable='{field}'"):
        validate_recipe(recipe(arms=arms))
    # ... unless the recipe says that field is the experiment.
    r = validate_recipe(recipe(arms=arms, variable=field))
    config = arm_run_config(r, r["arms"][1], seed=3)
    leaf = config
    for key in field.split("."):
        leaf = leaf[key]
    assert leaf == value and config["seed"] == 3


def test_arm_run_config_sets_budget_fields():
    r = validate_recipe(recipe(checkpoints_for_curves=2, warmup_fraction=0.2))
    config = arm_run_config(r, r["arms"][0], 1, steps=50,
                            steps_per_checkpoint=5)
    t = config["training"]
    assert (t["steps"], t["steps_per_checkpoint"], t["warmup_steps"],
            t["keep_checkpoints"]) == (50, 5, 10, 10)
    assert config["objective"] == "masked_lm"


def test_sweeps_build_valid_arms():
    arms = sweeps.sweep("masked_lm", "objective.config.selection_rate",
                        [0.10, 0.15, 0.25, 0.40, 0.60])
    r = validate_recipe(recipe(arms=arms))
    rates = [a["objective"]["config"]["selection_rate"] for a in r["arms"]]
    assert rates == [0.10, 0.15, 0.25, 0.40, 0.60]
    assert len({a["name"] for a in r["arms"]}) == 5
    # A sweep of a non-objective field needs `variable`.
    rates = sweeps.sweep("masked_lm", "training.learning_rate", [3e-4, 1e-3])
    with pytest.raises(ValueError, match="training.learning_rate"):
        validate_recipe(recipe(arms=rates))
    r = validate_recipe(recipe(arms=rates,
                               variable=["training.learning_rate"]))
    assert r["arms"][1]["overrides"] == {"training.learning_rate": 1e-3}
    assert arm_run_config(r, r["arms"][1], 0)["training"][
        "learning_rate"] == 1e-3
    static = sweeps.static_vs_dynamic((1, 10))
    assert [a["objective"]["config"]["dupe_factor"] for a in static] == [
        None, 1, 10]
    with pytest.raises(ValueError, match="names"):
        sweeps.sweep("masked_lm", "objective.config.x", [1, 2], names=["a"])


def test_other_sweep_helpers():
    spans = sweeps.span_length_sweep()
    assert [a["objective"]["config"]["mean_noise_span_length"]
            for a in spans] == [1.0, 2.0, 3.0, 5.0, 10.0]
    ratios = sweeps.clm_mlm_ratio()
    assert {a["objective"]["class_name"] for a in ratios} == {"mixture"}
    assert [a["objective"]["config"]["rates"][0] for a in ratios] == [
        0.0, 1 / 16, 1 / 4, 1 / 2, 1.0]
    assert ratios[1]["objective"]["config"]["rates"][1] == 15 / 16
    electra = sweeps.electra_vs_mlm()
    assert electra[2]["objective"]["config"] == {"disc_loss_on": "masked"}
    rates = [a["objective"]["config"]["mask_token_rate"]
             for a in sweeps.mask_replacement()]
    assert rates == [0.8, 1.0]


def test_steps_for_budget_arithmetic():
    acc = {"flops_per_step": 3e9, "tokens_per_step": 1024}
    # 1e12 / 3e9 = 333.3 -> 333 -> multiple of 10 intervals -> 330.
    assert budget.steps_for_budget({"flops": 1e12}, acc, "a") == (330, 33)
    assert budget.steps_for_budget({"tokens": 102400}, acc, "a") == (100, 10)
    # 25 steps: 4, 3 or 2 intervals would drop a step (> 1%): one interval.
    assert budget.steps_for_budget({"steps": 25}, acc, "a", 4) == (25, 25)
    assert budget.steps_for_budget({"steps": 1001}, acc, "a") == (1000, 100)
    # 39 steps in 5 intervals would lose 4 (10%): 3 intervals of 13.
    assert budget.steps_for_budget({"flops": 39 * 3e9}, acc, "a", 5) == (
        39, 13)
    assert budget.steps_for_budget({"flops": 3e9}, acc, "a") == (1, 1)
    with pytest.raises(ValueError, match=r"arm `electra`.*3e\+09 flops"):
        budget.steps_for_budget({"flops": 2e9}, acc, "electra")


def test_plan_budget_equal_flops_means_different_steps():
    costs = {"masked_lm": 2e9, "causal_lm": 5e9}

    def fake_accounting(config, corpus):
        name = config["objective"]
        return {"tokens_per_step": 1024, "flops_per_step": costs[name],
                "loss_positions_per_step": 154 if name == "masked_lm"
                else 1024, "objective": name, "attention_mode": "x",
                "architecture": "y", "parameters": 1}

    r = validate_recipe(recipe(budget={"flops": 1e12}))
    plan = budget.plan_budget(r, None, accounting_fn=fake_accounting)
    assert plan["masked_lm"]["steps"] == 500
    assert plan["causal_lm"]["steps"] == 200
    for p in plan.values():
        assert p["flops"] <= 1e12
        assert p["tokens"] == p["steps"] * 1024
    assert plan["masked_lm"]["loss_position_share"] == pytest.approx(
        154 / 1024)
    tiny = validate_recipe(recipe(budget={"flops": 3e9}))
    with pytest.raises(ValueError, match="causal_lm"):
        budget.plan_budget(tiny, None, accounting_fn=fake_accounting)


def test_load_comparison_recipe_with_overrides(tmp_path):
    path = tmp_path / "compare_x.py"
    path.write_text(
        "from keras_objectives.config import base_config\n"
        "def get_config(arg=None):\n"
        "    return {'name': 'x', 'seeds': [0, 1], 'budget': {'steps': 10},"
        " 'base': base_config(), 'arms': ['masked_lm', 'causal_lm']}\n")
    r = load_comparison_recipe(str(path), [
        "--config.budget.flops=1e13", "--config.seeds=[0,1,2]",
        "--config.base.training.learning_rate=0.001"])
    assert r["budget"] == {"flops": 1e13}
    assert r["seeds"] == [0, 1, 2]
    assert r["base"]["training"]["learning_rate"] == 0.001
    with pytest.raises(ValueError, match="Unknown comparison recipe field"):
        load_comparison_recipe(str(path), ["--config.steps=3"])
    with pytest.raises(ValueError, match="Unknown recipe field"):
        load_comparison_recipe(str(path), ["--config.base.training.x=3"])


def test_validation_does_not_mutate_the_input():
    r = recipe()
    before = copy.deepcopy(r)
    validate_recipe(r)
    assert r == before


def test_plan_budget_with_real_objectives_and_bodies():
    from keras_objectives.data.special_tokens import SpecialTokens
    from keras_objectives.data.special_tokens import reserved_tokens

    vocabulary = reserved_tokens() + [f"w{i}" for i in range(400)]
    corpus = types.SimpleNamespace(
        special_tokens=SpecialTokens.from_vocabulary(vocabulary),
        vocabulary=vocabulary)
    base = set_model_size(base_config(), "tiny")
    base["sequence_length"] = 32
    base["training"]["global_batch_size"] = 4
    r = validate_recipe(recipe(base=base, budget={"flops": 2e10}))
    plan = budget.plan_budget(r, corpus)
    mlm, clm = plan["masked_lm"], plan["causal_lm"]
    assert (mlm["attention_mode"], clm["attention_mode"]) == (
        "bidirectional", "causal")
    # CLM pays the output softmax at every position, MLM at ~15%: at equal
    # FLOPs the MLM arm gets more steps, and neither exceeds the budget.
    assert mlm["flops_per_step"] < clm["flops_per_step"]
    assert mlm["steps"] > clm["steps"] >= 10
    for p in (mlm, clm):
        raw = int(2e10 // p["flops_per_step"])
        assert 0.99 * raw <= p["steps"] <= raw
        assert p["steps"] % p["steps_per_checkpoint"] == 0
        assert 0.99 * 2e10 - p["flops_per_step"] < p["flops"] <= 2e10
        assert p["tokens_per_step"] == 4 * 32
    assert mlm["loss_position_share"] == pytest.approx(0.15)
    assert mlm["vocabulary_size"] == len(vocabulary)
    assert clm["loss_position_share"] == 1.0
    # Equal tokens: equal steps whatever the objective costs.
    r = validate_recipe(recipe(base=base, budget={"tokens": 128 * 50}))
    plan = budget.plan_budget(r, corpus)
    assert plan["masked_lm"]["steps"] == plan["causal_lm"]["steps"] == 50
