"""`model.fit` of a Pretrainer compiled with XLA (`jit_compile=True`)."""

import keras
import numpy as np

from keras_objectives.layers.lm_head import LMHead
from keras_objectives.models import Pretrainer
from keras_objectives.models import backbone_outputs
from keras_objectives.models import make_backbone
from keras_objectives.models import required_inputs
from keras_objectives.objectives import Objective
from keras_objectives.objectives import register
from keras_objectives.objectives.registry import _REGISTRY
from tests.test_case import TestCase
from tests.test_case import tiny_special_tokens

VOCAB = 200
LENGTH = 12
DIMS = dict(
    num_layers=2,
    num_heads=2,
    hidden_dim=32,
    intermediate_dim=64,
    max_sequence_length=16,
    dropout=0.0,
)


class _NextTokenLM(Objective):
    """Test-only: next-token logits at every position, tied head."""

    attention_mode = "causal"
    architecture = "decoder"

    def build_graph(self, backbone):
        inputs = {
            name: keras.Input((self.sequence_length,), dtype="int32", name=name)
            for name in required_inputs(backbone, self.attention_mode)
        }
        hidden = backbone_outputs(backbone, inputs, self.attention_mode)
        head = LMHead(token_embedding=backbone.token_embedding, name="lm_head")
        return inputs, head(hidden)


if "test_models_next_token_lm" not in _REGISTRY:
    register("test_models_next_token_lm")(_NextTokenLM)


def _counting_data(num_examples, seed=0):
    """Token t+1 = token t + 1 over the non-reserved ids: easy to learn."""
    rng = np.random.default_rng(seed)
    start = rng.integers(0, VOCAB - 111, (num_examples, 1))
    seq = (start + np.arange(LENGTH + 1)) % (VOCAB - 111) + 111
    seq = seq.astype("int32")
    x = {
        "token_ids": seq[:, :-1],
        "padding_mask": np.ones((num_examples, LENGTH), "int32"),
        # Two documents per row.
        "document_ids": np.repeat([[0] * 5 + [1] * 7], num_examples, 0),
    }
    return x, seq[:, 1:], np.ones((num_examples, LENGTH), "float32")


def _model(**backbone_kwargs):
    objective = _NextTokenLM(
        tiny_special_tokens(VOCAB), sequence_length=LENGTH, seed=1
    )
    backbone = make_backbone("body", VOCAB, **backbone_kwargs)
    return Pretrainer(backbone, objective)


def _compile(model, **kwargs):
    model.compile(
        optimizer=keras.optimizers.Adam(1e-2),
        loss=model.objective.loss(),
        weighted_metrics=model.objective.metrics(),
        **kwargs,
    )


class PretrainerXLATest(TestCase):
    def test_jit_compiled_fit_step(self):
        # The richest mask (prefix body filled causal, per-document masks,
        # reset positions) must compile under XLA. One layer keeps the XLA
        # compile short.
        model = _model(
            attention_mode="prefix",
            document_masking=True,
            reset_position_ids=True,
            **{**DIMS, "num_layers": 1},
        )
        self.assertIn("document_ids", model.input)
        _compile(model, jit_compile=True)
        x, y, w = _counting_data(16)
        weights = [np.array(v) for v in model.trainable_weights]
        history = model.fit(
            x, y, sample_weight=w, batch_size=8, epochs=1, verbose=0
        )
        self.assertTrue(np.all(np.isfinite(history.history["loss"])))
        changed = [
            not np.array_equal(a, np.array(v))
            for a, v in zip(weights, model.trainable_weights, strict=True)
        ]
        self.assertTrue(all(changed))
