"""SpanCorruptor: the preprocessing contract, forms, budgets and errors."""

import json

import keras
import numpy as np
import tensorflow as tf

from keras_objectives.api_export import EXPORTED
from keras_objectives.layers.span_corruptor import SpanCorruptor
from keras_objectives.ops import span_lengths
from tests.test_case import TestCase
from tests.test_case import packed_features
from tests.test_case import tiny_special_tokens

ST = tiny_special_tokens()


def make(**kwargs):
    args = dict(sentinel_ids=ST.sentinel_ids, eos_token_id=ST.eos_id,
                pad_token_id=ST.pad_id, seed=7)
    args.update(kwargs)
    return SpanCorruptor(**args)


def recover(inputs, targets):
    """Merge inputs and targets (both without their final EOS) back."""
    sentinels = set(ST.sentinel_ids)
    spans, current = {}, None
    for token in np.asarray(targets).tolist():
        if token in sentinels:
            current = spans.setdefault(token, [])
        else:
            current.append(token)  # Fails if targets start with a token.
    out = []
    for token in np.asarray(inputs).tolist():
        out.extend(spans.pop(token) if token in sentinels else [token])
    assert not spans, spans
    return out


def real_parts(out, b):
    """Row `b`'s inputs and targets without padding and final EOS."""
    n_in = int(np.sum(out["inputs_padding_mask"][b]))
    n_tgt = int(np.sum(out["targets_padding_mask"][b]))
    inputs = out["inputs"][b].numpy()
    targets = out["targets"][b].numpy()
    assert inputs[n_in - 1] == ST.eos_id and targets[n_tgt - 1] == ST.eos_id
    assert not inputs[n_in:].any() and not targets[n_tgt:].any()
    return inputs[:n_in - 1], targets[:n_tgt - 1]


class SpanCorruptorTest(TestCase):
    def test_exported(self):
        self.assertIs(EXPORTED["keras_objectives.layers.SpanCorruptor"],
                      SpanCorruptor)

    def test_transform_contract_every_form(self):
        # 61 real tokens: 9 noise tokens in 3 spans (with fewer than ~50
        # there is one span, always at the end: not random without a roll).
        features = packed_features(batch=4, length=64)
        # The forms only reformat the same corruption (checked below).
        for kwargs in (
            {"random_roll": True},
            {"form": "decoder", "noise_mask": "iid", "noise_density": 0.3},
        ):
            layer = make(**kwargs)
            self.run_transform_test(layer, features)
            json.dumps(layer.get_config())

    def test_golden_features(self):
        features = packed_features(batch=1, length=16, num_padding=4)
        out = make(noise_density=0.3, mean_noise_span_length=2.0)(features)
        self.assertEqual(
            features["token_ids"].numpy().tolist(),
            [[2, 167, 156, 135, 138, 114, 117, 112, 126, 183, 168, 3,
              0, 0, 0, 0]],
        )
        # 12 real tokens: 4 noise tokens (117 112 | 168 3) in 2 spans.
        self.assertEqual(out["inputs"].numpy().tolist(),
                         [[2, 167, 156, 135, 138, 114, 110, 126, 183, 109, 3,
                           0, 0, 0]])
        self.assertEqual(out["targets"].numpy().tolist(),
                         [[110, 117, 112, 109, 168, 3, 3, 0]])
        self.assertEqual(out["inputs_padding_mask"].numpy().sum(), 11)
        self.assertEqual(out["targets_padding_mask"].numpy().sum(), 7)

    def test_t5_lengths_and_recovery(self):
        features = packed_features(batch=8, length=141, num_padding=0)
        out = make()(features)
        self.assertEqual(out["inputs"].shape, (8, 128))
        self.assertEqual(out["targets"].shape, (8, 29))
        # Full rows use the whole budget, like T5.
        self.assertAllEqual(out["inputs_padding_mask"],
                            tf.ones([8, 128], tf.bool))
        self.assertAllEqual(out["targets_padding_mask"],
                            tf.ones([8, 29], tf.bool))
        for b in range(8):
            self.assertEqual(recover(*real_parts(out, b)),
                             features["token_ids"][b].numpy().tolist())

    def test_padding_is_never_corrupted(self):
        features = packed_features(batch=16, length=40, num_padding=9)
        out = make(noise_density=0.5, random_roll=True)(features)
        for b in range(16):
            self.assertEqual(recover(*real_parts(out, b)),
                             features["token_ids"][b, :31].numpy().tolist())

    def test_decoder_form(self):
        features = packed_features(batch=4, length=24, num_padding=4)
        plain = make(noise_density=0.3, mean_noise_span_length=2.0)(features)
        x, y, w = make(noise_density=0.3, mean_noise_span_length=2.0,
                       form="decoder")(features)
        budget = span_lengths.span_budget(24, 0.3, 2.0)
        self.assertEqual(x["token_ids"].shape, (4, budget["total_length"]))
        for b in range(4):
            n_in = int(plain["inputs_padding_mask"][b].numpy().sum())
            n_tgt = int(plain["targets_padding_mask"][b].numpy().sum())
            stream = (plain["inputs"][b, :n_in].numpy().tolist()
                      + plain["targets"][b, :n_tgt].numpy().tolist())
            total = len(stream)
            self.assertEqual(y[b, :total].numpy().tolist(), stream)
            self.assertFalse(y[b, total:].numpy().any())
            self.assertEqual(x["token_ids"][b, :total].numpy().tolist(),
                             [ST.pad_id] + stream[:-1])
            self.assertEqual(x["padding_mask"][b].numpy().sum(), total)
            self.assertEqual(x["prefix_mask"][b].numpy().tolist(),
                             [q <= n_in for q in range(y.shape[1])])
            self.assertEqual(w[b].numpy().tolist(),
                             [float(n_in <= q < total)
                              for q in range(y.shape[1])])

    def test_encoder_decoder_form(self):
        features = packed_features(batch=2, length=24)
        plain = make()(features)
        x, y, w = make(form="encoder_decoder")(features)
        self.assertAllEqual(x["encoder_token_ids"], plain["inputs"])
        self.assertAllEqual(x["encoder_padding_mask"],
                            plain["inputs_padding_mask"])
        self.assertAllEqual(y, plain["targets"])
        self.assertAllEqual(w, tf.cast(plain["targets_padding_mask"],
                                       "float32"))
        self.assertAllEqual(x["decoder_padding_mask"],
                            plain["targets_padding_mask"])
        expected = tf.where(plain["targets_padding_mask"], tf.concat(
            [tf.zeros([2, 1], tf.int32), plain["targets"][:, :-1]], 1), 0)
        self.assertAllEqual(x["decoder_token_ids"], expected)

    def test_iid_budget_policy(self):
        # A targets budget of 6 holds `<extra_id_0> a b <extra_id_1> c EOS`
        # at most: later spans stay in the inputs, uncorrupted.
        features = packed_features(batch=32, length=30, num_padding=0)
        out = make(noise_mask="iid", noise_density=0.5,
                   targets_length=6)(features)
        self.assertEqual(out["targets"].shape, (32, 6))
        for b in range(32):
            self.assertEqual(recover(*real_parts(out, b)),
                             features["token_ids"][b].numpy().tolist())

    def test_iid_decoder_caps_spans_to_sequence_length(self):
        features = packed_features(batch=64, length=30, num_padding=0)
        x, y, w = make(noise_mask="iid", noise_density=0.5, form="decoder",
                       sequence_length=36)(features)
        self.assertEqual(y.shape, (64, 36))
        # n + 2 * spans + 2 <= 36: at most 2 sentinels per row.
        sentinels = np.isin(y.numpy(), ST.sentinel_ids).sum(1)
        self.assertLessEqual(sentinels.max(), 2 * 2)
        self.assertGreater(sentinels.min(), 0)

    def test_budget_errors(self):
        features = packed_features(batch=2, length=141)
        with self.assertRaisesRegex(
                ValueError, "(?s)targets_length.*at least 29.*noise_density"):
            make(targets_length=20)(features)
        with self.assertRaisesRegex(
                ValueError, "(?s)inputs_length.*at least 128.*random_spans"):
            make(inputs_length=100)(features)
        with self.assertRaisesRegex(ValueError, "(?s)sentinel_ids.*3 sentinels"
                                    ".*up to 7 noise spans.*Reserve more"):
            make(sentinel_ids=[110, 109, 108])(features)
        with self.assertRaisesRegex(ValueError, "(?s)sequence_length.*157"):
            make(form="decoder", sequence_length=128)(features)
        with self.assertRaisesRegex(ValueError, "(?s)at least 2 tokens"):
            make()({"token_ids": tf.constant([[5]])})
        with self.assertRaisesRegex(ValueError,
                                    "(?s)inputs_length.*at least 142"):
            make(noise_mask="iid", inputs_length=128)(features)

    def test_argument_errors(self):
        with self.assertRaisesRegex(ValueError, "(?s)noise_density"):
            make(noise_density=1.0)
        with self.assertRaisesRegex(ValueError, "(?s)mean_noise_span_length"):
            make(mean_noise_span_length=0.5)
        with self.assertRaisesRegex(ValueError, "(?s)noise_mask"):
            make(noise_mask="poisson")
        with self.assertRaisesRegex(ValueError, "(?s)form"):
            make(form="seq2seq")
        with self.assertRaisesRegex(ValueError, "(?s)sentinel_ids"):
            make(sentinel_ids=[])

    def test_jit_compile(self):
        features = packed_features(batch=4, length=64)
        layer = make(form="decoder", random_roll=True)
        compiled = tf.function(layer.call, jit_compile=True)
        eager = layer(features)
        for a, b in zip(tf.nest.flatten(compiled(features)),
                        tf.nest.flatten(eager), strict=True):
            self.assertAllEqual(a, b)

    def test_saving_in_a_model(self):
        # The layer round-trips through Keras serialization with its seed.
        layer = make(random_roll=True)
        revived = keras.layers.deserialize(keras.layers.serialize(layer))
        features = packed_features(batch=2, length=32)
        for a, b in zip(tf.nest.flatten(layer(features)),
                        tf.nest.flatten(revived(features)), strict=True):
            self.assertAllEqual(a, b)
