"""MaskedLM and CausalLM objectives: transform, models, saving, compute."""

import keras_hub
import numpy as np
import pytest
import tensorflow as tf

from keras_objectives import objectives
from keras_objectives.data.special_tokens import SpecialTokens
from keras_objectives.models import Pretrainer
from keras_objectives.models.backbones import check_vocabulary
from keras_objectives.objectives import flops
from keras_objectives.objectives.causal_lm import CausalLM
from keras_objectives.objectives.masked_lm import MaskedLM
from tests.helpers import fit_lowers_loss
from tests.helpers import tiny_body
from tests.test_case import TestCase
from tests.test_case import packed_features
from tests.test_case import tiny_special_tokens

ST = tiny_special_tokens()


def bert():
    return keras_hub.models.BertBackbone(
        vocabulary_size=ST.vocabulary_size, num_layers=1, num_heads=2,
        hidden_dim=32, intermediate_dim=64, max_sequence_length=64)


def gpt2():
    return keras_hub.models.GPT2Backbone(
        vocabulary_size=ST.vocabulary_size, num_layers=1, num_heads=2,
        hidden_dim=32, intermediate_dim=64, max_sequence_length=64)


def body(mode):
    return lambda: tiny_body(attention_mode=mode)


def _flat(outputs):
    return [np.asarray(t) for t in tf.nest.flatten(outputs)]


class ObjectiveContractTest(TestCase):
    def check_call_paths(self, objective):
        features = packed_features(batch=4, length=objective.raw_length)
        direct = _flat(objective(features))
        ds = tf.data.Dataset.from_tensor_slices(features)
        unbatched = _flat(next(iter(ds.map(objective).batch(4))))
        batched = _flat(next(iter(ds.batch(4).map(objective))))
        for a, b, c in zip(direct, unbatched, batched, strict=True):
            np.testing.assert_array_equal(a, b)
            np.testing.assert_array_equal(a, c)

    def test_masked_lm(self):
        mlm = objectives.get("masked_lm", special_tokens=ST,
                             sequence_length=32, seed=2)
        self.assertIsInstance(mlm, MaskedLM)
        self.check_call_paths(mlm)
        x, y, w = mlm(packed_features(batch=2, length=32))
        self.assertEqual(sorted(x), ["mask_positions", "padding_mask",
                                     "token_ids"])
        self.assertEqual(y.shape, w.shape)
        clone = objectives.get({"class_name": "masked_lm",
                                "config": mlm.get_config()})
        self.assertEqual(clone.get_config(), mlm.get_config())

    def test_causal_lm(self):
        clm = objectives.get("causal_lm", special_tokens=ST,
                             sequence_length=32, seed=2)
        self.assertIsInstance(clm, CausalLM)
        self.assertEqual(clm.raw_length, 33)
        self.check_call_paths(clm)
        features = packed_features(batch=2, length=33, num_padding=5)
        x, y, w = clm(features)
        tokens = features["token_ids"].numpy()
        np.testing.assert_array_equal(x["token_ids"], tokens[:, :-1])
        np.testing.assert_array_equal(y, tokens[:, 1:])
        # By position: the last 5 positions are padding, so the last 5
        # targets get no weight even though one of them is [SEP].
        np.testing.assert_array_equal(w.numpy()[:, -5:], 0.0)
        np.testing.assert_array_equal(w.numpy()[:, :-5], 1.0)

    def test_pad_equals_eos_keeps_the_eos_label(self):
        # HF #23530: with pad == eos, padding by value would drop every EOS.
        st = SpecialTokens(ST.vocabulary_size, pad_id=3, eos_id=3,
                           mask_id=4)
        clm = CausalLM(st, sequence_length=4)
        x, y, w = clm({"token_ids": tf.constant([7, 8, 3, 3, 3]),
                       "padding_mask": tf.constant([1, 1, 1, 0, 0])})
        self.assertEqual(y.numpy().tolist(), [8, 3, 3, 3])
        self.assertEqual(w.numpy().tolist(), [1.0, 1.0, 0.0, 0.0])

    def test_unknown_objective_lists_known_ones(self):
        with self.assertRaisesRegex(ValueError, "masked_lm.*objective='mlm'"):
            objectives.get("mlm", special_tokens=ST)

    def test_vocabulary_without_mask_token(self):
        st = SpecialTokens.from_vocabulary(["[PAD]", "[UNK]", "a", "b"])
        with self.assertRaisesRegex(ValueError, r"no \[MASK\] token"):
            objectives.get("masked_lm", special_tokens=st)

    def test_sequence_length_too_small(self):
        with self.assertRaisesRegex(ValueError, "sequence_length"):
            objectives.get("causal_lm", special_tokens=ST, sequence_length=1)


class ObjectiveModelTest(TestCase):
    def test_masked_lm_fits_on_the_shared_body(self):
        mlm = objectives.get("masked_lm", special_tokens=ST,
                             sequence_length=32, seed=1)
        fit_lowers_loss(self, mlm, body("bidirectional"), steps=30)

    def test_causal_lm_fits_on_the_shared_body(self):
        clm = objectives.get("causal_lm", special_tokens=ST,
                             sequence_length=32, seed=1)
        fit_lowers_loss(self, clm, body("causal"), steps=30)

    @pytest.mark.large
    def test_fit_on_stock_keras_hub_backbones(self):
        mlm = objectives.get("masked_lm", special_tokens=ST,
                             sequence_length=32, seed=1)
        fit_lowers_loss(self, mlm, bert, steps=30)
        clm = objectives.get("causal_lm", special_tokens=ST,
                             sequence_length=32, seed=1)
        fit_lowers_loss(self, clm, gpt2, steps=30)

    def test_saving_round_trip(self):
        for name, mode in (("masked_lm", "bidirectional"),
                           ("causal_lm", "causal")):
            objective = objectives.get(name, special_tokens=ST,
                                       sequence_length=16, seed=0)
            model = Pretrainer(tiny_body(attention_mode=mode), objective)
            x, _, _ = objective(packed_features(batch=2,
                                                length=objective.raw_length))
            self.run_saving_test(model, x)

    def test_backbone_that_cannot_take_the_attention(self):
        clm = objectives.get("causal_lm", special_tokens=ST)
        with self.assertRaisesRegex(ValueError, "causal"):
            Pretrainer(bert(), clm)
        mlm = objectives.get("masked_lm", special_tokens=ST)
        with self.assertRaisesRegex(ValueError, "bidirectional"):
            Pretrainer(gpt2(), mlm)

    def test_vocabulary_size_mismatch(self):
        other = tiny_body(vocabulary_size=ST.vocabulary_size + 5)
        with self.assertRaisesRegex(ValueError, str(ST.vocabulary_size)):
            check_vocabulary(other, ST)


class AccountingTest(TestCase):
    dims = flops.ModelDims(2, 64, 256, 8000, 128, 100_000)

    def test_causal_lm(self):
        got = CausalLM(ST, 128).accounting(self.dims, 32)
        tokens = 32 * 128
        forward = (2 * 100_000 + 4 * 128 * 64 * 2) + 2 * 64 * 8000
        self.assertEqual(got["tokens_per_step"], tokens)
        self.assertEqual(got["loss_positions_per_step"], tokens)
        self.assertAlmostEqual(got["flops_per_step"], 3 * tokens * forward)

    def test_masked_lm_counts_the_softmax_only_at_gathered_slots(self):
        mlm = MaskedLM(ST, 128, count_mode="exact_ceil")
        slots = mlm.preprocessor.selection_length(128)
        self.assertEqual(slots, 20)  # ceil(0.15 * 128)
        got = mlm.accounting(self.dims, 32)
        tokens = 32 * 128
        body_flops = 3 * tokens * (2 * 100_000 + 4 * 128 * 64 * 2)
        head = 3 * 32 * slots * (2 * 64 * 8000 + 2 * 64 * 64)
        self.assertAlmostEqual(got["flops_per_step"], body_flops + head)
        self.assertAlmostEqual(got["loss_positions_per_step"],
                               32 * 0.15 * 128)
