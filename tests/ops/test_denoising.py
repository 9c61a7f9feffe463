import collections
import itertools
import math

import numpy as np
import tensorflow as tf

from keras_objectives.ops import denoising
from keras_objectives.ops import random as kr
from keras_objectives.ops import segments
from tests.test_case import TestCase


def _keys(n, seed=0, epoch=0):
    return kr.example_keys(seed, epoch, tf.range(n))


def _np(x):
    return np.asarray(x)


def _bound(p, n, sigmas=4.0):
    """Half-width of a `sigmas` binomial band for a proportion."""
    return sigmas * math.sqrt(p * (1 - p) / n)


class PoissonSpanLengthsTest(TestCase):
    def test_fairseq_truncation_point(self):
        k = denoising.default_max_span_length(3.0)
        self.assertEqual(k, 17)
        pmf = lambda k: math.exp(-3) * 3**k / math.factorial(k)  # noqa: E731
        self.assertLess(pmf(17), 1e-7)
        self.assertGreaterEqual(pmf(16), 1e-7)

    def test_mean_and_zero_rate_match_poisson(self):
        lengths = _np(denoising.poisson_span_lengths(_keys(50), 400))
        n = lengths.size
        # Var(Poisson(3)) = 3: 4 sigma on the mean of 20000 draws.
        self.assertAllClose(lengths.mean(), 3.0, atol=4 * math.sqrt(3 / n))
        p0 = math.exp(-3)
        self.assertAllClose((lengths == 0).mean(), p0, atol=_bound(p0, n))
        p3 = math.exp(-3) * 27 / 6
        self.assertAllClose((lengths == 3).mean(), p3, atol=_bound(p3, n))
        self.assertLessEqual(lengths.max(), 17)
        self.assertGreaterEqual(lengths.min(), 0)

    def test_truncation_renormalizes(self):
        lengths = _np(denoising.poisson_span_lengths(
            _keys(50), 400, poisson_lambda=3.0, max_span_length=2
        ))
        self.assertEqual(set(np.unique(lengths)), {0, 1, 2})
        pmf = np.array([1.0, 3.0, 4.5])  # e^-3 * 3^k / k!, unnormalized
        expected = pmf / pmf.sum()
        for k in range(3):
            self.assertAllClose(
                (lengths == k).mean(), expected[k],
                atol=_bound(expected[k], lengths.size),
            )

    def test_other_lambda(self):
        lengths = _np(denoising.poisson_span_lengths(
            _keys(50), 400, poisson_lambda=8.0
        ))
        self.assertAllClose(
            lengths.mean(), 8.0, atol=4 * math.sqrt(8 / lengths.size)
        )


class SegmentsTest(TestCase):
    def test_boundaries_padding_and_document_ids(self):
        tokens = tf.constant([[2, 20, 21, 3, 22, 23, 24, 3, 0, 0]])
        docs = tf.constant([[0, 0, 0, 0, 1, 1, 2, 2, 2, 2]])
        movable, start = segments.document_segments(
            tokens, tokens != 0, [2, 3], docs
        )
        self.assertEqual(
            _np(movable).astype(int).tolist(),
            [[0, 1, 1, 0, 1, 1, 1, 0, 0, 0]],
        )
        # The document id change at position 6 starts a segment.
        self.assertEqual(
            _np(start).astype(int).tolist(),
            [[1, 1, 0, 1, 1, 0, 1, 1, 1, 1]],
        )


def _rows(batch, seed=0):
    """Rows `[CLS] s s [SEP] s s [SEP] pad` with sentences ending in 5."""
    rng = np.random.default_rng(seed)
    rows = np.zeros((batch, 36), np.int32)
    for b in range(batch):
        row = [2]
        for _ in range(2):
            for _ in range(rng.integers(1, 4)):
                row += list(rng.integers(20, 60, rng.integers(1, 4)))
                row += [5] * int(rng.integers(1, 3))  # "." or "..."
            row.append(3)
        rows[b, : len(row)] = row
    return tf.constant(rows)


def _sentences(row, ends=(5,)):
    """Split a row into documents (between 2/3) and their sentences."""
    docs, doc, sentence = [], [], []
    for i, t in enumerate(row):
        if t in (0, 2, 3):
            if sentence:
                doc.append(tuple(sentence))
            if doc:
                docs.append(doc)
            doc, sentence = [], []
            continue
        sentence.append(t)
        nxt = row[i + 1] if i + 1 < len(row) else 0
        if t in ends and nxt not in ends:
            doc.append(tuple(sentence))
            sentence = []
    return docs


class SentencePermutationTest(TestCase):
    def _permute(self, tokens, rate=1.0, seed=0):
        movable, start = segments.document_segments(
            tokens, tokens != 0, [2, 3]
        )
        order = denoising.sentence_permutation(
            _keys(tokens.shape[0], seed), tokens, movable, start, [5], rate
        )
        return _np(tf.gather(tokens, order, batch_dims=1))

    def test_sentences_are_a_permutation_within_each_document(self):
        tokens = _rows(64)
        out = self._permute(tokens)
        changed = 0
        for before, after in zip(_np(tokens), out, strict=True):
            specials = np.isin(before, [0, 2, 3])
            self.assertAllEqual(after[specials], before[specials])
            docs_before, docs_after = _sentences(before), _sentences(after)
            self.assertEqual(len(docs_before), len(docs_after))
            for a, b in zip(docs_before, docs_after, strict=True):
                self.assertEqual(sorted(a), sorted(b))
                changed += a != b
        self.assertGreater(changed, 32)

    def test_rate_zero_is_identity(self):
        tokens = _rows(16)
        self.assertAllEqual(self._permute(tokens, rate=0.0), _np(tokens))

    def test_all_orders_equally_likely(self):
        tokens = tf.constant([[2, 20, 5, 21, 5, 22, 5, 3]] * 600)
        out = self._permute(tokens)
        counts = collections.Counter(tuple(row[[1, 3, 5]]) for row in out)
        self.assertEqual(set(counts), set(itertools.permutations([20, 21, 22])))
        for count in counts.values():
            self.assertAllClose(count / 600, 1 / 6, atol=_bound(1 / 6, 600))


class DocumentRotationTest(TestCase):
    def test_each_document_is_a_rotation_with_a_uniform_start(self):
        tokens = tf.constant([[2, 20, 21, 22, 23, 24, 3, 30, 31, 3, 0]] * 500)
        movable, start = segments.document_segments(
            tokens, tokens != 0, [2, 3]
        )
        order = denoising.document_rotation(
            _keys(500), movable, start, rate=1.0
        )
        out = _np(tf.gather(tokens, order, batch_dims=1))
        fixed = [0, 6, 9, 10]
        self.assertAllEqual(out[:, fixed], _np(tokens)[:, fixed])
        firsts = collections.Counter(out[:, 1].tolist())
        for row in out:
            doc = row[1:6].tolist()
            k = doc.index(20)
            self.assertEqual(doc[k:] + doc[:k], [20, 21, 22, 23, 24])
            self.assertIn(row[7:9].tolist(), ([30, 31], [31, 30]))
        self.assertEqual(set(firsts), {20, 21, 22, 23, 24})
        for count in firsts.values():
            self.assertAllClose(count / 500, 0.2, atol=_bound(0.2, 500))

    def test_rate(self):
        tokens = tf.constant([[2, 20, 21, 22, 23, 3]] * 1000)
        movable, start = segments.document_segments(
            tokens, tokens != 0, [2, 3]
        )
        order = _np(denoising.document_rotation(
            _keys(1000), movable, start, rate=0.4
        ))
        # A rotated document keeps its order 1 time in 4.
        moved = (order != np.arange(6)).any(axis=1).mean()
        self.assertAllClose(moved, 0.4 * 0.75, atol=_bound(0.3, 1000))


class InfillingSpansTest(TestCase):
    def test_exact_count_no_overlap_and_valid_inserts(self):
        rng = np.random.default_rng(1)
        eligible = rng.random((64, 50)) < 0.8
        eligible[:, 40:] = False
        noise, start, inserts = denoising.infilling_spans(
            _keys(64), tf.constant(eligible)
        )
        noise, start, inserts = _np(noise), _np(start), _np(inserts)
        n = eligible.sum(axis=1)
        self.assertAllEqual(noise.sum(axis=1), np.floor(0.3 * n + 0.5))
        self.assertFalse((noise & ~eligible).any())
        self.assertFalse((start & ~noise).any())
        for row in range(64):
            valid = inserts[row][inserts[row] >= 0]
            last = np.nonzero(eligible[row])[0].max()
            for p in valid:
                # Before an eligible token, or right after the last one.
                self.assertTrue(p == last + 1 or eligible[row, p])

    def test_no_bias_toward_either_end(self):
        # Every arrangement of spans among kept tokens is equally likely,
        # so coverage is mirror-symmetric. Edges are covered less than the
        # middle (a token at the edge has one neighbour to be covered
        # from), as in T5's random spans and fairseq.
        eligible = tf.ones([2000, 20], tf.bool)
        noise, _, _ = denoising.infilling_spans(_keys(2000), eligible)
        rate = _np(noise).mean(axis=0)
        self.assertAllClose(rate.mean(), 0.3)
        for p in range(10):
            self.assertAllClose(
                rate[p], rate[19 - p], atol=_bound(0.3, 1000, 4.0)
            )
        self.assertAllClose(rate[5:15].mean(), 0.33, atol=0.03)

    def test_rate_zero_and_empty_rows(self):
        eligible = tf.constant([[True] * 6, [False] * 6])
        noise, start, inserts = denoising.infilling_spans(
            _keys(2), eligible, rate=0.0
        )
        self.assertFalse(_np(noise).any())
        self.assertTrue((_np(inserts) == -1).all())
        noise, _, inserts = denoising.infilling_spans(_keys(2), eligible)
        self.assertFalse(_np(noise)[1].any())
        self.assertTrue((_np(inserts)[1] == -1).all())

    def test_zero_length_spans_insert(self):
        # Many rows: some draw a length-0 span.
        eligible = tf.ones([300, 30], tf.bool)
        _, _, inserts = denoising.infilling_spans(_keys(300), eligible)
        self.assertTrue((_np(inserts) >= 0).any())


class SelectTokensTest(TestCase):
    def test_disjoint_exact_counts(self):
        available = tf.constant(np.random.default_rng(0).random((8, 40)) < .7)
        n = tf.fill([8], 40)
        a, b = denoising.select_tokens(_keys(8), available, n, [0.2, 0.1])
        a, b = _np(a), _np(b)
        self.assertAllEqual(a.sum(1), [8] * 8)
        self.assertAllEqual(b.sum(1), [4] * 8)
        self.assertFalse((a & b).any())
        self.assertFalse(((a | b) & ~_np(available)).any())


class CompactByKeyTest(TestCase):
    def test_orders_drops_and_pads(self):
        values = tf.constant([[1, 2, 3, 4, 5]])
        keys = tf.constant([[9, 1, 5, 3, 7]])
        valid = tf.constant([[True, True, False, True, True]])
        out, mask = segments.compact_by_key(values, keys, valid, 3, -1)
        self.assertAllEqual(out, [[2, 4, 5]])  # 1 (key 9) overflows
        out, mask = segments.compact_by_key(values, keys, valid, 6, -1)
        self.assertAllEqual(out, [[2, 4, 5, 1, -1, -1]])
        self.assertAllEqual(mask, [[1, 1, 1, 1, 0, 0]])
