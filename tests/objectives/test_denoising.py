"""Denoising (BART): lengths, both forms, errors, FLOPs by hand, training."""

import os
import warnings

import keras_hub
import numpy as np
import pytest
import tensorflow as tf

from keras_objectives import config as config_lib
from keras_objectives import objectives
from keras_objectives.data.special_tokens import SpecialTokens
from keras_objectives.data.special_tokens import reserved_tokens
from keras_objectives.models.pretrainer import Pretrainer
from keras_objectives.objectives import flops
from keras_objectives.objectives.denoising import Denoising
from tests.helpers import fit_lowers_loss
from tests.helpers import tiny_bart
from tests.helpers import tiny_body
from tests.test_case import TestCase
from tests.test_case import packed_features
from tests.test_case import tiny_special_tokens

ST = tiny_special_tokens()
DOT = 150


def _denoising(length=32, **kwargs):
    kwargs.setdefault("sentence_end_ids", [DOT])
    return Denoising(ST, length, **kwargs)


class DenoisingTest(TestCase):
    def test_registry_and_config(self):
        objective = objectives.get(
            {"class_name": "denoising",
             "config": {"sentence_end_ids": [DOT], "rotate_rate": 0.2}},
            special_tokens=ST, sequence_length=32, seed=3)
        self.assertIsInstance(objective, Denoising)
        self.assertEqual(objective.attention_mode, "prefix")
        self.assertEqual(objective.rotate_rate, 0.2)
        clone = Denoising.from_config(objective.get_config())
        self.assertEqual(clone.get_config(), objective.get_config())
        features = packed_features(batch=2, length=objective.raw_length)
        for a, b in zip(tf.nest.flatten(objective(features)),
                        tf.nest.flatten(clone(features)), strict=True):
            self.assertAllEqual(a, b)
        self.assertIn("denoising", objectives.names())

    def test_lengths(self):
        self.assertEqual(_denoising(128).raw_length, 64)
        self.assertEqual(_denoising(129).raw_length, 64)
        enc_dec = _denoising(128, form="encoder_decoder")
        self.assertEqual(enc_dec.raw_length, 128)
        self.assertEqual(enc_dec.attention_mode, "encoder_decoder")

    def test_decoder_examples(self):
        objective = _denoising(32, seed=1)
        features = packed_features(batch=4, length=16, num_padding=3)
        x, y, w = objective(features)
        self.assertEqual(sorted(x), ["padding_mask", "prefix_mask",
                                     "token_ids"])
        self.assertEqual(y.shape, (4, 32))
        # The loss covers exactly the original row, which follows the
        # corrupted one (the prefix, after the EOS start token).
        tokens = np.asarray(features["token_ids"])
        prefix = np.asarray(x["prefix_mask"]).sum(1)
        self.assertAllEqual(np.asarray(w).sum(1), [13] * 4)
        for b in range(4):
            m = prefix[b] - 1
            self.assertEqual(x["token_ids"][b][0], ST.eos_id)
            self.assertAllEqual(y[b][m:m + 13], tokens[b][:13])
            self.assertAllEqual(np.nonzero(w[b])[0], np.arange(m, m + 13))
            self.assertLessEqual(m, 13)  # infilling never lengthens here
        spec = tf.data.Dataset.from_tensor_slices(features).batch(
            2, drop_remainder=True).map(objective).element_spec
        self.assertTrue(all(s.shape.is_fully_defined()
                            for s in tf.nest.flatten(spec)))

    def test_encoder_decoder_examples(self):
        objective = _denoising(16, form="encoder_decoder", seed=1)
        features = packed_features(batch=2, length=16, num_padding=3)
        x, y, w = objective(features)
        self.assertEqual(sorted(x), [
            "decoder_padding_mask", "decoder_token_ids",
            "encoder_padding_mask", "encoder_token_ids"])
        self.assertAllEqual(y, features["token_ids"])
        self.assertAllEqual(w, tf.cast(features["padding_mask"], "float32"))
        self.assertAllEqual(x["decoder_token_ids"][:, 0], [ST.eos_id] * 2)
        self.assertAllEqual(x["decoder_token_ids"][:, 1:13],
                            features["token_ids"][:, :12])

    def test_errors(self):
        with self.assertRaisesRegex(ValueError, "sequence_length=3"):
            _denoising(3)
        no_mask = SpecialTokens.from_vocabulary(
            [t for t in reserved_tokens() if t != "[MASK]"] + ["a"])
        with self.assertRaisesRegex(ValueError, r"\[MASK\]"):
            Denoising(no_mask, 32)
        with self.assertRaisesRegex(ValueError, "form"):
            _denoising(form="seq2seq")
        with self.assertRaisesRegex(ValueError, "infill_rate"):
            _denoising(infill_rate=0.9, delete_rate=0.2)
        with pytest.warns(UserWarning, match="sentence_end_ids"):
            Denoising(ST, 32)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            Denoising(ST, 32, permute_sentences_rate=0.0)

    def test_backbone_errors(self):
        bert = keras_hub.models.BertBackbone(
            vocabulary_size=ST.vocabulary_size, num_layers=1, num_heads=2,
            hidden_dim=8, intermediate_dim=16, max_sequence_length=32)
        with self.assertRaisesRegex(ValueError, "BertBackbone.*prefix"):
            _denoising().build_graph(bert)
        with self.assertRaisesRegex(ValueError, "causal.*prefix"):
            _denoising().build_graph(tiny_body(attention_mode="causal"))
        with self.assertRaisesRegex(ValueError, "encoder_decoder"):
            _denoising(form="encoder_decoder").build_graph(tiny_body())
        with self.assertRaisesRegex(ValueError, "BartBackbone.*prefix"):
            _denoising().build_graph(tiny_bart())

    def test_accounting_decoder_by_hand(self):
        objective = _denoising(64)
        dims = flops.ModelDims(num_layers=2, hidden_dim=32,
                               intermediate_dim=64, vocabulary_size=200,
                               sequence_length=64, non_embedding_params=1000)
        out = objective.accounting(dims, batch_size=4)
        self.assertEqual(out["tokens_per_step"], 4 * 64)
        self.assertEqual(out["loss_positions_per_step"], 4 * 32)
        body = 2 * 1000 + 2 * 2 * 64 * 32 * 2  # per token
        softmax = 2 * 32 * 200  # logits at every position
        self.assertEqual(out["flops_per_step"], 3 * 4 * 64 * (body + softmax))

    def test_accounting_encoder_decoder_by_hand(self):
        objective = _denoising(32, form="encoder_decoder")
        bart = tiny_bart(num_layers=2)
        encoder = sum(layer.count_params()
                      for layer in bart.encoder_transformer_layers)
        encoder += bart.encoder_embeddings_layer_norm.count_params()
        decoder = sum(layer.count_params()
                      for layer in bart.decoder_transformer_layers)
        decoder += bart.decoder_embeddings_layer_norm.count_params()
        embeddings = sum(layer.count_params() for layer in (
            bart.token_embedding, bart.encoder_position_embedding,
            bart.decoder_position_embedding))
        self.assertEqual(encoder + decoder,
                         bart.count_params() - embeddings)
        # The split the objective assumes: a cross-attention block with
        # biases and its layer norm per decoder layer.
        d = 32
        self.assertEqual(decoder - encoder, 2 * (4 * d * d + 6 * d))
        dims = flops.ModelDims(2, d, 64, 200, 32, encoder + decoder)
        out = objective.accounting(dims, batch_size=2)
        length, layers = 32, 2
        forward = (
            length * (2 * encoder + 4 * length * d * layers)  # encoder
            + length * (2 * decoder + 4 * length * d * layers)  # self
            + length * 4 * length * d * layers  # cross-attention
            + length * 2 * d * 200  # logits on the decoder only
        )
        self.assertEqual(out["flops_per_step"], 3 * 2 * forward)
        self.assertEqual(out["tokens_per_step"], 2 * 2 * length)
        self.assertEqual(out["loss_positions_per_step"], 2 * length)

    def test_fit_decoder_form_and_save(self):
        objective = _denoising(32, seed=0, rotate_rate=0.1)
        model = fit_lowers_loss(self, objective, tiny_body())
        self.assertEqual(model.objective.name, "denoising")
        x, _, _ = objective(packed_features(batch=2,
                                            length=objective.raw_length))
        restored = self.run_saving_test(model, x)
        self.assertEqual(restored.objective.get_config(),
                         objective.get_config())

    def test_encoder_decoder_graph_on_bart(self):
        objective = _denoising(16, form="encoder_decoder")
        model = Pretrainer(tiny_bart(), objective)
        x, _, _ = objective(packed_features(batch=2, length=16))
        logits = model.predict(x, verbose=0)
        self.assertEqual(logits.shape, (2, 16, ST.vocabulary_size))
        self.assertTrue(np.isfinite(logits).all())

    @pytest.mark.large
    def test_fit_encoder_decoder_form_on_bart(self):
        objective = _denoising(32, form="encoder_decoder", seed=0)
        fit_lowers_loss(self, objective, tiny_bart())

    def test_recipe(self):
        path = os.path.join(os.path.dirname(__file__), "..", "..",
                            "recipes", "denoising.py")
        full = config_lib.validate(config_lib.load_recipe(path))
        local = config_lib.validate(config_lib.load_recipe(path + ":runlocal"))
        self.assertLess(local["training"]["steps"], full["training"]["steps"])
        self.assertEqual(local["objective"], full["objective"])
        # The recipe cannot know the tokenizer's ids of ".", "!", "?".
        with pytest.warns(UserWarning, match="sentence_end_ids"):
            objective = objectives.get(
                full["objective"], special_tokens=ST,
                sequence_length=full["sequence_length"], seed=full["seed"])
        self.assertIsInstance(objective, Denoising)
        self.assertEqual(objective.raw_length, 64)
