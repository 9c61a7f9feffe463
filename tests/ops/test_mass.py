"""`ops.mass`: MASS's fragment lengths, starts and the masked pair."""

import numpy as np
import tensorflow as tf

from keras_objectives.ops import mass
from keras_objectives.ops import random as kr
from tests.test_case import TestCase


def binomial_bounds(n, p, sigmas=5.0):
    sd = np.sqrt(n * p * (1 - p))
    return n * p - sigmas * sd, n * p + sigmas * sd


class FragmentTest(TestCase):
    def test_lengths_round_half_the_row_within_one_and_n(self):
        lengths = tf.constant([0, 1, 2, 3, 4, 7, 85, 128])
        self.assertEqual(
            mass.fragment_lengths(lengths, 0.5).numpy().tolist(),
            [0, 1, 1, 2, 2, 4, 43, 64])
        self.assertEqual(
            mass.fragment_lengths(lengths, 1.0).numpy().tolist(),
            [0, 1, 2, 3, 4, 7, 85, 128])
        self.assertEqual(
            mass.fragment_lengths(lengths, 0.01).numpy().tolist(),
            [0, 1, 1, 1, 1, 1, 1, 1])

    def test_the_static_longest_fragment_agrees(self):
        widths = list(range(0, 300))
        for ratio in (0.1, 0.15, 0.3, 0.5, 0.7, 0.9, 1.0):
            dynamic = mass.fragment_lengths(widths, ratio).numpy().tolist()
            self.assertEqual(
                [mass.longest_fragment(w, ratio) for w in widths], dynamic)

    def test_starts_are_uniform_and_keep_the_fragment_inside(self):
        rows = 8000
        keys = kr.example_keys(3, 1, tf.range(rows))
        lengths = tf.fill([rows], 10)
        k = mass.fragment_lengths(lengths, 0.5)
        starts = mass.fragment_starts(keys, lengths, k).numpy()
        self.assertEqual(starts.min(), 0)
        self.assertEqual(starts.max(), 5)  # n - k = 10 - 5.
        low, high = binomial_bounds(rows, 1 / 6)
        for s in range(6):
            self.assertBetween(int(np.sum(starts == s)), low, high)

    def test_starts_are_a_function_of_the_key_only(self):
        keys = kr.example_keys(0, 0, tf.range(64))
        lengths = tf.fill([64], 40)
        k = mass.fragment_lengths(lengths, 0.5)
        first = mass.fragment_starts(keys, lengths, k).numpy()
        again = mass.fragment_starts(keys[::-1], lengths, k).numpy()[::-1]
        np.testing.assert_array_equal(first, again)
        other = mass.fragment_starts(kr.example_keys(1, 0, tf.range(64)),
                                     lengths, k).numpy()
        self.assertFalse(np.array_equal(first, other))

    def test_golden_starts(self):
        keys = kr.example_keys(0, 0, tf.range(8))
        starts = mass.fragment_starts(keys, tf.fill([8], 20),
                                      tf.fill([8], 10))
        self.assertEqual(starts.numpy().tolist(), GOLDEN_STARTS)

    def test_mask_fragment_invariants(self):
        rng = np.random.default_rng(0)
        ids = rng.integers(10, 100, (16, 12))
        lengths = rng.integers(2, 13, 16)
        ids[np.arange(12)[None, :] >= lengths[:, None]] = 0
        k = mass.fragment_lengths(lengths, 0.5)
        starts = mass.fragment_starts(kr.example_keys(0, 0, tf.range(16)),
                                      lengths, k)
        inputs, in_len, targets, t_len = mass.mask_fragment(
            tf.constant(ids), lengths, starts, k, mask_id=4, pad_id=0,
            targets_length=6)
        inputs, targets = inputs.numpy(), targets.numpy()
        for row in range(16):
            n, s, m = lengths[row], int(starts[row]), int(k[row])
            expected = ids[row].copy()
            expected[s:s + m] = 4
            np.testing.assert_array_equal(inputs[row], expected)
            np.testing.assert_array_equal(targets[row, :m], ids[row, s:s + m])
            self.assertTrue(np.all(targets[row, m:] == 0))
            self.assertEqual(int(in_len[row]), n)
            self.assertEqual(int(t_len[row]), m)


# Frozen from the first run: draws on the SPAN_ANCHOR stream of keys
# (seed 0, epoch 0, ids 0..7), uniform on [0, 10].
GOLDEN_STARTS = [6, 0, 1, 1, 2, 6, 9, 6]
