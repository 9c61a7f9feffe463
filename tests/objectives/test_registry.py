"""The registry: names, lookup, registration, binding, generated exports."""

import keras
import pytest

from keras_objectives import objectives
from keras_objectives.api_export import EXPORTED
from keras_objectives.objectives import registry
from tests.helpers import NextTokenLM
from tests.test_case import tiny_special_tokens

ST = tiny_special_tokens(200)


def test_names_are_the_package_objectives_and_sorted():
    names = objectives.names()
    assert names == sorted(names)
    package = {c.name for p, c in EXPORTED.items()
               if p.startswith("keras_objectives.objectives.")
               and isinstance(c, type) and getattr(c, "name", None)}
    assert package <= set(names)
    assert {"masked_lm", "causal_lm", "span_corruption", "ul2"} <= package


def test_get_by_name_dict_instance_or_class_name():
    mlm = objectives.get("masked_lm", special_tokens=ST, sequence_length=16)
    assert type(mlm).__name__ == "MaskedLM"
    assert objectives.get(mlm) is mlm
    by_dict = objectives.get(
        {"class_name": "masked_lm", "config": {"sequence_length": 8}},
        special_tokens=ST, sequence_length=16)
    assert by_dict.sequence_length == 8  # The identifier's config wins.
    assert objectives.get_class("MaskedLM") is type(mlm)


def test_unknown_names_and_bad_identifiers():
    with pytest.raises(ValueError, match="registered objectives"):
        objectives.get("nope", special_tokens=ST)
    with pytest.raises(ValueError, match="class_name"):
        objectives.get(3, special_tokens=ST)


def test_register_sets_the_name_and_refuses_a_taken_one():
    assert objectives.get_class("test_next_token_lm") is NextTokenLM
    assert NextTokenLM.name == "test_next_token_lm"
    assert keras.saving.get_registered_name(NextTokenLM) == (
        "objectives>test_next_token_lm")

    class Other(objectives.Objective):
        pass

    with pytest.raises(ValueError, match="already registered"):
        objectives.register("masked_lm")(Other)
    assert objectives.get_class("masked_lm") is not Other


def test_bind_vocabulary_calls_each_class_hook():
    vocabulary = ["[PAD]", "a", "##b", ".", "!"]
    assert objectives.bind_vocabulary("causal_lm", vocabulary) == {
        "class_name": "causal_lm", "config": {}}
    bound = objectives.bind_vocabulary(
        {"class_name": "mixture", "config": {
            "members": ["denoising", {"class_name": "masked_lm",
                                      "config": {"whole_word": True}}]}},
        vocabulary)
    first, second = bound["config"]["members"]
    assert first["config"] == {"sentence_end_ids": [3, 4]}
    assert second["config"]["continuation_token_ids"] == [2]
    # A value the recipe sets is kept.
    kept = objectives.bind_vocabulary(
        {"class_name": "denoising", "config": {"sentence_end_ids": [1]}},
        vocabulary)
    assert kept["config"]["sentence_end_ids"] == [1]


def test_exports_come_from_the_decorator():
    assert objectives.MaskedLM is EXPORTED[
        "keras_objectives.objectives.MaskedLM"]
    assert "InputsToTargets" in dir(objectives)
    assert registry.as_identifier("x") == {"class_name": "x", "config": {}}
    with pytest.raises(AttributeError):
        objectives.NotAThing  # noqa: B018
