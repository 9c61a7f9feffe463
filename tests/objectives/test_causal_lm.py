"""`CausalLM`: every next token is a target; lengths, hooks, accounting."""

import keras
import numpy as np

from keras_objectives import objectives
from keras_objectives.models import Pretrainer
from keras_objectives.models import make_backbone
from keras_objectives.objectives import CausalLM
from keras_objectives.objectives import flops
from keras_objectives.tuner import spaces
from tests.test_case import TestCase
from tests.test_case import packed_features
from tests.test_case import tiny_special_tokens

ST = tiny_special_tokens(200)


class CausalLMTest(TestCase):
    def test_reads_one_more_token_than_it_predicts(self):
        clm = CausalLM(ST, sequence_length=16, seed=2)
        self.assertEqual(clm.raw_length, 17)
        features = packed_features(batch=4, length=17)
        x, y, w = clm(features)
        ids = features["token_ids"].numpy()
        np.testing.assert_array_equal(x["token_ids"], ids[:, :16])
        np.testing.assert_array_equal(y, ids[:, 1:])
        self.assertEqual(float(np.sum(w)), 4 * (17 - 3 - 1))
        # The one transform path: calling it is calling its preprocessor.
        again = clm.preprocessor(features)
        np.testing.assert_array_equal(again[1], y)

    def test_hooks(self):
        clm = objectives.get("causal_lm", special_tokens=ST,
                             sequence_length=8)
        self.assertIsInstance(clm, CausalLM)
        self.assertTrue(clm.defines_next_token)
        self.assertEqual(clm.sentence_scoring, "causal")
        self.assertEqual(clm.search_space, {})
        self.assertEqual(CausalLM.bind_vocabulary({}, ["[PAD]"]), {})
        self.assertEqual(spaces.tunable_hyperparameters("causal_lm"),
                         ["learning_rate"])

    def test_config_round_trip(self):
        clm = CausalLM(ST, sequence_length=8, seed=5)
        clone = CausalLM.from_config(clm.get_config())
        self.assertEqual(clone.get_config(), clm.get_config())
        self.assertEqual(set(clm.get_config()),
                         {"special_tokens", "sequence_length", "seed"})

    def test_accounting_by_hand(self):
        clm = CausalLM(ST, sequence_length=16)
        dims = flops.ModelDims(2, 32, 64, 200, 16, 10_000)
        got = clm.accounting(dims, batch_size=4)
        tokens = 4 * 16
        per_token = 2 * 10_000 + 4 * 16 * 32 * 2 + 2 * 32 * 200
        self.assertEqual(got["tokens_per_step"], tokens)
        self.assertEqual(got["loss_positions_per_step"], tokens)
        self.assertEqual(got["flops_per_step"], 3 * tokens * per_token)

    def test_head_on_the_body_and_on_gpt2(self):
        clm = CausalLM(ST, sequence_length=8)
        x, _, _ = clm(packed_features(batch=2, length=9))
        x = {k: keras.ops.cast(v, "int32") for k, v in x.items()}
        for kind in ("body", "gpt2"):
            backbone = make_backbone(
                kind, 200, "causal", num_layers=1, num_heads=1,
                hidden_dim=8, intermediate_dim=16, max_sequence_length=8)
            logits = Pretrainer(backbone, clm).predict(x, verbose=0)
            self.assertEqual(logits.shape, (2, 8, 200))
