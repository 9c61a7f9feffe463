"""FillInTheMiddle: lengths, examples, errors, FLOPs by hand, training."""

import os

import keras
import numpy as np
import tensorflow as tf

from keras_objectives import config as config_lib
from keras_objectives import objectives
from keras_objectives.data.special_tokens import SpecialTokens
from keras_objectives.data.special_tokens import reserved_tokens
from keras_objectives.models import TransformerBody
from keras_objectives.models.pretrainer import Pretrainer
from keras_objectives.objectives import flops
from keras_objectives.objectives.causal_lm import CausalLM
from keras_objectives.objectives.fill_in_the_middle import FillInTheMiddle
from tests.test_case import TestCase
from tests.test_case import packed_features
from tests.test_case import tiny_special_tokens

ST = tiny_special_tokens()
PRE, MID, SUF = (ST.fim_ids[t] for t in ("[PRE]", "[MID]", "[SUF]"))


def _undo(row):
    row = [int(t) for t in row]
    if PRE not in row:
        return row
    i_pre, i_suf, i_mid = row.index(PRE), row.index(SUF), row.index(MID)
    end = row.index(ST.eos_id, i_mid)
    return (row[:i_pre] + row[i_pre + 1:i_suf] + row[i_mid + 1:end]
            + row[i_suf + 1:i_mid] + row[end:])


class FillInTheMiddleTest(TestCase):
    def test_registry_and_config(self):
        objective = objectives.get(
            {"class_name": "fill_in_the_middle",
             "config": {"fim_rate": 0.9, "fim_level": "row"}},
            special_tokens=ST, sequence_length=16, seed=3)
        self.assertIsInstance(objective, FillInTheMiddle)
        self.assertEqual(objective.attention_mode, "causal")
        self.assertEqual(objective.preprocessor.document_boundary_token_ids, [])
        clone = FillInTheMiddle.from_config(objective.get_config())
        self.assertEqual(clone.get_config(), objective.get_config())
        self.assertEqual(clone.fim_rate, 0.9)
        features = packed_features(batch=2, length=objective.raw_length)
        for a, b in zip(tf.nest.flatten(objective(features)),
                        tf.nest.flatten(clone(features)), strict=True):
            self.assertAllEqual(a, b)

    def test_examples_rebuild_the_rows(self):
        objective = FillInTheMiddle(ST, 32, fim_rate=0.5, seed=1)
        self.assertEqual(objective.raw_length, 30)
        features = packed_features(batch=64, length=30, num_padding=0)
        x, y, w = objective(features)
        self.assertEqual(x["token_ids"].shape, (64, 32))
        self.assertEqual(y.shape, (64, 32))
        tokens = np.asarray(features["token_ids"])
        num_fim = 0
        for b in range(64):
            real = int(np.asarray(w[b]).sum())
            stream = [int(x["token_ids"][b][0])] + list(
                np.asarray(y[b][:real]))
            self.assertEqual(x["token_ids"][b][1:real].numpy().tolist(),
                             stream[1:real])
            self.assertEqual(_undo(stream), tokens[b].tolist())
            # Loss on every real token: 32 when rearranged, 29 when plain.
            num_fim += PRE in stream
            self.assertEqual(real, 32 if PRE in stream else 29)
        self.assertTrue(0 < num_fim < 64)

    def test_plain_rows_are_causal_lm(self):
        objective = FillInTheMiddle(ST, 16, fim_rate=0.0)
        features = packed_features(batch=4, length=14, num_padding=2)
        padded = {
            "token_ids": tf.pad(features["token_ids"], [[0, 0], [0, 3]]),
            "padding_mask": tf.pad(features["padding_mask"], [[0, 0], [0, 3]]),
        }
        expected = CausalLM(ST, 16)(padded)
        for a, b in zip(tf.nest.flatten(objective(features)),
                        tf.nest.flatten(expected), strict=True):
            self.assertAllEqual(a, b)

    def test_errors(self):
        no_fim = SpecialTokens.from_vocabulary(
            [t for t in reserved_tokens() if t != "[MID]"] + ["a"])
        with self.assertRaisesRegex(ValueError, r"\[MID\]"):
            FillInTheMiddle(no_fim, 16)
        with self.assertRaisesRegex(ValueError, "sequence_length=3"):
            FillInTheMiddle(ST, 3)
        with self.assertRaisesRegex(ValueError, "fim_level"):
            FillInTheMiddle(ST, 16, fim_level="context")
        with self.assertRaisesRegex(ValueError, "spm_rate"):
            FillInTheMiddle(ST, 16, spm_rate=2.0)

    def test_accounting_by_hand(self):
        objective = FillInTheMiddle(ST, 64, fim_rate=0.5)
        dims = flops.ModelDims(num_layers=2, hidden_dim=32,
                               intermediate_dim=64, vocabulary_size=200,
                               sequence_length=64, non_embedding_params=1000)
        out = objective.accounting(dims, batch_size=4)
        self.assertEqual(out["tokens_per_step"], 4 * 64)
        # Half the rows rearranged (64 targets), half plain (61).
        self.assertEqual(out["loss_positions_per_step"], 4 * 62.5)
        body = 2 * 1000 + 2 * 2 * 64 * 32 * 2
        softmax = 2 * 32 * 200
        self.assertEqual(out["flops_per_step"], 3 * 4 * 64 * (body + softmax))

    def test_fit_with_document_masking_and_save(self):
        keras.utils.set_random_seed(0)
        objective = FillInTheMiddle(ST, 16, fim_rate=0.9, seed=0)
        rows = packed_features(batch=32, length=objective.raw_length,
                               num_padding=1, seed=1)
        rows["document_ids"] = tf.zeros_like(rows["token_ids"])
        ds = tf.data.Dataset.from_tensor_slices(rows).batch(
            8, drop_remainder=True).map(objective)
        body = TransformerBody(
            vocabulary_size=ST.vocabulary_size, num_layers=1, num_heads=2,
            hidden_dim=32, intermediate_dim=64, max_sequence_length=16,
            attention_mode="causal", document_masking=True)
        model = Pretrainer(body, objective)
        model.compile(keras.optimizers.Adam(1e-2), loss=objective.loss(),
                      weighted_metrics=objective.metrics())
        before = model.evaluate(ds, verbose=0, return_dict=True)["loss"]
        model.fit(ds.repeat(), steps_per_epoch=20, epochs=1, verbose=0)
        after = model.evaluate(ds, verbose=0, return_dict=True)["loss"]
        self.assertLess(after, before - 0.5)
        x, _, _ = next(iter(ds))
        restored = self.run_saving_test(model, x)
        self.assertEqual(restored.objective.get_config(),
                         objective.get_config())

    def test_recipe(self):
        path = os.path.join(os.path.dirname(__file__), "..", "..",
                            "recipes", "fill_in_the_middle.py")
        full = config_lib.validate(config_lib.load_recipe(path))
        local = config_lib.validate(config_lib.load_recipe(path + ":runlocal"))
        self.assertLess(local["training"]["steps"], full["training"]["steps"])
        self.assertEqual(local["objective"], full["objective"])
        objective = objectives.get(
            full["objective"], special_tokens=ST,
            sequence_length=full["sequence_length"], seed=full["seed"])
        self.assertIsInstance(objective, FillInTheMiddle)
