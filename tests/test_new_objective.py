"""A new objective is an op, a layer and an objective class: nothing else.

This file defines a toy objective, noisy-input causal LM (each input token
is replaced by a random one with probability `rate`; the targets are the
clean next tokens), as its three parts, registers it, and runs it through
`keras-objectives train`, `keras-objectives compare` (linear probe and
minimal pairs), the tuner's search space and an XLA-compiled train step,
without touching a package file. `docs/contributing.md` walks through the
same example.
"""

import json
import os

import keras
import numpy as np
import tensorflow as tf

from keras_objectives import cli
from keras_objectives import training
from keras_objectives.layers import LMHead
from keras_objectives.layers import SeededTransform
from keras_objectives.layers.seeded_transform import padding_mask_of
from keras_objectives.models import backbone_outputs
from keras_objectives.models import required_inputs
from keras_objectives.objectives import Objective
from keras_objectives.objectives import flops
from keras_objectives.objectives import register
from keras_objectives.objectives.registry import _REGISTRY
from keras_objectives.ops import random as kr
from keras_objectives.tuner import spaces
from tests.helpers import tiny_base
from tests.helpers import write_corpus
from tests.test_case import tiny_special_tokens
from tests.test_xla_objectives import _without_op_determinism  # noqa: F401
from tests.test_xla_objectives import must_compile_calls

NAME = "test_noisy_causal_lm"
NOISE_STREAM = 901  # A stream id of this op's own.


# --- the op: pure TF, seeded per example --------------------------------
def replace_randomly(keys, token_ids, eligible, rate, low, high):
    """Replace each `eligible` token by a uniform id in `[low, high)` with
    probability `rate`."""
    length = token_ids.shape[-1]
    noise = eligible & (kr.uniform(keys, length, NOISE_STREAM) < rate)
    ids = kr.randint(keys, length, high - low, NOISE_STREAM + 1) + low
    return tf.where(noise, ids, token_ids)


# --- the layer: the Keras preprocessing contract -------------------------
@keras.saving.register_keras_serializable(package="tests")
class NoisyShifter(SeededTransform):
    """Noisy inputs, clean next-token targets: `(x, y, sample_weight)`."""

    def __init__(self, rate, low_id, high_id, pad_token_id=0, **kwargs):
        super().__init__(**kwargs)
        self.rate = float(rate)
        self.low_id, self.high_id = int(low_id), int(high_id)
        self.pad_token_id = int(pad_token_id)

    def transform(self, features, keys):
        clean = features["token_ids"]
        real = padding_mask_of(features, self.pad_token_id)
        noisy = replace_randomly(keys, clean, real & (clean >= self.low_id),
                                 self.rate, self.low_id, self.high_id)
        x = {"token_ids": noisy[:, :-1], "padding_mask": real[:, :-1]}
        return x, clean[:, 1:], tf.cast(real[:, 1:], tf.float32)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate,
                "low_id": self.low_id, "high_id": self.high_id,
                "pad_token_id": self.pad_token_id}


# --- the objective: the unit of comparison --------------------------------
class NoisyCausalLM(Objective):
    """Causal LM on noisy inputs: every clean next token is a target."""

    attention_mode = "causal"
    architecture = "decoder"
    layer_arguments = ("rate",)
    search_space = {"rate": [0.0, 0.1, 0.3]}

    def __init__(self, special_tokens, sequence_length=128, seed=0,
                 rate=0.1):
        super().__init__(special_tokens, sequence_length, seed)
        st = self.special_tokens
        self.set_preprocessor(NoisyShifter(
            rate=rate, low_id=max(st.special_ids) + 1,
            high_id=st.vocabulary_size, pad_token_id=st.pad_id, seed=seed))

    @property
    def raw_length(self):
        return self.sequence_length + 1

    def build_graph(self, backbone):
        inputs = {n: keras.Input((None,), dtype="int32", name=n)
                  for n in required_inputs(backbone, self.attention_mode)}
        sequence = backbone_outputs(backbone, inputs, self.attention_mode)
        head = LMHead(token_embedding=backbone.token_embedding,
                      dtype=backbone.dtype_policy, name="lm_head")
        return inputs, head(sequence)

    def accounting(self, dims, batch_size):
        tokens = batch_size * self.sequence_length
        return {"tokens_per_step": tokens, "loss_positions_per_step": tokens,
                "flops_per_step": float(flops.training_flops(
                    dims, tokens=tokens, softmax_positions=tokens))}


if NAME not in _REGISTRY:
    register(NAME)(NoisyCausalLM)


def _recipe(path, config):
    with open(path, "w") as f:
        f.write(f"def get_config(arg=None):\n    return {config!r}\n")
    return str(path)


def test_the_transform_is_seeded_and_noisy():
    objective = NoisyCausalLM(tiny_special_tokens(), sequence_length=16,
                              seed=3, rate=0.5)
    rng = np.random.default_rng(0)
    features = {"token_ids": rng.integers(111, 200, (8, 17)),
                "example_ids": np.arange(8), "epoch": np.zeros(8, int)}
    x, y, w = objective(features)
    again, _, _ = objective(features)
    np.testing.assert_array_equal(x["token_ids"], again["token_ids"])
    np.testing.assert_array_equal(y, features["token_ids"][:, 1:])
    changed = np.mean(x["token_ids"] != features["token_ids"][:, :-1])
    assert 0.35 < changed < 0.6  # 0.5, less the draws of the same id
    assert objective.get_config()["rate"] == 0.5
    assert objective.defines_next_token
    assert objective.sentence_scoring == "causal"


def test_train_and_compare_through_the_cli(tmp_path):
    train, valid, probe = write_corpus(str(tmp_path))
    base = tiny_base(train, valid)
    base["objective"] = {"class_name": NAME, "config": {"rate": 0.2}}
    base["training"].update(steps=2, steps_per_checkpoint=2, warmup_steps=0,
                            eval_batches=1)
    run = str(tmp_path / "run")
    assert cli.main(["train", _recipe(tmp_path / "train.py", base),
                     "--workdir", run]) == 0
    with open(os.path.join(run, "summary.json")) as f:
        summary = json.load(f)
    assert summary["objective"] == NAME
    assert summary["objective_config"]["rate"] == 0.2

    comparison = {
        "name": "toy", "seeds": [0], "budget": {"steps": 2},
        "base": base, "log_intervals": 1,
        "arms": [{"name": "clean", "objective": {
                     "class_name": NAME, "config": {"rate": 0.0}}},
                 {"name": "noisy", "objective": {
                     "class_name": NAME, "config": {"rate": 0.3}}}],
        "evaluations": [
            {"name": "linear_probe", "task": probe, "seeds": [0]},
            {"name": "minimal_pairs", "num_pairs": 6},
        ],
    }
    workdir = str(tmp_path / "compare")
    assert cli.main(["compare", _recipe(tmp_path / "compare.py", comparison),
                     "--workdir", workdir, "--quiet"]) == 0
    with open(os.path.join(workdir, "results.csv")) as f:
        results = f.read()
    for evaluation in ("linear_probe", "minimal_pairs"):
        assert evaluation in results
    assert "noisy" in results and "clean" in results


def test_the_tuner_searches_its_space():
    fixed = spaces.check_objectives([NAME])
    space = spaces.resolve_space(fixed, {NAME: {"rate": [0.0, 0.2]}})
    assert space["objectives"][NAME]["rate"]["values"] == [0.0, 0.2]
    assert "rate" in spaces.tunable_hyperparameters(NAME)
    assert spaces.search_space(NAME) == {"rate": [0.0, 0.1, 0.3]}
    default = spaces.resolve_space(fixed)
    assert default["objectives"][NAME]["rate"]["values"] == [0.0, 0.1, 0.3]


def test_an_xla_compiled_train_step():
    from tests.test_xla_objectives import build
    from tests.test_xla_objectives import tiny_config

    objective, model, dataset = build(tiny_config(NAME, "body"))
    assert isinstance(objective, NoisyCausalLM) and model.jit_compile
    history = model.fit(dataset, steps_per_epoch=2, epochs=1, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert any(must_compile_calls(model))
    assert training.model_inputs(objective) is not None
