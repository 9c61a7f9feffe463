"""`recipes/tpu/` configs validate, full and `runlocal`, without training."""

import glob
import os
import re
import types

import pytest

from keras_objectives import config as config_lib
from keras_objectives import training
from keras_objectives.data.special_tokens import SpecialTokens
from keras_objectives.data.special_tokens import reserved_tokens

RECIPES = sorted(glob.glob(os.path.join(
    os.path.dirname(__file__), "..", "recipes", "tpu", "*.py")))
NAMES = [os.path.basename(p)[:-3] for p in RECIPES]
# (raw tokens per row, global batch, steps) of each full run.
EXPECTED = {
    "bert_base_mlm": (512, 256, 1_000_000),
    "t5_base_span_corruption": (568, 128, 524_288),
    "gpt_small_clm": (1025, 128, 300_000),
}


def _corpus(size):
    vocabulary = reserved_tokens() + [
        f"w{i}" for i in range(size - len(reserved_tokens()))]
    return types.SimpleNamespace(
        vocabulary=vocabulary,
        special_tokens=SpecialTokens.from_vocabulary(vocabulary))


def test_every_sized_recipe_is_here():
    assert sorted(NAMES) == sorted(EXPECTED)


@pytest.mark.parametrize("path", RECIPES, ids=NAMES)
def test_full_config_validates_for_a_tpu(path):
    name = os.path.basename(path)[:-3]
    config = config_lib.validate(config_lib.load_recipe(path))
    t = config["training"]
    raw_length, batch, steps = EXPECTED[name]
    assert (t["global_batch_size"], t["steps"]) == (batch, steps)
    assert config["strategy"] == "tpu" and config["tpu"] == "local"
    assert t["mixed_precision"] == "mixed_bfloat16" and t["jit_compile"]
    assert t["peak_flops"] == config_lib.TPU_PEAK_FLOPS["v3-8"]
    assert t["steps"] % t["steps_per_checkpoint"] == 0
    # 8 replicas on a v3-8, 4 on a v4-8.
    assert batch % 8 == 0
    assert config["data"]["pretokenized"].startswith("gs://YOUR_BUCKET/")
    assert config["model"]["hidden_dim"] == 768
    assert config["model"]["num_layers"] == 12
    assert config["model"]["max_sequence_length"] >= config[
        "sequence_length"] or config["model"]["backbone"] == "t5"
    objective = training.build_objective(
        config, _corpus(config["data"]["vocabulary_size"]))
    assert objective.raw_length == raw_length
    # The bucket is set by an override.
    moved = config_lib.apply_overrides(
        config, ["--config.data.pretokenized=gs://my-bucket/ko/data/x"])
    assert config_lib.validate(moved)["data"]["pretokenized"] == (
        "gs://my-bucket/ko/data/x")


@pytest.mark.parametrize("path", RECIPES, ids=NAMES)
def test_runlocal_is_a_cpu_smoke_run_on_the_embedded_books(path):
    full = config_lib.validate(config_lib.load_recipe(path))
    local = config_lib.validate(config_lib.load_recipe(path + ":runlocal"))
    assert local["objective"] == full["objective"]
    assert local["model"]["backbone"] == full["model"]["backbone"]
    assert local["strategy"] == "cpu" and local["tpu"] is None
    assert local["data"]["source"] == "embedded"
    assert local["data"]["pretokenized"] is None
    t = local["training"]
    assert not t["jit_compile"] and t["mixed_precision"] is None
    assert t["steps"] == 200 and t["global_batch_size"] == 32
    assert local["model"]["hidden_dim"] < full["model"]["hidden_dim"]
    assert local["sequence_length"] == 128
    training.build_objective(local, _corpus(7877))
    with pytest.raises(ValueError, match="runlocal"):
        config_lib.load_recipe(path + ":bogus")


def test_bad_pretokenized_field_is_a_clear_error():
    with pytest.raises(ValueError, match="data.pretokenized.*pretokenize"):
        config_lib.validate({"data": {"pretokenized": 3}})
    with pytest.raises(ValueError, match="data.pretokenized"):
        config_lib.validate({"data": {"pretokenized": " "}})


@pytest.mark.large
@pytest.mark.parametrize("path", RECIPES, ids=NAMES)
def test_docstring_cost_matches_the_accounting(path):
    """The FLOPs per step in the docstring are the project's accounting."""
    from keras_objectives.models.backbones import make_backbone
    from keras_objectives.objectives.flops import ModelDims

    config = config_lib.validate(config_lib.load_recipe(path))
    objective = training.build_objective(
        config, _corpus(config["data"]["vocabulary_size"]))
    m = config["model"]
    backbone = make_backbone(
        m["backbone"], config["data"]["vocabulary_size"],
        attention_mode=objective.attention_mode,
        **{k: m[k] for k in ("num_layers", "num_heads", "hidden_dim",
                             "intermediate_dim", "max_sequence_length",
                             "dropout")})
    dims = ModelDims.from_backbone(backbone, config["sequence_length"])
    flops = objective.accounting(
        dims, config["training"]["global_batch_size"])["flops_per_step"]
    with open(path) as f:
        doc = f.read()
    stated = re.search(r"FLOPs per step \(x3: backward\)[^\n]*(?:\n +[^\n]*)*?"
                       r"= ([0-9.]+e\d+)\n", doc).group(1)
    assert f"{flops:.2e}".replace("e+", "e") == stated
    assert f"{dims.non_embedding_params:,}" in doc
