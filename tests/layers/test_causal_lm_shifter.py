"""`CausalLMShifter`: inputs, shifted targets, padding by position."""

import numpy as np
import tensorflow as tf

from keras_objectives.layers import CausalLMShifter
from tests.test_case import TestCase
from tests.test_case import packed_features


class CausalLMShifterTest(TestCase):
    def test_the_transform_contract(self):
        # It draws nothing: another seed or epoch changes nothing.
        self.run_transform_test(CausalLMShifter(seed=0), packed_features(),
                                random=False)

    def test_shift_and_weights(self):
        features = packed_features(batch=2, length=8)
        x, y, w = CausalLMShifter(seed=0)(features)
        ids = features["token_ids"].numpy()
        np.testing.assert_array_equal(x["token_ids"], ids[:, :-1])
        np.testing.assert_array_equal(y, ids[:, 1:])
        # 8 positions, 3 of padding: targets 1..4 are real.
        np.testing.assert_array_equal(w, [[1, 1, 1, 1, 0, 0, 0]] * 2)
        np.testing.assert_array_equal(x["padding_mask"],
                                      features["padding_mask"][:, :-1])
        self.assertEqual(sorted(x), ["padding_mask", "token_ids"])

    def test_padding_is_taken_by_position_not_by_value(self):
        # An EOS that shares its id with padding still gets a label.
        features = {"token_ids": tf.constant([[5, 6, 0, 0]]),
                    "padding_mask": tf.constant([[1, 1, 1, 0]])}
        _, y, w = CausalLMShifter(seed=0)(features)
        np.testing.assert_array_equal(y, [[6, 0, 0]])
        np.testing.assert_array_equal(w, [[1.0, 1.0, 0.0]])
        # Without a mask, padding is the pad id.
        _, _, w = CausalLMShifter(pad_token_id=0, seed=0)(
            {"token_ids": tf.constant([[5, 6, 0, 0]])})
        np.testing.assert_array_equal(w, [[1.0, 0.0, 0.0]])

    def test_per_position_features_shift_with_the_inputs(self):
        features = packed_features(batch=2, length=6)
        features["document_ids"] = tf.constant([[0, 0, 1, 1, 1, 2]] * 2)
        features["stream_index"] = tf.constant([7, 8], tf.int64)
        x, _, _ = CausalLMShifter(seed=0)(features)
        np.testing.assert_array_equal(x["document_ids"],
                                      [[0, 0, 1, 1, 1]] * 2)
        self.assertNotIn("stream_index", x)
        self.assertNotIn("example_ids", x)

    def test_bad_pad_id(self):
        with self.assertRaisesRegex(ValueError, "pad_token_id"):
            CausalLMShifter(pad_token_id=-1)
