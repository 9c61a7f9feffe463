"""T5 span corruption ops: lengths, golden masks, invariants, statistics."""

import math

import numpy as np
import pytest
import tensorflow as tf

from keras_objectives.ops import prefix_lm
from keras_objectives.ops import random as kr
from keras_objectives.ops import span_corruption as sc
from keras_objectives.ops.span_lengths import random_spans_helper
from keras_objectives.ops.span_lengths import span_budget
from tests.test_case import TestCase

SENTINELS = [110 - k for k in range(100)]
EOS = 3


def keys_for(n, seed=0, epoch=0):
    return kr.example_keys(seed, epoch, tf.range(n))


def bits(mask):
    return ["".join("1" if v else "0" for v in row) for row in np.asarray(mask)]


def runs(row):
    """Lengths of the runs of `True` in a boolean row."""
    out, count = [], 0
    for value in row:
        if value:
            count += 1
        elif count:
            out.append(count)
            count = 0
    return out + ([count] if count else [])


def t5_noise_span_to_unique_sentinel(tokens, noise, sentinel_ids):
    """T5's `noise_span_to_unique_sentinel`, transcribed on Python lists."""
    out, previous, spans = [], False, 0
    for token, is_noise in zip(tokens, noise, strict=True):
        if is_noise and not previous:
            out.append(sentinel_ids[spans])
            spans += 1
        elif not is_noise:
            out.append(token)
        previous = is_noise
    return out


def recover(inputs, targets, sentinel_ids, eos_id):
    """Merge inputs and targets back into the original tokens."""
    sentinels = set(sentinel_ids)
    spans, current = {}, None
    for token in targets:
        if token == eos_id:
            break
        if token in sentinels:
            current = spans.setdefault(token, [])
        else:
            current.append(token)
    out = []
    for token in inputs:
        if token == eos_id:
            break
        out.extend(spans.pop(token) if token in sentinels else [token])
    assert not spans, f"unused spans {spans}"
    return out


class SpanCorruptionLengthsTest(TestCase):
    def test_t5_length_table(self):
        self.assertEqual(random_spans_helper(128, 0.15, 3.0), (141, 29))
        self.assertEqual(random_spans_helper(512, 0.15, 3.0), (568, 114))
        self.assertEqual(random_spans_helper(1024, 0.15, 3.0),
                         (1137, 229))

    def test_t5_preprocessors_test_cases(self):
        # t5/data/preprocessors_test.py::test_random_spans_helper: inputs 64,
        # density 0.2, mean span 2.0 then 1.0, one extra token per span.
        self.assertEqual(random_spans_helper(64, 0.2, 2.0, 1, 1), (70, 22))
        self.assertEqual(random_spans_helper(64, 0.2, 1.0, 1, 1), (63, 27))

    def test_half_density_caps_targets_at_inputs(self):
        tokens, targets = random_spans_helper(512, 0.5, 3.0)
        self.assertEqual(targets, 512)
        self.assertEqual(tokens, 766)

    def test_budget_matches_helper(self):
        for inputs_length in (64, 128, 512, 1024):
            raw, targets = random_spans_helper(inputs_length, 0.15, 3.0)
            budget = span_budget(raw, 0.15, 3.0)
            self.assertEqual(budget["inputs_length"], inputs_length)
            self.assertEqual(budget["targets_length"], targets)
            self.assertEqual(budget["total_length"], inputs_length + targets)
        rolled = span_budget(141, 0.15, 3.0, random_roll=True)
        self.assertEqual((rolled["inputs_length"], rolled["targets_length"],
                          rolled["num_spans"]), (129, 30, 8))

    def test_tf_counts_match_numpy_budget(self):
        n = tf.range(0, 2049)
        _, noise, spans = sc.span_counts(n, 0.15, 3.0)
        for length in (2, 3, 10, 141, 568, 1137, 2048):
            budget = span_budget(length, 0.15, 3.0)
            need = int(tf.reduce_max(
                (n - noise + spans + 1)[2:length + 1]))
            self.assertEqual(need, budget["inputs_length"])

    def test_helper_errors(self):
        with self.assertRaisesRegex(ValueError, "inputs_length"):
            random_spans_helper(1, 0.15, 3.0)
        with self.assertRaisesRegex(ValueError, "noise_density"):
            random_spans_helper(128, 1.5, 3.0)
        with self.assertRaisesRegex(ValueError, "mean_noise_span_length"):
            random_spans_helper(128, 0.15, 0.5)


class NoiseMaskTest(TestCase):
    def test_golden_random_spans(self):
        mask = sc.random_spans_noise_mask(
            keys_for(3), tf.constant([20, 20, 15]), 20, 0.3, 2.0
        )
        self.assertEqual(bits(mask), [
            "00100001111000000001",
            "00000000011110001001",
            "00000011100000100000",
        ])

    def test_golden_random_roll_and_iid(self):
        lengths = tf.constant([20, 20, 15])
        rolled = sc.random_spans_noise_mask(
            keys_for(3), lengths, 20, 0.3, 2.0, random_roll=True
        )
        self.assertEqual(bits(rolled), [
            "00010010000111100000",
            "01111000100100000000",
            "00001110000010000000",
        ])
        iid = sc.iid_noise_mask(keys_for(3), lengths, 20, 0.3)
        self.assertEqual(bits(iid), [
            "01000011100001000100",
            "10000001000000000011",
            "00100001010011000000",
        ])

    def test_random_spans_invariants(self):
        lengths = np.random.default_rng(0).integers(0, 65, 500)
        mask = sc.random_spans_noise_mask(
            keys_for(500), tf.constant(lengths), 64
        ).numpy()
        n = np.maximum(lengths, 2)
        # T5's float32 arithmetic: 30 * 0.15 rounds to 4, not 5.
        num_noise = np.round(n.astype(np.float32) * np.float32(0.15))
        num_noise = np.clip(num_noise, 1, n - 1).astype(np.float32)
        num_spans = np.maximum(np.round(num_noise / np.float32(3.0)), 1)
        for row, length, m, s in zip(mask, lengths, num_noise, num_spans,
                                     strict=True):
            self.assertFalse(row[length:].any())
            if length < 2:
                self.assertFalse(row.any())
                continue
            self.assertEqual(row.sum(), m)
            self.assertEqual(len(runs(row)), s)
            self.assertFalse(row[0])  # starts with non-noise
            self.assertTrue(row[length - 1])  # T5: noise at the end
        # Mean span length over long rows: num_noise / num_spans ~ 3.
        long = lengths >= 40
        self.assertAllClose(
            (mask[long].sum(1) / num_spans[long]).mean(), 3.0, atol=0.25)

    def test_span_length_statistics(self):
        # 141 tokens: 21 noise tokens in 7 spans, 120 others in 7 spans.
        batch = 4000
        mask = sc.random_spans_noise_mask(
            keys_for(batch, seed=3), tf.fill([batch], 141), 141
        ).numpy()
        spans = np.array([runs(row) for row in mask])
        self.assertEqual(spans.shape, (batch, 7))
        self.assertAllEqual(spans.sum(1), np.full(batch, 21))
        # Uniform compositions: P(a given span has length 1) = C(19,5) /
        # C(20,6) = 6/20; check every span position with 4-sigma bounds.
        p = math.comb(19, 5) / math.comb(20, 6)
        bound = 4 * math.sqrt(p * (1 - p) / batch)
        for k in range(7):
            self.assertAllClose((spans[:, k] == 1).mean(), p, atol=bound)
        # First non-noise span: P(length 1) = 6 / 119.
        first = np.argmax(mask, axis=1)
        p = 6 / 119
        self.assertAllClose((first == 1).mean(), p,
                            atol=4 * math.sqrt(p * (1 - p) / batch))

    def test_random_roll_spreads_noise(self):
        batch = 4000
        lengths = tf.fill([batch], 100)
        plain = sc.random_spans_noise_mask(keys_for(batch), lengths, 100)
        rolled = sc.random_spans_noise_mask(
            keys_for(batch), lengths, 100, random_roll=True
        )
        plain, rolled = plain.numpy(), rolled.numpy()
        self.assertEqual(plain[:, 0].mean(), 0.0)
        self.assertEqual(plain[:, -1].mean(), 1.0)
        self.assertAllEqual(rolled.sum(1), plain.sum(1))
        bound = 4 * math.sqrt(0.15 * 0.85 / batch)
        for position in (0, 50, 99):
            self.assertAllClose(rolled[:, position].mean(), 0.15, atol=bound)

    def test_iid_rate(self):
        batch, length = 200, 100
        mask = sc.iid_noise_mask(
            keys_for(batch), tf.fill([batch], 80), length, 0.15
        ).numpy()
        self.assertFalse(mask[:, 80:].any())
        trials = batch * 80
        bound = 4 * math.sqrt(0.15 * 0.85 / trials)
        self.assertAllClose(mask[:, :80].mean(), 0.15, atol=bound)

    def test_zero_density(self):
        mask = sc.random_spans_noise_mask(keys_for(2), [5, 5], 5, 0.0)
        self.assertFalse(np.asarray(mask).any())

    def test_random_segmentation(self):
        batch = 3000
        starts = sc.random_segmentation(
            keys_for(batch), tf.fill([batch], 6), tf.fill([batch], 3), 8, 0
        ).numpy()
        self.assertAllEqual(starts.sum(1), np.full(batch, 2))
        self.assertFalse(starts[:, 0].any() or starts[:, 6:].any())
        # Cut points: a uniform 2-subset of the 5 gaps (10 subsets).
        codes = starts[:, 1:6] @ (2 ** np.arange(5))
        counts = np.bincount(codes, minlength=32)[counts_support()]
        self.assertEqual(counts.sum(), batch)
        p = 0.1
        bound = 4 * math.sqrt(p * (1 - p) / batch) * batch
        self.assertAllClose(counts, np.full(10, batch * p), atol=bound)


def counts_support():
    return [a | b for a in (1, 2, 4, 8, 16) for b in (1, 2, 4, 8, 16) if a < b]


class SentinelTest(TestCase):
    def test_t5_golden_inputs(self):
        # t5 preprocessors_test::test_noise_span_to_unique_sentinel.
        tokens = tf.constant([[10, 11, 12, 13, 14, 15]])
        noise = tf.constant([[True, True, False, False, True, False]])
        inputs, in_len, targets, tgt_len = sc.noise_spans_to_sentinels(
            tokens, noise, [6], [99, 98], EOS, 0, 7, 7
        )
        self.assertEqual(inputs.numpy().tolist(),
                         [[99, 12, 13, 98, 15, EOS, 0]])
        # T5's targets here would be [10, 11, 99, 14, 98] (a span before
        # its sentinel); ours keep sentinel k in front of span k.
        self.assertEqual(targets.numpy().tolist(),
                         [[99, 10, 11, 98, 14, EOS, 0]])
        self.assertEqual((in_len.numpy()[0], tgt_len.numpy()[0]), (6, 6))

    def test_matches_t5_and_recovers(self):
        batch, width = 64, 40
        rng = np.random.default_rng(1)
        tokens = rng.integers(111, 200, (batch, width))
        lengths = rng.integers(2, width + 1, batch)
        for name, mask in (
            ("spans", sc.random_spans_noise_mask(
                keys_for(batch), lengths, width, 0.3, 2.0)),
            ("iid", sc.iid_noise_mask(keys_for(batch), lengths, width, 0.3)),
        ):
            out = sc.noise_spans_to_sentinels(
                tokens, mask, lengths, SENTINELS, EOS, 0, width + 1, width + 1
            )
            inputs, in_len, targets, tgt_len = (t.numpy() for t in out)
            for b in range(batch):
                n = lengths[b]
                real, noise = tokens[b, :n].tolist(), mask.numpy()[b, :n]
                got_in = inputs[b, :in_len[b]].tolist()
                got_tgt = targets[b, :tgt_len[b]].tolist()
                self.assertEqual(got_in[:-1], t5_noise_span_to_unique_sentinel(
                    real, noise, SENTINELS), name)
                if name == "spans":  # T5's nonnoise_span_to_unique_sentinel
                    self.assertEqual(got_tgt[:-1],
                                     t5_noise_span_to_unique_sentinel(
                                         real, ~noise, SENTINELS))
                self.assertEqual(got_in[-1], EOS)
                self.assertEqual(got_tgt[-1], EOS)
                self.assertFalse(inputs[b, in_len[b]:].any())
                self.assertFalse(targets[b, tgt_len[b]:].any())
                # Sentinels aligned: same ids, in order, counting down.
                s_in = [t for t in got_in if t in SENTINELS]
                s_tgt = [t for t in got_tgt if t in SENTINELS]
                self.assertEqual(s_in, s_tgt)
                self.assertEqual(s_in, SENTINELS[:len(s_in)])
                # Nothing else inserted.
                self.assertEqual(
                    set(got_in + got_tgt) - set(real), set(s_in) | {EOS})
                self.assertEqual(recover(got_in, got_tgt, SENTINELS, EOS),
                                 real)

    def test_limit_noise_spans(self):
        noise = tf.constant([[0, 1, 1, 0, 1, 0, 1, 1, 1, 0]]) > 0
        # Spans: [1,2], [4], [6,7,8]; targets use 3, 5, 9 tokens + EOS.
        self.assertEqual(bits(sc.limit_noise_spans(noise, 10, 10)),
                         ["0110101110"])
        self.assertEqual(bits(sc.limit_noise_spans(noise, 10, 9)),
                         ["0110100000"])
        self.assertEqual(bits(sc.limit_noise_spans(noise, 1, 10)),
                         ["0110000000"])
        self.assertEqual(bits(sc.limit_noise_spans(noise, 10, 3)),
                         ["0000000000"])

    def test_scatter_rows(self):
        out = sc.scatter_rows(
            tf.constant([[5, 6, 7]]), tf.constant([[2, 0, 9]]),
            tf.constant([[True, True, True]]), 4, fill=-1,
        )
        self.assertEqual(out.numpy().tolist(), [[6, -1, 5, -1]])


class XLATest(TestCase):
    @pytest.mark.filterwarnings("ignore")
    def test_static_shapes_under_jit(self):
        def corrupt(keys, tokens, lengths):
            mask = sc.random_spans_noise_mask(keys, lengths, 141,
                                              random_roll=True)
            out = sc.noise_spans_to_sentinels(
                tokens, mask, lengths, SENTINELS, EOS, 0, 129, 30)
            iid = sc.iid_noise_mask(keys, lengths, 141)
            split = prefix_lm.random_prefix_lengths(keys, lengths)
            return out + (iid, split)

        keys = keys_for(4)
        tokens = tf.random.stateless_uniform([4, 141], (0, 1), 111, 200,
                                             tf.int32)
        lengths = tf.constant([141, 100, 2, 1])
        compiled = tf.function(corrupt, jit_compile=True)
        spec = compiled.get_concrete_function(
            tf.TensorSpec([None], tf.uint32), tf.TensorSpec([None, 141],
                                                            tf.int32),
            tf.TensorSpec([None], tf.int32)).structured_outputs
        self.assertEqual([s.shape.as_list() for s in spec],
                         [[None, 129], [None], [None, 30], [None],
                          [None, 141], [None]])
        for a, b in zip(compiled(keys, tokens, lengths),
                        corrupt(keys, tokens, lengths), strict=True):
            self.assertAllEqual(a, b)
