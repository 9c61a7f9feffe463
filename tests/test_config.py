import os

import pytest

from keras_objectives import config as config_lib

RECIPES = os.path.join(os.path.dirname(__file__), "..", "recipes")


def test_override_sets_nested_and_parses_literals():
    c = config_lib.base_config()
    c = config_lib.apply_overrides(
        c, ["--config.training.steps=20", "--config.data.lowercase=False",
            "--config.strategy=cpu", "--config.devices=['/cpu:0']"]
    )
    assert c["training"]["steps"] == 20
    assert c["data"]["lowercase"] is False
    assert c["strategy"] == "cpu"
    assert c["devices"] == ["/cpu:0"]


def test_unknown_field_is_an_error_listing_known_fields():
    with pytest.raises(ValueError, match="training.stpes.*Known fields"):
        config_lib.apply_overrides(
            config_lib.base_config(), ["--config.training.stpes=3"]
        )
    with pytest.raises(ValueError, match="Unknown recipe field `bogus`"):
        config_lib.validate({"bogus": 1})


def test_objective_fields_are_free_form():
    c = config_lib.base_config()
    c = config_lib.override(c, "objective.config.selection_rate", "0.4")
    assert c["objective"] == {
        "class_name": "masked_lm", "config": {"selection_rate": 0.4}
    }


def test_validate_fills_defaults():
    c = config_lib.validate({"seed": 3, "training": {"steps": 5}})
    assert c["seed"] == 3
    assert c["training"]["steps"] == 5
    assert c["training"]["global_batch_size"] == 32


def test_bad_override_syntax():
    with pytest.raises(ValueError, match="--config.FIELD=VALUE"):
        config_lib.apply_overrides(config_lib.base_config(),
                                   ["--config.seed"])


@pytest.mark.parametrize("name", ["masked_lm.py", "causal_lm.py"])
def test_recipes_load_and_runlocal_shrinks(name):
    path = os.path.join(RECIPES, name)
    full = config_lib.validate(config_lib.load_recipe(path))
    local = config_lib.validate(config_lib.load_recipe(path + ":runlocal"))
    assert local["training"]["steps"] < full["training"]["steps"]
    assert local["model"]["hidden_dim"] <= full["model"]["hidden_dim"]
    assert local["objective"] == full["objective"]
    with pytest.raises(ValueError, match="runlocal"):
        config_lib.load_recipe(path + ":bogus")


def test_missing_recipe_file():
    with pytest.raises(ValueError, match="no such file"):
        config_lib.load_recipe("does/not/exist.py")
