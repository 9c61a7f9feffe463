import json

import keras
import numpy as np

from keras_objectives.api_export import EXPORTED
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


class _TinyCausalLM(Objective):
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


class _DoubledLossLM(_TinyCausalLM):
    """Test-only: overrides `compute_loss` (twice the cross-entropy)."""

    def compute_loss(self, model, x, y, y_pred, sample_weight):
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        return 2.0 * loss(y, y_pred, sample_weight)


# Register once, even if this module is imported twice.
for _name, _cls in (
    ("test_models_tiny_clm", _TinyCausalLM),
    ("test_models_doubled_loss_lm", _DoubledLossLM),
):
    if _name not in _REGISTRY:
        register(_name)(_cls)


def _objective(cls=_TinyCausalLM):
    return cls(tiny_special_tokens(VOCAB), sequence_length=LENGTH, seed=1)


def _counting_data(num_examples=32, seed=0):
    """Token t+1 = token t + 1 over the non-reserved ids: easy to learn."""
    rng = np.random.default_rng(seed)
    start = rng.integers(0, VOCAB - 111, (num_examples, 1))
    seq = (start + np.arange(LENGTH + 1)) % (VOCAB - 111) + 111
    seq = seq.astype("int32")
    x = {
        "token_ids": seq[:, :-1],
        "padding_mask": np.ones((num_examples, LENGTH), "int32"),
    }
    return x, seq[:, 1:], np.ones((num_examples, LENGTH), "float32")


def _compile(model, objective, **kwargs):
    model.compile(
        optimizer=keras.optimizers.Adam(1e-2),
        loss=objective.loss(),
        weighted_metrics=objective.metrics(),
        **kwargs,
    )


class PretrainerTest(TestCase):
    def test_exported(self):
        self.assertIs(
            EXPORTED["keras_objectives.models.Pretrainer"], Pretrainer
        )

    def test_outputs_and_attributes(self):
        objective = _objective()
        backbone = make_backbone("body", VOCAB, "causal", **DIMS)
        model = Pretrainer(backbone, objective)
        self.assertIs(model.backbone, backbone)
        self.assertIs(model.objective, objective)
        x, _, _ = _counting_data(4)
        logits = model.predict(x, verbose=0)
        self.assertEqual(logits.shape, (4, LENGTH, VOCAB))
        # Features the graph does not read are dropped by name.
        extra = dict(x, document_ids=np.ones((4, LENGTH), "int32"))
        self.assertAllClose(model.predict(extra, verbose=0), logits)
        # The head is tied: no weights beyond the backbone's and one bias.
        self.assertEqual(
            model.count_params(), backbone.count_params() + VOCAB
        )

    def test_objective_or_its_serialized_config(self):
        backbone = make_backbone("body", VOCAB, "causal", **DIMS)
        config = _objective().get_config()
        model = Pretrainer(
            backbone, keras.saving.serialize_keras_object(_objective())
        )
        self.assertIsInstance(model.objective, _TinyCausalLM)
        self.assertEqual(model.objective.get_config(), config)

    def test_config_round_trip(self):
        model = Pretrainer(
            make_backbone("body", VOCAB, "causal", **DIMS), _objective()
        )
        config = model.get_config()
        json.dumps(config)
        self.assertEqual(config["objective"]["registered_name"],
                         "objectives>test_models_tiny_clm")
        clone = Pretrainer.from_config(json.loads(json.dumps(config)))
        self.assertEqual(clone.get_config(), config)
        self.assertEqual(clone.count_params(), model.count_params())

    def test_saving_body_and_gpt2(self):
        x, _, _ = _counting_data(4)
        for kind in ("body", "gpt2"):
            objective = _objective()
            model = Pretrainer(
                make_backbone(kind, VOCAB, "causal", **DIMS), objective
            )
            restored = self.run_saving_test(model, x)
            self.assertIsInstance(restored, Pretrainer)
            self.assertEqual(
                restored.objective.get_config(), objective.get_config()
            )
            self.assertEqual(
                type(restored.backbone), type(model.backbone)
            )

    def test_compute_loss_delegates_to_the_objective(self):
        x, y, w = _counting_data(8)
        backbone = make_backbone("body", VOCAB, "causal", **DIMS)
        plain = Pretrainer(backbone, _objective())
        doubled = Pretrainer(backbone, _objective(_DoubledLossLM))
        # No compiled loss needed when the objective computes its own.
        doubled.compile(optimizer="adam")
        _compile(plain, plain.objective)
        plain_loss = plain.evaluate(x, y, sample_weight=w, verbose=0)[0]
        doubled_loss = doubled.evaluate(x, y, sample_weight=w, verbose=0)
        self.assertAllClose(doubled_loss, 2.0 * plain_loss, rtol=1e-5)
