"""The untrained control goes through the arms' seeds and evaluation code."""

import numpy as np

from keras_objectives import checkpointing
from keras_objectives import training
from keras_objectives.compare import evaluate as evaluate_lib
from keras_objectives.compare.recipe import validate_recipe
from keras_objectives.config import base_config
from tests.test_training import corpus_dir  # noqa: F401 (fixture)
from tests.test_training import tiny_config


def _weights(model):
    return [np.array(w) for w in model.get_weights()]


def _same(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def test_step_zero_is_the_runs_own_seeded_initial_body(corpus_dir,  # noqa: F811
                                                       tmp_path):
    config = tiny_config(corpus_dir, steps=4, save_initial_weights=True)
    path = str(tmp_path / "run")
    training.train(config, path, verbose=0)
    initial = _weights(training.load_run(path, 0)[0])
    trained = _weights(training.load_run(path, 4)[0])
    assert not _same(initial, trained)
    # Another run of the same seed starts from the same body: the control
    # and the arm share their initialisation, not just their seed number.
    other = str(tmp_path / "other")
    training.train(tiny_config(corpus_dir, steps=2,
                               save_initial_weights=True), other, verbose=0)
    again = _weights(training.load_run(other, 0)[0])
    assert _same(initial, again)
    # A different seed gives a different body.
    seeded = str(tmp_path / "seeded")
    config = tiny_config(corpus_dir, steps=2, save_initial_weights=True)
    config["seed"] = 7
    training.train(config, seeded, verbose=0)
    different = _weights(training.load_run(seeded, 0)[0])
    assert not _same(initial, different)
    assert checkpointing.initial_weights_path(path).startswith(path)


def test_step_zero_uses_the_same_evaluation_call(tmp_path, monkeypatch):
    recipe = validate_recipe({
        "name": "t", "seeds": [0, 1], "budget": {"steps": 8},
        "base": base_config(),
        "arms": [{"name": "a", "objective": "masked_lm"},
                 {"name": "b", "objective": "causal_lm"}],
        "evaluations": [{"name": "linear_probe", "task": "books",
                         "seeds": [0, 1]}],
        "checkpoints_for_curves": 2, "log_intervals": 2,
    })
    calls = []

    def call(entry, model, objective, corpus):
        calls.append((model, dict(entry)))
        return "ok", None, {"0": {"dev_accuracy": 0.5},
                            "1": {"dev_accuracy": 0.6}}

    monkeypatch.setattr(evaluate_lib, "_call", call)
    entries = evaluate_lib.evaluate_run(
        str(tmp_path), recipe, 8, 4, untrained=True,
        load_fn=lambda path, step: (f"model@{step}", None, None, None))
    assert [model for model, _ in calls] == ["model@0", "model@4",
                                             "model@8"]
    # The same evaluation entry (task, options, probe seeds) at every step.
    assert all(entry == calls[0][1] for _, entry in calls)
    label = calls[0][1]["label"]
    assert entries[f"{label}@0"]["seeds"] == entries[f"{label}@8"][
        "seeds"] == [0, 1]
    assert entries[f"{label}@0"]["metrics"] == {"dev_accuracy": 0.55}
