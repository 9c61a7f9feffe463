import json

import keras
import keras_hub
import numpy as np
import pytest
import tensorflow as tf

from keras_objectives import objectives
from keras_objectives.data.special_tokens import SpecialTokens
from keras_objectives.layers.discriminator_head import DiscriminatorHead
from keras_objectives.models.electra_functions import generator_dims
from keras_objectives.models.electra_functions import generator_parameters
from keras_objectives.models.pretrainer import Pretrainer
from keras_objectives.models.transformer_body import TransformerBody
from keras_objectives.objectives.flops import ModelDims
from keras_objectives.objectives.replaced_token_detection import (
    ReplacedTokenDetection,
)
from tests.test_case import TestCase
from tests.test_case import packed_features
from tests.test_case import tiny_special_tokens
from tests.test_case import tiny_vocabulary
from tests.test_case import two_cpus

VOCAB = 200
LENGTH = 16
MASK = 4


def _objective(**kwargs):
    return ReplacedTokenDetection(
        tiny_special_tokens(VOCAB), sequence_length=LENGTH, seed=3, **kwargs
    )


def _body(**kwargs):
    dims = dict(num_layers=1, num_heads=2, hidden_dim=16,
                intermediate_dim=32, max_sequence_length=LENGTH)
    return TransformerBody(VOCAB, **{**dims, **kwargs})


METRICS = ("generator_loss", "generator_accuracy", "discriminator_loss",
           "discriminator_accuracy", "discriminator_auc", "replaced_fraction")


def _dataset(objective):
    features = packed_features(batch=8, length=LENGTH)
    return tf.data.Dataset.from_tensor_slices(features).batch(
        8, drop_remainder=True).repeat().map(objective)


def _numpy(nest):
    return tf.nest.map_structure(np.asarray, nest)


class ReplacedTokenDetectionTest(TestCase):
    def test_data_side_uses_electra_masking(self):
        objective = ReplacedTokenDetection(
            tiny_special_tokens(VOCAB), sequence_length=64, seed=5)
        features = packed_features(batch=256, length=64, seed=1)
        x, y, w = _numpy(objective(features))
        self.assertEqual(
            sorted(x), ["mask_positions", "mask_weights",
                        "original_token_ids", "padding_mask", "token_ids"])
        original = np.asarray(features["token_ids"])
        np.testing.assert_array_equal(x["original_token_ids"], original)
        np.testing.assert_array_equal(x["padding_mask"],
                                      np.asarray(features["padding_mask"]))
        np.testing.assert_array_equal(w, x["mask_weights"])
        # exact_round: 59 eligible tokens ([CLS], [SEP], 3 pads excluded).
        np.testing.assert_array_equal(w.sum(axis=1), round(0.15 * 59))
        real = w > 0
        at = np.take_along_axis(x["token_ids"], x["mask_positions"], 1)
        orig_at = np.take_along_axis(original, x["mask_positions"], 1)
        np.testing.assert_array_equal(y[real], orig_at[real])
        # No random tokens: a selected token is [MASK] or itself, 85/15.
        is_mask = at[real] == MASK
        self.assertTrue(np.all(is_mask | (at[real] == orig_at[real])))
        n = real.sum()
        sigma = np.sqrt(n * 0.85 * 0.15)
        self.assertLess(abs(is_mask.sum() - 0.85 * n), 4 * sigma)
        # Unselected tokens are untouched; positions are unique per row.
        selected = np.zeros_like(original, bool)
        np.put_along_axis(selected, x["mask_positions"], real, 1)
        np.testing.assert_array_equal(x["token_ids"][~selected],
                                      original[~selected])
        self.assertEqual(selected.sum(), n)
        # Batched and unbatched maps agree (stateless, per example).
        ds = tf.data.Dataset.from_tensor_slices(packed_features(4, 64))
        a = next(iter(ds.map(objective).batch(4)))
        b = next(iter(ds.batch(4).map(objective)))
        tf.nest.map_structure(np.testing.assert_array_equal, a, b)

    def test_generator_shares_embeddings_and_is_scaled(self):
        body = _body(hidden_dim=32, num_heads=4, num_layers=2,
                     intermediate_dim=64)
        model = Pretrainer(body, _objective())
        generator = model.get_layer("generator")
        self.assertIs(generator.token_embedding, body.token_embedding)
        self.assertIs(generator.position_embedding, body.position_embedding)
        self.assertEqual(
            (generator.num_layers, generator.num_heads, generator.hidden_dim,
             generator.intermediate_dim), (2, 1, 8, 16))
        ids = [id(v) for v in model.weights]
        self.assertEqual(len(ids), len(set(ids)))
        shared = {id(v) for v in body.token_embedding.weights
                  + body.position_embedding.weights}
        own = [v for v in generator.weights if id(v) not in shared
               and "lm_head/" not in v.path]
        dims = generator_dims(2, 4, 32, 64)
        self.assertEqual(sum(int(np.prod(v.shape)) for v in own),
                         generator_parameters(dims, 32))

    def test_gradients_follow_electra(self):
        # The discriminator loss never reaches the generator (sampling is
        # not differentiable); the generator loss never reaches the body's
        # blocks; both reach the shared embedding.
        objective = _objective()
        model = Pretrainer(_body(), objective)
        x, y, w = objective(packed_features(batch=4, length=LENGTH))
        generator = model.get_layer("generator")
        blocks = {
            "generator": generator.transformer_layers[0].trainable_weights,
            "body": model.backbone.transformer_layers[0].trainable_weights,
            "embedding": model.backbone.token_embedding.trainable_weights,
        }

        def grads(**weights):
            rtd = ReplacedTokenDetection(**{**objective.get_config(),
                                            **weights})
            with tf.GradientTape(persistent=True) as tape:
                loss = rtd.compute_loss(model, x, y, model(x), w)
            flat = {k: tape.gradient(loss, v) for k, v in blocks.items()}
            return {k: sum(0.0 if g is None else float(tf.norm(g))
                           for g in gs) for k, gs in flat.items()}

        disc_only = grads(gen_weight=0.0)
        self.assertEqual(disc_only["generator"], 0.0)
        self.assertGreater(disc_only["body"], 0.0)
        self.assertGreater(disc_only["embedding"], 0.0)
        gen_only = grads(disc_weight=0.0)
        self.assertGreater(gen_only["generator"], 0.0)
        self.assertEqual(gen_only["body"], 0.0)
        self.assertGreater(gen_only["embedding"], 0.0)

    def test_correct_sample_is_labelled_original(self):
        model = Pretrainer(_body(), _objective())
        target = 150
        head = model.get_layer("generator").lm_head
        bias = np.full((VOCAB,), -1e4, "float32")
        bias[target] = 1e4  # The generator always samples `target`.
        head._bias.assign(bias)
        original = np.array([[2, target, 120, target, 130, 3, 0, 0]], "int32")
        masked = original.copy()
        masked[0, 1:4] = MASK
        x = {
            "token_ids": masked,
            "padding_mask": (original != 0).astype("int32"),
            # Slot 3 is padding and points at position 0: never replaced.
            "mask_positions": np.array([[1, 2, 3, 0]], "int32"),
            "mask_weights": np.array([[1, 1, 1, 0]], "float32"),
            "original_token_ids": original,
        }
        out = _numpy(model(x))
        np.testing.assert_array_equal(
            out["replaced_token_ids"],
            [[2, target, target, target, 130, 3, 0, 0]])
        np.testing.assert_array_equal(out["discriminator_labels"],
                                      [[0, 0, 1, 0, 0, 0, 0, 0]])
        self.assertEqual(out["discriminator_logits"].shape, (1, 8))
        self.assertEqual(out["generator_logits"].shape, (1, 4, VOCAB))

    def test_loss_is_weighted_sum_of_generator_and_discriminator(self):
        objective = _objective()
        model = Pretrainer(_body(), objective)
        rng = np.random.default_rng(0)
        padding = np.array([[1, 1, 1, 1, 1, 0]] * 2, "int32")
        x = {"padding_mask": padding,
             "mask_positions": np.array([[1, 3, 0], [2, 4, 0]], "int32"),
             "mask_weights": np.array([[1, 1, 0], [1, 1, 0]], "float32")}
        y = np.array([[5, 7, 0], [9, 11, 0]], "int32")
        labels = np.array([[0, 1, 0, 0, 0, 0], [0, 0, 0, 1, 1, 1]], "int32")
        y_pred = {
            "generator_logits": rng.normal(size=(2, 3, VOCAB)).astype("f4"),
            "discriminator_logits": rng.normal(size=(2, 6)).astype("f4"),
            "discriminator_labels": labels,
        }
        w = x["mask_weights"]
        logits = y_pred["generator_logits"].astype("f8")
        log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
        ce = -np.take_along_axis(log_p, y[..., None], -1)[..., 0]
        gen = (ce * w).sum() / w.sum()
        z, t = y_pred["discriminator_logits"].astype("f8"), labels
        bce = np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z)))
        disc_all = (bce * padding).sum() / padding.sum()
        selected = np.zeros((2, 6))
        selected[[0, 0, 1, 1], [1, 3, 2, 4]] = 1
        disc_masked = (bce * selected).sum() / selected.sum()

        def loss(**kwargs):
            rtd = ReplacedTokenDetection(**{**objective.get_config(),
                                            **kwargs})
            return float(rtd.compute_loss(model, x, y, y_pred, w))

        self.assertAllClose(loss(), gen + 50.0 * disc_all, rtol=1e-5)
        self.assertAllClose(loss(disc_weight=100.0) - loss(),
                            50.0 * disc_all, rtol=1e-4)
        self.assertAllClose(loss(gen_weight=0.0, disc_weight=1.0), disc_all,
                            rtol=1e-5)
        self.assertAllClose(loss(disc_loss_on="masked"),
                            gen + 50.0 * disc_masked, rtol=1e-5)
        trackers = model.get_layer("rtd_metrics")
        self.assertAllClose(trackers.generator_loss.result(), gen, rtol=1e-5)

    def test_replace_mlm_predicts_originals_from_corrupted_input(self):
        objective = _objective(replace_mlm=True)
        model = Pretrainer(_body(), objective)
        x, y, w = objective(packed_features(batch=4, length=LENGTH))
        y_pred = model(x)
        self.assertEqual(sorted(y_pred), [
            "discriminator_labels", "generator_logits", "mlm_logits",
            "replaced_token_ids"])
        self.assertEqual(tuple(y_pred["mlm_logits"].shape),
                         tuple(y_pred["generator_logits"].shape))
        loss = float(objective.compute_loss(model, x, y, y_pred, w))
        trackers = model.get_layer("rtd_metrics")
        gen, mlm = trackers.generator_loss.result(), trackers.mlm_loss.result()
        # Both near log(V) at init; the main MLM loss has weight 1.
        self.assertAllClose(loss, float(gen) + float(mlm), rtol=1e-5)
        self.assertGreater(float(mlm), 0.5 * np.log(VOCAB))

    def test_keras_round_trip_keeps_generator_and_sampler_state(self):
        objective = _objective()
        model = Pretrainer(_body(), objective)
        x, _, _ = objective(packed_features(batch=8, length=LENGTH))
        model(x)  # Advance the sampler's seed state once.
        path = self.get_temp_dir() + "/rtd.keras"
        model.save(path)
        restored = keras.models.load_model(path)
        self.assertIsInstance(restored, Pretrainer)
        generator = restored.get_layer("generator")
        self.assertIs(generator.token_embedding,
                      restored.backbone.token_embedding)
        for a, b in zip(model.get_layer("generator").weights,
                        generator.weights, strict=True):
            np.testing.assert_array_equal(a, b)
        # Same weights and the same next samples: identical outputs.
        tf.nest.map_structure(np.testing.assert_array_equal,
                              _numpy(model(x)), _numpy(restored(x)))

    def test_fit_under_mirrored_strategy_lowers_the_loss(self):
        strategy = two_cpus()
        self.assertEqual(strategy.num_replicas_in_sync, 2)
        objective = _objective()
        with strategy.scope():
            model = Pretrainer(_body(), objective)
            model.compile(keras.optimizers.Adam(1e-2), loss=objective.loss(),
                          weighted_metrics=objective.metrics())
        history = model.fit(_dataset(objective), epochs=3, steps_per_epoch=6,
                            verbose=0).history
        self.assertTrue(np.all(np.isfinite(history["loss"])))
        self.assertLess(history["loss"][-1], history["loss"][0])
        for name in METRICS:
            self.assertIn(name, history)
        # Mean metrics are synced across replicas, not halved: the first
        # epoch's generator loss is near log(V) = 5.3.
        self.assertGreater(history["generator_loss"][0], 3.0)

    @pytest.mark.large
    def test_fit_lowers_the_loss(self):
        objective = _objective()
        model = Pretrainer(_body(), objective)
        model.compile(keras.optimizers.Adam(1e-2), loss=objective.loss(),
                      weighted_metrics=objective.metrics())
        history = model.fit(_dataset(objective), epochs=3, steps_per_epoch=6,
                            validation_data=_dataset(objective),
                            validation_steps=2, verbose=0).history
        self.assertLess(history["loss"][-1], history["loss"][0])
        for name in METRICS:
            self.assertIn(name, history)
            self.assertIn("val_" + name, history)

    def test_accounting_matches_hand_calculation(self):
        dims = ModelDims(num_layers=2, hidden_dim=32, intermediate_dim=64,
                         vocabulary_size=200, sequence_length=16,
                         non_embedding_params=1000)
        out = _objective().accounting(dims, batch_size=4)
        # 64 tokens; 3 slots per row (ceil(0.15 * 16)) -> 12 slots.
        body = 3 * (2 * 1000 + 4 * 16 * 32 * 2) * 64  # 1,170,432
        head = 3 * 2 * (32 * 32 + 32) * 64  # 405,504
        # Generator: h=8, f=16, 2 layers, N = 2*600 + 64 + 264 + 16 = 1544.
        gen_body = (2 * 1544 + 4 * 16 * 8 * 2) * 64  # 263,168
        gen_head = (2 * 8 * 32 + 2 * 32 * 200) * 12  # 159,744
        generator = 3 * (gen_body + gen_head)  # 1,268,736
        self.assertEqual(out["tokens_per_step"], 64)
        self.assertEqual(out["loss_positions_per_step"], 64)
        self.assertEqual(out["generator_flops_per_step"], generator)
        self.assertEqual(out["flops_per_step"], 2_844_672)
        self.assertEqual(body + head + generator, 2_844_672)
        masked = _objective(disc_loss_on="masked").accounting(dims, 4)
        self.assertAlmostEqual(masked["loss_positions_per_step"], 9.6)
        replace = _objective(replace_mlm=True).accounting(dims, 4)
        mlm_head = 3 * (2 * 32 * 32 * 12 + 2 * 32 * 200 * 12)  # 534,528
        self.assertEqual(replace["flops_per_step"],
                         body + mlm_head + generator)

    def test_registry_and_config_round_trip(self):
        objective = objectives.get(
            "replaced_token_detection", special_tokens=tiny_special_tokens(
                VOCAB), sequence_length=LENGTH, seed=1)
        self.assertIsInstance(objective, ReplacedTokenDetection)
        config = objective.get_config()
        self.assertEqual(
            (config["selection_rate"], config["mask_token_rate"],
             config["random_token_rate"], config["generator_size_ratio"],
             config["gen_weight"], config["disc_weight"]),
            (0.15, 0.85, 0.0, 0.25, 1.0, 50.0))
        json.dumps(config)
        clone = ReplacedTokenDetection.from_config(config)
        self.assertEqual(clone.get_config(), config)

    def test_discriminator_head(self):
        head = DiscriminatorHead(name="d")
        self.assertEqual(tuple(head(np.zeros((2, 5, 8), "f4")).shape), (2, 5))
        self.assertEqual(len(head.trainable_weights), 4)
        clone = DiscriminatorHead.from_config(head.get_config())
        self.assertEqual(clone.activation, "gelu")

    def test_bad_arguments(self):
        for ratio in (0.0, 1.5, -0.25, "big"):
            with pytest.raises(ValueError, match="generator_size_ratio"):
                _objective(generator_size_ratio=ratio)
        with pytest.raises(ValueError, match="disc_loss_on"):
            _objective(disc_loss_on="some")
        with pytest.raises(ValueError, match="temperature"):
            _objective(temperature=0.0)
        vocabulary = [t for t in tiny_vocabulary(VOCAB) if t != "[MASK]"]
        with pytest.raises(ValueError, match=r"\[MASK\]"):
            ReplacedTokenDetection(SpecialTokens.from_vocabulary(vocabulary))

    def test_runs_on_bert_backbone(self):
        bert = keras_hub.models.BertBackbone(
            vocabulary_size=VOCAB, num_layers=1, num_heads=2, hidden_dim=16,
            intermediate_dim=32, max_sequence_length=LENGTH)
        objective = _objective()
        model = Pretrainer(bert, objective)
        generator = model.get_layer("generator")
        self.assertIs(generator.token_embedding, bert.token_embedding)
        self.assertFalse(generator.normalize_first)  # Post-LN, as BERT.
        x, y, w = objective(packed_features(batch=4, length=LENGTH))
        out = model(x)
        self.assertEqual(tuple(out["discriminator_logits"].shape),
                         (4, LENGTH))
        loss = float(objective.compute_loss(model, x, y, out, w))
        self.assertTrue(np.isfinite(loss))

    def test_backbone_without_bidirectional_attention(self):
        with pytest.raises(ValueError, match="bidirectional"):
            Pretrainer(_body(attention_mode="causal"), _objective())
        gpt2 = keras_hub.models.GPT2Backbone(
            vocabulary_size=VOCAB, num_layers=1, num_heads=1, hidden_dim=8,
            intermediate_dim=8, max_sequence_length=LENGTH)
        with pytest.raises(ValueError, match="bidirectional"):
            Pretrainer(gpt2, _objective())
