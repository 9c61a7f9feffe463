"""SpanCorruption: lengths, both forms, errors, FLOPs by hand, training."""

import keras_hub
import numpy as np
import pytest
import tensorflow as tf

from keras_objectives import objectives
from keras_objectives.data.special_tokens import SpecialTokens
from keras_objectives.data.special_tokens import reserved_tokens
from keras_objectives.objectives import flops
from keras_objectives.objectives.span_corruption import SpanCorruption
from keras_objectives.ops.span_lengths import random_spans_helper
from keras_objectives.ops.span_lengths import span_budget
from tests.helpers import fit_lowers_loss
from tests.helpers import tiny_body
from tests.helpers import tiny_t5
from tests.test_case import TestCase
from tests.test_case import packed_features
from tests.test_case import tiny_special_tokens
from tests.test_case import two_cpus

ST = tiny_special_tokens()


class SpanCorruptionTest(TestCase):
    def test_registry_and_config(self):
        objective = objectives.get("span_corruption", special_tokens=ST,
                                   sequence_length=64, seed=3)
        self.assertIsInstance(objective, SpanCorruption)
        self.assertEqual(objective.attention_mode, "prefix")
        clone = SpanCorruption.from_config(objective.get_config())
        self.assertEqual(clone.get_config(), objective.get_config())
        features = packed_features(batch=2, length=objective.raw_length)
        for a, b in zip(tf.nest.flatten(objective(features)),
                        tf.nest.flatten(clone(features)), strict=True):
            self.assertAllEqual(a, b)

    def test_encoder_decoder_lengths_are_t5s(self):
        for inputs_length, raw, targets in ((128, 141, 29), (512, 568, 114),
                                            (1024, 1137, 229)):
            objective = SpanCorruption(ST, inputs_length,
                                       form="encoder_decoder")
            self.assertEqual(
                (objective.raw_length, objective.targets_length),
                (raw, targets))
            self.assertEqual(
                random_spans_helper(inputs_length, 0.15, 3.0),
                (raw, targets))

    def test_decoder_raw_length_is_the_largest_that_fits(self):
        for length, raw in ((128, 114), (512, 464), (1024, 929)):
            objective = SpanCorruption(ST, length)
            self.assertEqual(objective.raw_length, raw)
            total = span_budget(raw, 0.15, 3.0)["total_length"]
            self.assertLessEqual(total, length)
            self.assertGreater(
                span_budget(raw + 1, 0.15, 3.0)["total_length"], length)

    def test_decoder_examples(self):
        objective = SpanCorruption(ST, 64, seed=1)
        features = packed_features(batch=4, length=objective.raw_length,
                                   num_padding=0)
        x, y, w = objective(features)
        self.assertEqual(sorted(x), ["padding_mask", "prefix_mask",
                                     "token_ids"])
        self.assertEqual(y.shape, (4, 64))
        # Full rows: inputs + targets fill the budget exactly.
        need = span_budget(objective.raw_length, 0.15, 3.0)
        self.assertAllEqual(tf.reduce_sum(w, 1),
                            [need["targets_length"]] * 4)
        self.assertAllEqual(
            tf.reduce_sum(tf.cast(x["prefix_mask"], "int32"), 1),
            [need["inputs_length"] + 1] * 4)
        self.assertAllEqual(
            tf.reduce_sum(tf.cast(x["padding_mask"], "int32"), 1),
            [need["total_length"]] * 4)
        # The targets part starts with <extra_id_0> and ends with EOS.
        first = tf.argmax(w, axis=1)
        self.assertAllEqual(tf.gather(y, first, batch_dims=1),
                            [ST.sentinel_ids[0]] * 4)
        spec = tf.data.Dataset.from_tensor_slices(features).batch(
            2, drop_remainder=True).map(objective).element_spec
        self.assertTrue(all(s.shape.is_fully_defined()
                            for s in tf.nest.flatten(spec)))

    def test_errors(self):
        no_sentinels = SpecialTokens.from_vocabulary(
            reserved_tokens(num_sentinels=0) + ["a"])
        with self.assertRaisesRegex(ValueError, "sentinel"):
            SpanCorruption(no_sentinels, 64)
        few = SpecialTokens.from_vocabulary(
            reserved_tokens(num_sentinels=3) + ["a"])
        with self.assertRaisesRegex(ValueError, "3 sentinels.*up to"):
            SpanCorruption(few, 128)
        with self.assertRaisesRegex(ValueError, "sequence_length"):
            SpanCorruption(ST, 5)
        with self.assertRaisesRegex(ValueError, "form"):
            SpanCorruption(ST, 64, form="seq2seq")

    def test_backbone_errors(self):
        bert = keras_hub.models.BertBackbone(
            vocabulary_size=ST.vocabulary_size, num_layers=1, num_heads=2,
            hidden_dim=8, intermediate_dim=16, max_sequence_length=32)
        with self.assertRaisesRegex(ValueError, "BertBackbone.*prefix"):
            SpanCorruption(ST, 32).build_graph(bert)
        with self.assertRaisesRegex(ValueError, "causal.*prefix"):
            SpanCorruption(ST, 32).build_graph(
                tiny_body(attention_mode="causal"))
        with self.assertRaisesRegex(ValueError, "encoder_decoder"):
            SpanCorruption(ST, 32, form="encoder_decoder").build_graph(
                tiny_body())

    def test_accounting_decoder_by_hand(self):
        objective = SpanCorruption(ST, 64)
        dims = flops.ModelDims(num_layers=2, hidden_dim=32,
                               intermediate_dim=64, vocabulary_size=200,
                               sequence_length=64, non_embedding_params=1000)
        out = objective.accounting(dims, batch_size=4)
        # raw 56: 8 noise tokens in 3 spans -> 12 targets with EOS.
        self.assertEqual(objective.raw_length, 56)
        self.assertEqual(out["loss_positions_per_step"], 4 * 12)
        self.assertEqual(out["tokens_per_step"], 4 * 64)
        body = 2 * 1000 + 2 * 2 * 64 * 32 * 2  # per token
        softmax = 2 * 32 * 200  # per position, every position has logits
        self.assertEqual(out["flops_per_step"],
                         3 * 4 * 64 * (body + softmax))

    def test_accounting_encoder_decoder_by_hand(self):
        objective = SpanCorruption(ST, 128, form="encoder_decoder")
        t5 = keras_hub.models.T5Backbone(
            vocabulary_size=200, num_layers=2, num_heads=2, hidden_dim=32,
            intermediate_dim=64, dropout=0.0)
        dims = flops.ModelDims.from_backbone(t5, 128)
        encoder = sum(layer.count_params()
                      for layer in t5.encoder_transformer_layers)
        encoder += t5.encoder_layer_norm.count_params()
        decoder = dims.non_embedding_params - encoder
        out = objective.accounting(dims, batch_size=2)
        d, layers = 32, 2
        forward = (
            128 * (2 * encoder + 4 * 128 * d * layers)  # encoder
            + 29 * (2 * decoder + 4 * 29 * d * layers)  # decoder self
            + 29 * 4 * 128 * d * layers  # cross-attention
            + 29 * 2 * d * 200  # logits on the targets only
        )
        self.assertEqual(out["flops_per_step"], 3 * 2 * forward)
        self.assertEqual(out["tokens_per_step"], 2 * (128 + 29))
        self.assertEqual(out["loss_positions_per_step"], 2 * 29)

    def test_fit_decoder_form_and_save(self):
        objective = SpanCorruption(ST, 32, seed=0)
        model = fit_lowers_loss(self, objective, tiny_body)
        self.assertEqual(model.objective.name, "span_corruption")
        x, _, _ = objective(packed_features(batch=2,
                                            length=objective.raw_length))
        restored = self.run_saving_test(model, x)
        self.assertEqual(restored.objective.get_config(),
                         objective.get_config())

    @pytest.mark.large
    def test_fit_under_mirrored_strategy(self):
        strategy = two_cpus()
        fit_lowers_loss(self, SpanCorruption(ST, 32, seed=0), tiny_body,
                        strategy=strategy)

    @pytest.mark.large
    def test_fit_encoder_decoder_form_on_t5(self):
        objective = SpanCorruption(ST, 32, form="encoder_decoder", seed=0)
        model = fit_lowers_loss(self, objective, tiny_t5)
        x, _, _ = objective(packed_features(batch=2,
                                            length=objective.raw_length))
        logits = model.predict(x, verbose=0)
        self.assertEqual(logits.shape, (2, objective.targets_length,
                                        ST.vocabulary_size))
        self.assertTrue(np.isfinite(logits).all())
