"""recipes/claims: every recipe validates and tests exactly its claim."""

import glob
import os

import pytest

from keras_objectives.compare.claims import match_claims
from keras_objectives.compare.claims_suite import SUITE
from keras_objectives.compare.claims_suite import claim_recipe
from keras_objectives.compare.claims_suite import cost_hours
from keras_objectives.compare.published import CLAIMS
from keras_objectives.compare.recipe import load_comparison_recipe
from keras_objectives.compare.recipe import validate_recipe
from keras_objectives.config import base_config

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
CLAIM_DIR = os.path.join(ROOT, "recipes", "claims")


def test_one_recipe_per_claim_and_a_suite():
    names = {os.path.basename(p)[:-3]
             for p in glob.glob(os.path.join(CLAIM_DIR, "*.py"))}
    assert names == {c.key for c in CLAIMS} | {"suite"}


@pytest.mark.parametrize("key", [c.key for c in CLAIMS])
@pytest.mark.parametrize("arg", ["cpu", ""])
def test_each_claim_recipe_tests_its_claim(key, arg):
    spec = os.path.join(CLAIM_DIR, f"{key}.py") + (f":{arg}" if arg else "")
    recipe = load_comparison_recipe(spec)
    matched = {m["claim"].key for m in match_claims(recipe)}
    assert key in matched
    assert len(recipe["seeds"]) >= 5
    assert recipe["controls"] == {"untrained": True, "no_context": True}
    if arg:
        assert recipe["base"]["model"]["hidden_dim"] == 128
    else:  # the one-GPU size states a cost within 4 hours
        assert cost_hours(recipe) <= 4.0
        doc = open(os.path.join(CLAIM_DIR, f"{key}.py")).read()
        assert f"about {cost_hours(recipe):.1f} hours" in doc


def test_suite_holds_every_structural_claim_with_shared_arms():
    recipe = load_comparison_recipe(os.path.join(CLAIM_DIR, "suite.py:cpu"))
    assert {m["claim"].key for m in match_claims(recipe)} >= set(SUITE)
    names = [a["name"] for a in recipe["arms"]]
    assert len(names) == len(set(names)) == 4  # mlm and clm train once
    assert {e["name"] if isinstance(e, dict) else e
            for e in recipe["evaluations"]} == {"linear_probe", "tagging",
                                                "held_out_lm"}


def test_unknown_claim_and_untestable_claims_fail_before_training():
    with pytest.raises(ValueError, match="claims"):
        claim_recipe("mlm_is_magic", "cpu")
    recipe = claim_recipe("sentence_corruption", "cpu")
    recipe["arms"] = recipe["arms"][:1] + [
        {"name": "infill", "objective": "denoising"}]  # text infilling
    with pytest.raises(ValueError, match="sentence_corruption"):
        validate_recipe(recipe)


@pytest.mark.parametrize("effect", [0, -0.01, {"linear_probe": 0.0}, True])
def test_power_at_an_effect_of_zero_or_less_is_refused(effect):
    recipe = {"name": "t", "seeds": [0, 1, 2], "budget": {"steps": 10},
              "base": base_config(),
              "arms": [{"name": "a", "objective": "masked_lm"},
                       {"name": "b", "objective": "causal_lm"}],
              "evaluations": ["linear_probe"], "power": {"effect": effect}}
    with pytest.raises(ValueError, match="power.effect"):
        validate_recipe(recipe)


def test_one_seed_is_a_valid_recipe_and_controls_switch_off():
    recipe = validate_recipe({
        "name": "t", "seeds": [0], "budget": {"steps": 10},
        "base": base_config(), "controls": False,
        "arms": [{"name": "a", "objective": "masked_lm"},
                 {"name": "b", "objective": "causal_lm"}],
        "evaluations": ["linear_probe"]})
    assert recipe["seeds"] == [0]
    assert recipe["controls"] == {"untrained": False, "no_context": False}
    assert recipe["evaluations"][0]["controls"] is False
