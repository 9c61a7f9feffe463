"""Prefix LM: the splitter layer, the split distribution, both forms."""

import math

import keras_hub
import numpy as np
import pytest
import tensorflow as tf

from keras_objectives import objectives
from keras_objectives.layers.prefix_lm_splitter import PrefixLMSplitter
from keras_objectives.objectives import flops
from keras_objectives.objectives.prefix_lm import PrefixLM
from keras_objectives.ops import prefix_lm as ops
from keras_objectives.ops import random as kr
from tests.helpers import fit_lowers_loss
from tests.helpers import tiny_body
from tests.helpers import tiny_t5
from tests.test_case import TestCase
from tests.test_case import packed_features
from tests.test_case import tiny_special_tokens

ST = tiny_special_tokens()


def splitter(**kwargs):
    return PrefixLMSplitter(eos_token_id=ST.eos_id, pad_token_id=ST.pad_id,
                            seed=5, **kwargs)


class PrefixLMSplitterTest(TestCase):
    def test_transform_contract(self):
        features = packed_features(batch=4, length=24)
        for form in ("decoder", "encoder_decoder", "features"):
            self.run_transform_test(splitter(form=form), features)

    def test_split_is_uniform(self):
        # n = 11 real tokens: k uniform on [1, 10]; chi-square, 9 dof.
        batch = 5000
        split = ops.random_prefix_lengths(
            kr.example_keys(0, 0, tf.range(batch)), tf.fill([batch], 11)
        ).numpy()
        counts = np.bincount(split, minlength=11)
        self.assertEqual(counts[0], 0)
        expected = batch / 10
        chi2 = ((counts[1:] - expected) ** 2 / expected).sum()
        self.assertLess(chi2, 27.9)  # p = 0.001 for 9 degrees of freedom
        # Each bin within 4 sigma as well.
        bound = 4 * math.sqrt(batch * 0.1 * 0.9)
        self.assertAllClose(counts[1:], np.full(10, expected), atol=bound)

    def test_degenerate_lengths(self):
        split = ops.random_prefix_lengths(
            kr.example_keys(0, 0, tf.range(3)), tf.constant([0, 1, 2]))
        self.assertEqual(split.numpy().tolist(), [0, 0, 1])

    def test_decoder_form(self):
        features = packed_features(batch=8, length=20, num_padding=5)
        x, y, w = splitter()(features)
        tokens = features["token_ids"].numpy()
        self.assertAllEqual(y, tokens)
        self.assertAllEqual(x["padding_mask"], features["padding_mask"])
        for b in range(8):
            k = int(np.sum(x["prefix_mask"][b])) - 1  # plus one position
            self.assertTrue(1 <= k <= 14)
            self.assertEqual(x["prefix_mask"][b].numpy().tolist(),
                             [q <= k for q in range(20)])
            self.assertEqual(w[b].numpy().tolist(),
                             [float(k <= q < 15) for q in range(20)])
            self.assertEqual(x["token_ids"][b].numpy().tolist(),
                             [ST.pad_id] + tokens[b, :14].tolist()
                             + [ST.pad_id] * 5)

    def test_encoder_decoder_and_features(self):
        features = packed_features(batch=8, length=20, num_padding=5)
        out = splitter(form="features")(features)
        x, y, w = splitter(form="encoder_decoder")(features)
        self.assertEqual(out["inputs"].shape, (8, 20))
        self.assertAllEqual(x["encoder_token_ids"], out["inputs"])
        self.assertAllEqual(y, out["targets"])
        self.assertAllEqual(w, tf.cast(out["targets_padding_mask"], "float32"))
        for b in range(8):
            n_in = int(np.sum(out["inputs_padding_mask"][b]))
            n_tgt = int(np.sum(out["targets_padding_mask"][b]))
            inputs = out["inputs"][b].numpy().tolist()
            targets = out["targets"][b].numpy().tolist()
            self.assertEqual(inputs[n_in - 1], ST.eos_id)
            self.assertEqual(targets[n_tgt - 1], ST.eos_id)
            self.assertEqual(inputs[:n_in - 1] + targets[:n_tgt - 1],
                             features["token_ids"][b, :15].numpy().tolist())
            self.assertEqual(
                x["decoder_token_ids"][b].numpy().tolist(),
                [ST.pad_id] + targets[:n_tgt - 1] + [ST.pad_id] * (
                    20 - n_tgt))

    def test_errors(self):
        with self.assertRaisesRegex(ValueError, "(?s)inputs_length.*20"):
            splitter(form="features", inputs_length=10)(
                packed_features(batch=1, length=20))
        with self.assertRaisesRegex(ValueError, "(?s)at least 2 tokens"):
            splitter()({"token_ids": tf.constant([[5]])})
        with self.assertRaisesRegex(ValueError, "form"):
            splitter(form="prefix")


class PrefixLMTest(TestCase):
    def test_registry_and_config(self):
        objective = objectives.get("prefix_lm", special_tokens=ST,
                                   sequence_length=32, seed=1)
        self.assertIsInstance(objective, PrefixLM)
        self.assertEqual(objective.raw_length, 32)
        self.assertEqual((objective.attention_mode, objective.architecture),
                         ("prefix", "decoder"))
        clone = PrefixLM.from_config(objective.get_config())
        self.assertEqual(clone.get_config(), objective.get_config())
        encdec = PrefixLM(ST, 32, form="encoder_decoder")
        self.assertEqual((encdec.attention_mode, encdec.architecture),
                         ("encoder_decoder", "encoder_decoder"))

    def test_accounting_by_hand(self):
        dims = flops.ModelDims(num_layers=2, hidden_dim=32,
                               intermediate_dim=64, vocabulary_size=200,
                               sequence_length=32, non_embedding_params=1000)
        out = PrefixLM(ST, 32).accounting(dims, batch_size=4)
        self.assertEqual(out["tokens_per_step"], 128)
        self.assertEqual(out["loss_positions_per_step"], 4 * 16)
        per_token = 2 * 1000 + 4 * 32 * 32 * 2 + 2 * 32 * 200
        self.assertEqual(out["flops_per_step"], 3 * 128 * per_token)

    def test_fit_decoder_form(self):
        fit_lowers_loss(self, PrefixLM(ST, 32, seed=0), tiny_body)

    @pytest.mark.large
    def test_fit_encoder_decoder_form_on_t5(self):
        fit_lowers_loss(self, PrefixLM(ST, 32, form="encoder_decoder"),
                        tiny_t5)

    def test_bert_is_refused(self):
        bert = keras_hub.models.BertBackbone(
            vocabulary_size=ST.vocabulary_size, num_layers=1, num_heads=2,
            hidden_dim=8, intermediate_dim=16, max_sequence_length=32)
        with self.assertRaisesRegex(ValueError, "BertBackbone"):
            PrefixLM(ST, 32).build_graph(bert)
