import math

import numpy as np
import pytest
import tensorflow as tf

from keras_objectives.api_export import EXPORTED
from keras_objectives.data.special_tokens import SpecialTokens
from keras_objectives.layers.masked_lm_masker import MaskedLMMasker
from tests.test_case import TestCase
from tests.test_case import packed_features
from tests.test_case import tiny_special_tokens
from tests.test_case import tiny_vocabulary

MASK = 4
CONTINUATION = [i for i, t in enumerate(tiny_vocabulary()) if
                t.startswith("##")]


def _masker(**kwargs):
    kwargs.setdefault("seed", 42)
    return MaskedLMMasker.from_special_tokens(tiny_special_tokens(), **kwargs)


def _np(out):
    return {k: np.asarray(v) for k, v in out.items()}


class MaskedLMMaskerTest(TestCase):
    def run_contract(self, **kwargs):
        features = packed_features(batch=8, length=32)
        out = self.run_transform_test(_masker(**kwargs), features)
        self.assertEqual(out["mask_positions"].dtype, tf.int32)
        self.assertEqual(out["mask_ids"].dtype, tf.int32)
        self.assertEqual(out["mask_weights"].dtype, tf.float32)
        self.assertGreater(out["mask_weights"].numpy().sum(), 0)

    def test_transform_contract(self):
        self.run_contract()

    def test_transform_contract_bernoulli(self):
        self.run_contract(count_mode="bernoulli")

    def test_transform_contract_whole_word(self):
        self.run_contract(whole_word=True,
                          continuation_token_ids=CONTINUATION)

    @pytest.mark.large
    def test_transform_contract_exact_modes(self):
        self.run_contract(count_mode="exact_ceil")
        self.run_contract(count_mode="exact_round")

    def test_golden(self):
        layer = MaskedLMMasker(vocabulary_size=200, mask_token_id=4,
                               special_token_ids=[0, 1, 2, 3], seed=4)
        out = _np(layer({
            "token_ids": [[2, 120, 121, 122, 123, 124, 125, 126, 127, 128,
                           129, 130, 131, 3, 0, 0]],
            "padding_mask": [[True] * 14 + [False] * 2],
            "example_ids": [7],
        }))
        # prob_round: 0.15 * 12 = 1.8 tokens -> 1 or 2, here 2: position 1
        # becomes [MASK], position 9 a random id (only 0-4 are special here).
        self.assertEqual(out["token_ids"].tolist(), [
            [2, 4, 121, 122, 123, 124, 125, 126, 127, 27, 129, 130, 131, 3,
             0, 0]])
        self.assertEqual(out["mask_positions"].tolist(), [[1, 9, 0]])
        self.assertEqual(out["mask_ids"].tolist(), [[120, 128, 0]])
        self.assertEqual(out["mask_weights"].tolist(), [[1.0, 1.0, 0.0]])
        self.assertEqual(out["padding_mask"].tolist(),
                         [[True] * 14 + [False] * 2])

    def test_outputs_and_passthrough(self):
        features = packed_features(batch=8, length=32)
        features["document_ids"] = tf.zeros([8, 32], tf.int32)
        features["segment_ids"] = tf.ones([8, 32], tf.int32)
        out = _masker()(features)
        self.assertEqual(set(out), {
            "token_ids", "mask_positions", "mask_ids", "mask_weights",
            "padding_mask", "document_ids", "segment_ids"})
        np.testing.assert_array_equal(out["segment_ids"], 1)
        self.assertEqual(out["mask_positions"].shape, (8, 5))  # ceil(4.8)
        # A bare token_ids tensor works too (keys from the row contents).
        bare = _masker()(features["token_ids"])
        self.assertEqual(bare["token_ids"].shape, (8, 32))

    def test_selection_length(self):
        cases = [
            ({}, 128, 20),  # ceil(0.15 * 128)
            ({"count_mode": "exact_ceil"}, 128, 20),
            ({"count_mode": "exact_round"}, 512, 77),
            ({"count_mode": "bernoulli"}, 128, 36),  # 19.2 + 4 * 4.04
            ({"whole_word": True, "continuation_token_ids": [150]}, 128,
             36),
            ({"count_mode": "bernoulli", "selection_rate": 0.9}, 20, 20),
            ({"selection_rate": 0.0}, 128, 1),
            ({"mask_selection_length": 96}, 512, 96),  # keras-hub's
        ]
        for kwargs, length, expected in cases:
            self.assertEqual(_masker(**kwargs).selection_length(length),
                             expected, kwargs)
        # BERT's max_predictions_per_seq caps exact_round below the rate.
        bert = _masker(count_mode="exact_round", mask_selection_length=76)
        self.assertEqual(bert.selection_length(512), 76)
        out = bert(packed_features(batch=2, length=512, num_padding=0))
        self.assertEqual(out["mask_weights"].numpy().sum(), 2 * 76)

    def test_selection_length_too_small(self):
        layer = _masker(mask_selection_length=19)
        with self.assertRaisesRegex(
                ValueError, r"mask_selection_length too small for the rate.*"
                r"ceil\(0.15 \* 128\) = 20.*mask_selection_length=19"):
            layer(packed_features(batch=2, length=128))

    def test_rates_over_many_rows(self):
        features = packed_features(batch=2000, length=64, num_padding=5)
        out = _np(_masker()(features))
        ids = features["token_ids"].numpy()
        count = out["mask_weights"].sum(-1)
        self.assertTrue(set(count.tolist()) <= {8, 9})  # 0.15 * 57 = 8.55
        tokens = 2000 * 57
        self.assertAllClose(count.sum() / tokens, 0.15,
                            atol=4 * math.sqrt(.15 * .85 / tokens))
        rows, slots = np.nonzero(out["mask_weights"])
        new = out["token_ids"][rows, out["mask_positions"][rows, slots]]
        old = ids[rows, out["mask_positions"][rows, slots]]
        m = len(new)
        self.assertAllClose(np.mean(new == MASK), 0.8,
                            atol=4 * math.sqrt(.16 / m))
        self.assertAllClose(np.mean(new == old), 0.1 + 0.1 / 89,
                            atol=4 * math.sqrt(.1 * .9 / m))
        self.assertFalse(np.any((new != MASK) & (new != old) & (new < 111)))

    def test_epochs_and_static_masking(self):
        features = packed_features(batch=8, length=32)

        def at(layer, epoch):
            f = dict(features, epoch=tf.fill([8], tf.constant(epoch,
                                                                tf.int64)))
            return layer(f)["token_ids"].numpy()

        dynamic = _masker()
        self.assertFalse(np.array_equal(at(dynamic, 0), at(dynamic, 1)))
        static = _masker(dupe_factor=3)
        np.testing.assert_array_equal(at(static, 1), at(static, 4))
        np.testing.assert_array_equal(at(static, 0), at(static, 6))
        self.assertFalse(np.array_equal(at(static, 0), at(static, 1)))
        self.assertFalse(np.array_equal(at(static, 1), at(static, 2)))

    def test_degenerate_rates(self):
        features = packed_features(batch=8, length=32)
        ids = features["token_ids"].numpy()
        out = _masker(selection_rate=0.0)(features)
        np.testing.assert_array_equal(out["token_ids"], ids)
        self.assertEqual(out["mask_weights"].numpy().sum(), 0)
        eligible = features["padding_mask"].numpy() & (ids >= 111)
        for kwargs in ({}, {"whole_word": True,
                            "continuation_token_ids": CONTINUATION}):
            out = _masker(selection_rate=1.0, mask_token_rate=1.0,
                          random_token_rate=0.0, **kwargs)(features)
            np.testing.assert_array_equal(out["token_ids"] == MASK, eligible)
            self.assertEqual(out["mask_weights"].numpy().sum(),
                             eligible.sum())

    def test_several_sequence_lengths(self):
        # One layer, several static lengths: each traces (and compiles) its
        # own selection; none is relaxed to an unknown length.
        layer = _masker()
        for length in (32, 48, 32, 64):
            out = layer(packed_features(batch=8, length=length))
            self.assertEqual(out["mask_positions"].shape,
                             (8, math.ceil(0.15 * length)))

    def test_vocabulary_argument(self):
        layer = _masker(whole_word=True, vocabulary=tiny_vocabulary())
        self.assertEqual(layer.continuation_token_ids, CONTINUATION)
        config = layer.get_config()
        self.assertEqual(config["continuation_token_ids"], CONTINUATION)
        self.assertNotIn("vocabulary", config)

    def test_exported(self):
        self.assertIs(EXPORTED["keras_objectives.layers.MaskedLMMasker"],
                      MaskedLMMasker)

    def test_errors(self):
        st = tiny_special_tokens()
        base = dict(vocabulary_size=200, mask_token_id=4,
                    special_token_ids=[0, 1, 2, 3])
        cases = [
            (dict(mask_token_id=None), "no \\[MASK\\] token"),
            (dict(mask_token_id=200), "mask_token_id"),
            (dict(vocabulary_size=0), "vocabulary_size"),
            (dict(special_token_ids=[0, 250]), "special_token_ids"),
            (dict(special_token_ids=None), "special_token_ids"),
            (dict(selection_rate=1.5), "selection_rate"),
            (dict(mask_token_rate=-0.1), "mask_token_rate"),
            (dict(random_token_rate="a"), "random_token_rate"),
            (dict(mask_token_rate=0.8, random_token_rate=0.3),
             "sum to at most 1"),
            (dict(count_mode="ceil"), "count_mode.*bernoulli"),
            (dict(mask_selection_length=0), "mask_selection_length"),
            (dict(whole_word=True), "continuation_token_ids"),
            (dict(whole_word="yes", continuation_token_ids=[150]),
             "whole_word"),
            (dict(continuation_token_ids=[300]), "continuation_token_ids"),
            (dict(vocabulary=["a"] * 5), "vocabulary"),
            (dict(vocabulary=tiny_vocabulary(), continuation_token_ids=[1]),
             "Pass only one"),
            (dict(vocabulary_size=5, special_token_ids=[0, 1, 2, 3]),
             "random replacement"),
            (dict(seed=-1), "seed"),
            (dict(dupe_factor=0), "dupe_factor"),
        ]
        for kwargs, message in cases:
            with self.assertRaisesRegex(ValueError, message, msg=kwargs):
                MaskedLMMasker(**{**base, **kwargs})
        no_mask = SpecialTokens(vocabulary_size=st.vocabulary_size, pad_id=0)
        with self.assertRaisesRegex(ValueError, "no \\[MASK\\] token"):
            MaskedLMMasker.from_special_tokens(no_mask)
        with self.assertRaisesRegex(ValueError, "static sequence length"):
            tf.function(
                _masker().__call__,
                input_signature=[tf.TensorSpec([None, None], tf.int32)],
            ).get_concrete_function()
