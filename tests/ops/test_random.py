"""`ops.random`: counter-based keys and draws, and the table of stream ids."""

import math

import numpy as np
import tensorflow as tf

from keras_objectives.ops import random as kr
from tests.test_case import TestCase


class RandomTest(TestCase):
    def test_golden_keys_and_draws(self):
        # Fixed forever: every golden output of every transform rests on
        # these numbers.
        self.assertEqual(kr.example_keys(7, 0, [0, 1, 2]).numpy().tolist(),
                         [911236744, 2685028968, 1544120174])
        keys = kr.example_keys(7, 0, [0, 1])
        self.assertEqual(
            kr.random_bits(keys, 3, stream=5).numpy().tolist(),
            [[3835942310, 3444176202, 4173170974],
             [4160966756, 3061927497, 3782688427]])
        self.assertEqual(kr.randint(keys, 5, 10, stream=2).numpy().tolist(),
                         [[0, 0, 0, 4, 5], [0, 2, 9, 9, 0]])
        self.assertEqual(
            kr.permutation(keys, 6, stream=3).numpy().tolist(),
            [[3, 1, 2, 0, 4, 5], [0, 2, 4, 3, 5, 1]])

    def test_int64_ids_use_their_high_bits(self):
        ids = tf.constant([0, 1, 2**40], tf.int64)
        keys = kr.example_keys(7, tf.zeros([3], tf.int64), ids)
        self.assertEqual(keys.numpy().tolist(),
                         [3073717687, 836235814, 3743838311])
        self.assertNotEqual(int(keys[0]), int(keys[2]))

    def test_a_row_draws_the_same_alone_or_in_a_batch(self):
        keys = kr.example_keys(3, 1, [4, 5, 6])
        batch = kr.uniform(keys, 8, stream=9)
        for i in range(3):
            np.testing.assert_array_equal(kr.uniform(keys[i], 8, stream=9),
                                          batch[i])

    def test_streams_seeds_and_epochs_are_independent(self):
        keys = kr.example_keys(0, 0, tf.range(64))
        a, b = kr.uniform(keys, 64, 1), kr.uniform(keys, 64, 2)
        self.assertLess(abs(np.corrcoef(a.numpy().ravel(),
                                        b.numpy().ravel())[0, 1]), 0.03)
        for other in (kr.example_keys(1, 0, tf.range(64)),
                      kr.example_keys(0, 1, tf.range(64))):
            self.assertFalse(np.any(other.numpy() == keys.numpy()))

    def test_uniforms_and_integers_are_uniform(self):
        keys = kr.example_keys(11, 0, tf.range(100))
        u = kr.uniform(keys, 1000, stream=4).numpy().ravel()
        self.assertTrue(np.all((u >= 0) & (u < 1)))
        # Mean of 1e5 uniforms: standard error 1 / sqrt(12e5) ~ 9e-4.
        self.assertLess(abs(u.mean() - 0.5), 5 * 9.2e-4)
        counts = np.bincount(
            kr.randint(keys, 1000, 7, stream=4).numpy().ravel(), minlength=7)
        self.assertEqual(len(counts), 7)
        # Each count ~ Binomial(1e5, 1/7): within 5 standard deviations.
        n, p = 100_000, 1 / 7
        bound = 5 * math.sqrt(n * p * (1 - p))
        self.assertTrue(np.all(np.abs(counts - n * p) < bound), counts)

    def test_permutations_are_permutations(self):
        perms = kr.permutation(kr.example_keys(0, 0, tf.range(50)), 17, 3)
        for row in perms.numpy():
            self.assertEqual(sorted(row.tolist()), list(range(17)))
        self.assertGreater(len({tuple(r) for r in perms.numpy()}), 45)

    def test_content_keys_depend_on_order(self):
        keys = kr.content_keys(tf.constant([[5, 6, 7], [7, 6, 5], [5, 6, 7]]))
        self.assertEqual(keys.numpy().tolist()[:2], [3573095764, 3474395950])
        self.assertEqual(int(keys[0]), int(keys[2]))

    def test_stream_ids_are_unique_but_for_two_historic_repeats(self):
        table = {k: v for k, v in vars(kr).items()
                 if k.isupper() and not k.startswith("_")
                 and isinstance(v, int)}
        by_id = {}
        for name, value in table.items():
            by_id.setdefault(value, set()).add(name)
        repeats = {v: names for v, names in by_id.items() if len(names) > 1}
        # BART's sentence order and document offset share ids with
        # masking's selection priority and 80/10/10 decision: they are
        # never drawn in one transform, and renumbering would change every
        # golden output. A new id must be new.
        self.assertEqual(repeats, {
            11: {"SELECTION_PRIORITY", "SENTENCE_ORDER"},
            21: {"MASK_DECISION", "ROTATE_OFFSET"},
        })
