"""`MASSMasker`: MASS's masked row and fragment, in the three forms."""

import numpy as np
import tensorflow as tf

from keras_objectives.layers import MASSMasker
from tests.test_case import TestCase
from tests.test_case import packed_features


class MASSMaskerTest(TestCase):
    def test_the_transform_contract_in_every_form(self):
        for form in ("features", "encoder_decoder", "decoder"):
            with self.subTest(form=form):
                self.run_transform_test(
                    MASSMasker(mask_token_id=4, form=form, seed=2),
                    packed_features())

    def test_features_reassemble_the_row(self):
        features = packed_features(batch=8, length=32)
        out = MASSMasker(mask_token_id=4, form="features", seed=0)(features)
        ids = features["token_ids"].numpy()
        inputs, targets = out["inputs"].numpy(), out["targets"].numpy()
        # 29 real tokens: a fragment of round(14.5) = 15, in one run;
        # the targets are as wide as the fragment of a full row (16).
        self.assertEqual(targets.shape, (8, 16))
        self.assertTrue(np.all(out["targets_padding_mask"].numpy().sum(1)
                               == 15))
        for row in range(8):
            masked = np.flatnonzero(inputs[row] == 4)
            self.assertEqual(len(masked), 15)
            self.assertTrue(np.all(np.diff(masked) == 1))
            np.testing.assert_array_equal(targets[row, :15],
                                          ids[row, masked])
            self.assertEqual(targets[row, 15], 0)
            rest = np.ones(32, bool)
            rest[masked] = False
            np.testing.assert_array_equal(inputs[row, rest], ids[row, rest])

    def test_decoder_stream_weights_the_fragment_only(self):
        features = packed_features(batch=4, length=20, num_padding=0)
        x, y, w = MASSMasker(mask_token_id=4, form="decoder",
                             sequence_length=30, seed=0)(features)
        self.assertEqual(x["token_ids"].shape, (4, 30))
        # 20 tokens, fragment 10: prefix 20 (+ start token), 10 targets.
        np.testing.assert_array_equal(x["prefix_mask"].numpy().sum(1), 21)
        np.testing.assert_array_equal(w.numpy().sum(1), 10)
        np.testing.assert_array_equal(w.numpy()[:, 20:], 1.0)
        inputs = y.numpy()[:, :20]
        np.testing.assert_array_equal((inputs == 4).sum(1), 10)

    def test_encoder_decoder_pair(self):
        features = packed_features(batch=2, length=16)
        x, y, w = MASSMasker(mask_token_id=4, form="encoder_decoder",
                             seed=0)(features)
        self.assertEqual(sorted(x), [
            "decoder_padding_mask", "decoder_token_ids",
            "encoder_padding_mask", "encoder_token_ids"])
        # Decoder reads the fragment shifted right behind the pad id.
        np.testing.assert_array_equal(x["decoder_token_ids"][:, 0], 0)
        # 13 real tokens: a fragment of round(6.5) = 7 of 8 positions.
        np.testing.assert_array_equal(w.numpy().sum(1), 7)
        np.testing.assert_array_equal(x["decoder_token_ids"][:, 1:7],
                                      y[:, :6])

    def test_bad_arguments_name_themselves(self):
        for value in (0.0, 1.5, "half", None):
            with self.assertRaisesRegex(ValueError, "fragment_ratio"):
                MASSMasker(mask_token_id=4, fragment_ratio=value)
        with self.assertRaisesRegex(ValueError, "mask_token_id"):
            MASSMasker(mask_token_id=-1)
        with self.assertRaisesRegex(ValueError, "targets_length"):
            MASSMasker(mask_token_id=4, targets_length=3)(
                packed_features(length=32))
        with self.assertRaisesRegex(ValueError, "sequence_length"):
            MASSMasker(mask_token_id=4, form="decoder", sequence_length=40)(
                packed_features(length=32))
        self.assertIsInstance(
            MASSMasker(mask_token_id=4)(
                {"token_ids": tf.constant([5, 6, 7])})[0], dict)
