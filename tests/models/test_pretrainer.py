import json

import keras
import numpy as np

from keras_objectives.api_export import EXPORTED
from keras_objectives.models import Pretrainer
from keras_objectives.models import make_backbone
from keras_objectives.objectives import register
from keras_objectives.objectives.registry import _REGISTRY
from tests.helpers import DIMS
from tests.helpers import LENGTH
from tests.helpers import VOCAB
from tests.helpers import NextTokenLM
from tests.helpers import compile_pretrainer
from tests.helpers import counting_data
from tests.test_case import TestCase
from tests.test_case import tiny_special_tokens


class _DoubledLossLM(NextTokenLM):
    """Test-only: overrides `compute_loss` (twice the cross-entropy)."""

    def compute_loss(self, model, x, y, y_pred, sample_weight):
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        return 2.0 * loss(y, y_pred, sample_weight)


if "test_models_doubled_loss_lm" not in _REGISTRY:
    register("test_models_doubled_loss_lm")(_DoubledLossLM)


def _objective(cls=NextTokenLM):
    return cls(tiny_special_tokens(VOCAB), sequence_length=LENGTH, seed=1)


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
        x, _, _ = counting_data(4)
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
        self.assertIsInstance(model.objective, NextTokenLM)
        self.assertEqual(model.objective.get_config(), config)

    def test_config_round_trip(self):
        model = Pretrainer(
            make_backbone("body", VOCAB, "causal", **DIMS), _objective()
        )
        config = model.get_config()
        json.dumps(config)
        self.assertEqual(config["objective"]["registered_name"],
                         "objectives>test_next_token_lm")
        clone = Pretrainer.from_config(json.loads(json.dumps(config)))
        self.assertEqual(clone.get_config(), config)
        self.assertEqual(clone.count_params(), model.count_params())

    def test_saving_body_and_gpt2(self):
        x, _, _ = counting_data(4)
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
        x, y, w = counting_data(8)
        backbone = make_backbone("body", VOCAB, "causal", **DIMS)
        plain = Pretrainer(backbone, _objective())
        doubled = Pretrainer(backbone, _objective(_DoubledLossLM))
        # No compiled loss needed when the objective computes its own.
        doubled.compile(optimizer="adam")
        compile_pretrainer(plain)
        plain_loss = plain.evaluate(x, y, sample_weight=w, verbose=0)[0]
        doubled_loss = doubled.evaluate(x, y, sample_weight=w, verbose=0)
        self.assertAllClose(doubled_loss, 2.0 * plain_loss, rtol=1e-5)
