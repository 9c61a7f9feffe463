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


def test_recipe_args_parses_big_vision_form():
    args = config_lib.recipe_args("runlocal,seeds=5,budget=1e13",
                                  runlocal=False, seeds=3, budget=None)
    assert args == {"runlocal": True, "seeds": 5, "budget": 1e13}
    for empty in (None, ""):
        assert config_lib.recipe_args(empty, runlocal=False, seeds=3) == {
            "runlocal": False, "seeds": 3}
    # Lists keep their commas; string defaults keep the raw text.
    args = config_lib.recipe_args("seeds=[0, 1],name=abc,runlocal=False",
                                  seeds=None, name="x", runlocal=True)
    assert args == {"seeds": [0, 1], "name": "abc", "runlocal": False}
    assert config_lib.recipe_args("rate=1", rate=0.5) == {"rate": 1.0}


@pytest.mark.parametrize("arg, match", [
    ("bogus", r"Unknown recipe argument `bogus`.*runlocal=False, seeds=3"),
    ("seeds=2,seeds=3", "given twice"),
    ("seeds=abc", r"`seeds`. Expected an integer.*seeds='abc'"),
    ("runlocal=1", r"`runlocal`. Expected True or False"),
    ("seeds", r"`seeds`. Expected an integer.*seeds=True"),
])
def test_recipe_args_errors_list_the_keys(arg, match):
    with pytest.raises(ValueError, match=match):
        config_lib.recipe_args(arg, runlocal=False, seeds=3)


def test_every_recipe_documents_its_arguments():
    import glob

    paths = glob.glob(os.path.join(RECIPES, "*.py")) + glob.glob(
        os.path.join(RECIPES, "tpu", "*.py"))
    assert len(paths) > 10
    for path in paths:
        with open(path) as f:
            text = f.read()
        assert "Recipe arguments (`RECIPE.py:key=value,...`" in text, path
        assert "recipe_args(" in text or "comparison_args(" in text, path
        if "compare_sst2" not in path:
            with pytest.raises(ValueError, match="Unknown recipe argument"):
                config_lib.load_recipe(path + ":no_such_key")
