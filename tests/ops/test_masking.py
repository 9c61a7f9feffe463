import math

import numpy as np
import pytest
import tensorflow as tf

from keras_objectives.ops import masking
from keras_objectives.ops import random as kr
from keras_objectives.ops import selection
from tests.test_case import TestCase
from tests.test_case import packed_features
from tests.test_case import tiny_vocabulary

VOCAB = 200
SPECIAL = list(range(111))  # the reserved block of `tiny_vocabulary`
MASK = 4
CONTINUATION = [i for i, t in enumerate(tiny_vocabulary(VOCAB))
                if t.startswith("##")]
MODES = ("bernoulli", "exact_ceil", "exact_round", "prob_round")


def _keys(n, seed=0, epoch=0):
    return kr.example_keys(seed, epoch, tf.range(n))


def _bound(p, n, sigmas=4.0):
    """Half-width of a `sigmas` binomial band for a proportion."""
    return sigmas * math.sqrt(p * (1 - p) / n)


def _data(batch=2000, length=64, seed=0):
    # Few distinct shapes: the selection is XLA-compiled once per shape.
    f = packed_features(batch, length, VOCAB, seed=seed, num_padding=5)
    return f["token_ids"], f["padding_mask"]


def _mask(token_ids, padding_mask, keys=None, size=24, **kwargs):
    keys = _keys(token_ids.shape[0]) if keys is None else keys
    out = masking.masked_lm_mask(token_ids, keys, VOCAB, MASK, SPECIAL, size,
                                 padding_mask=padding_mask, **kwargs)
    return {k: np.asarray(v) for k, v in out.items()}


def _selected(out, length):
    """Dense `[B, L]` selection from the slot outputs."""
    sel = np.zeros((len(out["mask_positions"]), length), bool)
    rows, slots = np.nonzero(out["mask_weights"])
    sel[rows, out["mask_positions"][rows, slots]] = True
    return sel


class InvariantsMixin:
    def assert_invariants(self, out, token_ids, padding_mask):
        token_ids = np.asarray(token_ids)
        eligible = np.asarray(selection.eligible_mask(
            token_ids, SPECIAL, padding_mask))
        w, pos = out["mask_weights"], out["mask_positions"]
        count = w.sum(-1).astype(int)
        # Used slots come first, positions unique and ascending, pads are 0.
        np.testing.assert_array_equal(w, np.arange(w.shape[1]) < count[:, None])
        for row_pos, c in zip(pos, count, strict=True):
            self.assertTrue(np.all(np.diff(row_pos[:c]) > 0))
            self.assertTrue(np.all(row_pos[c:] == 0))
        self.assertTrue(np.all(out["mask_ids"][w == 0] == 0))
        sel = _selected(out, token_ids.shape[1])
        self.assertEqual(sel.sum(), count.sum())
        self.assertFalse(np.any(sel & ~eligible), "ineligible selected")
        changed = out["token_ids"] != token_ids
        self.assertFalse(np.any(changed & ~sel), "unselected token changed")
        inserted = out["token_ids"][changed & (out["token_ids"] != MASK)]
        self.assertFalse(np.any(np.isin(inserted, SPECIAL)))
        self.assertTrue(np.all((inserted >= 0) & (inserted < VOCAB)))
        # Writing the labels back rebuilds the input exactly.
        rebuilt = out["token_ids"].copy()
        rows, slots = np.nonzero(w)
        rebuilt[rows, pos[rows, slots]] = out["mask_ids"][rows, slots]
        np.testing.assert_array_equal(rebuilt, token_ids)
        return sel, eligible


class EligibilityTest(TestCase):
    def test_isin_ranges_and_table(self):
        ids = tf.constant([[0, 3, 4, 9, 10, 50, 51, 52, 199]])
        few = [0, 1, 2, 3, 9, 50, 51]  # 4 runs: range comparisons
        many = [0, 3, 9, 11, 50, 52, 60, 199]  # 7 runs: lookup table
        for values in (few, many):
            np.testing.assert_array_equal(
                selection.isin(ids, values),
                np.isin(np.asarray(ids), values))
        self.assertFalse(np.any(selection.isin(ids, [])))

    def test_eligible_excludes_specials_and_padding(self):
        ids = tf.constant([[2, 150, 4, 151, 3, 152, 0]])
        pad = tf.constant([[True] * 6 + [False]])
        out = selection.eligible_mask(ids, [0, 1, 2, 3, 4], pad)
        self.assertEqual(out.numpy().tolist(),
                         [[False, True, False, True, False, True, False]])
        # Padding is by position: a padded real id is still ineligible.
        pad = tf.constant([[True] * 5 + [False, False]])
        self.assertFalse(selection.eligible_mask(ids, [0], pad)[0, 5])

    def test_word_starts(self):
        # w ##a ##b [SEP] ##c w ##d ; `##c` after [SEP] starts a word.
        ids = tf.constant([[120, 114, 118, 3, 122, 121, 126]])
        cont = [114, 118, 122, 126]
        eligible = selection.eligible_mask(ids, [3])
        starts = selection.word_starts(ids, eligible, cont)
        self.assertEqual(starts.numpy().astype(int).tolist(),
                         [[1, 0, 0, 0, 1, 1, 0]])
        np.testing.assert_array_equal(
            selection.word_starts(ids, eligible), eligible)


class CountTest(TestCase):
    def count(self, n, rate, mode, cap=1000):
        keys = _keys(len(n))
        return selection.selection_count(
            keys, tf.constant(n), rate, mode, cap).numpy().tolist()

    def test_exact_ceil(self):
        # 0.7 * 10 is 7.000000000000001 in floating point: still 7.
        self.assertEqual(self.count([10, 20, 21, 0, 1], 0.7, "exact_ceil"),
                         [7, 14, 15, 0, 1])
        self.assertEqual(self.count([20, 21], 0.15, "exact_ceil"), [3, 4])

    def test_exact_round_is_bert(self):
        # min(max_pred, max(1, round(rate * n))), Python 3 round.
        self.assertEqual(
            self.count([1, 10, 30, 50, 100, 0], 0.15, "exact_round"),
            [1, 2, 4, 8, 15, 0])
        self.assertEqual(self.count([100], 0.15, "exact_round", cap=12), [12])
        self.assertEqual(self.count([100], 0.0, "exact_round"), [0])

    def test_prob_round_floor_or_ceil_and_unbiased(self):
        n = [13] * 20000
        k = np.array(self.count(n, 0.15, "prob_round"))  # 1.95
        self.assertTrue(set(k.tolist()) <= {1, 2})
        self.assertAllClose(k.mean(), 1.95, atol=4 * math.sqrt(.05 * .95 / 2e4))

    def test_bernoulli_has_no_count(self):
        with self.assertRaisesRegex(ValueError, "no exact count"):
            self.count([10], 0.15, "bernoulli")


class BudgetThresholdTest(TestCase):
    def test_matches_brute_force(self):
        rng = np.random.default_rng(0)
        values = rng.integers(0, 2**30, (100, 40))
        values[rng.random(values.shape) < 0.2] = -1
        values[:50, :8] = values[:50, :1]  # repeated values (words)
        budget = rng.integers(0, 45, 100)
        got = selection.budget_threshold(
            tf.constant(values, tf.int32), tf.constant(budget, tf.int32))
        for row, b, t in zip(values, budget, got.numpy(), strict=True):
            candidates = sorted(set(row[row >= 0].tolist()) | {2**30})
            best = min(c for c in [0] + [c + 1 for c in candidates]
                       if np.sum(row >= c) <= b)
            self.assertEqual(t, best)

    def test_priorities_distinct(self):
        p, bits = selection.priorities(_keys(500), 128)
        self.assertEqual(bits, 7)
        p = p.numpy()
        self.assertTrue(all(len(set(r)) == 128 for r in p))
        self.assertTrue(p.min() >= 0 and p.max() < 2**30)


class MaskedLMMaskTest(TestCase, InvariantsMixin):
    def test_golden(self):
        ids = tf.constant([[2, 120, 121, 122, 123, 124, 125, 126, 127, 3, 0],
                           [2, 130, 131, 3, 132, 133, 134, 135, 3, 0, 0]])
        pad = ids != 0
        out = _mask(ids, pad, kr.example_keys(5, 0, [0, 1]), size=3,
                    selection_rate=0.3)
        # prob_round: 0.3 * 8 = 2.4 -> 3 and 0.3 * 6 = 1.8 -> 1 tokens.
        # Position 2 of row 0 was selected and kept.
        self.assertEqual(out["token_ids"].tolist(), [
            [2, 4, 121, 122, 123, 124, 125, 4, 127, 3, 0],
            [2, 130, 4, 3, 132, 133, 134, 135, 3, 0, 0]])
        self.assertEqual(out["mask_positions"].tolist(),
                         [[1, 2, 7], [2, 0, 0]])
        self.assertEqual(out["mask_ids"].tolist(),
                         [[120, 121, 126], [131, 0, 0]])
        self.assertEqual(out["mask_weights"].tolist(),
                         [[1, 1, 1], [1, 0, 0]])

    def test_invariants_every_mode(self):
        ids, pad = _data()
        for mode in MODES:
            for whole_word in (False, True):
                out = _mask(ids, pad, count_mode=mode, whole_word=whole_word,
                            continuation_token_ids=CONTINUATION)
                self.assert_invariants(out, ids, pad)

    def test_count_per_mode(self):
        ids, pad = _data()
        rate = 0.15
        n = np.asarray(selection.eligible_mask(ids, SPECIAL, pad)).sum(-1)
        self.assertEqual(set(n.tolist()), {57})  # 64 - [CLS] [SEP] - 5 pads
        for mode in MODES:
            c = _mask(ids, pad, count_mode=mode)["mask_weights"].sum(-1)
            if mode == "exact_ceil":
                np.testing.assert_array_equal(c, 9)  # ceil(8.55)
            elif mode == "exact_round":
                np.testing.assert_array_equal(c, 9)  # round(8.55)
            elif mode == "prob_round":
                self.assertTrue(set(c.tolist()) <= {8, 9})
                self.assertAllClose(c.mean() - 8, 0.55,
                                    atol=_bound(0.55, len(c)))
            else:  # Binomial(57, 0.15) per row.
                tokens = c.size * 57
                self.assertAllClose(c.sum() / tokens, rate,
                                    atol=_bound(rate, tokens))

    def test_every_position_equally_likely(self):
        ids, pad = _data()
        sel = _selected(_mask(ids, pad), 64)[:, 1:58]
        rate = sel.mean(0)
        self.assertAllClose(rate, np.full(57, 0.15), atol=_bound(0.15, 2000))

    def test_80_10_10_split(self):
        ids, pad = _data()
        out = _mask(ids, pad)
        sel = _selected(out, 64)
        new, old = out["token_ids"][sel], np.asarray(ids)[sel]
        m = len(new)
        masked = np.mean(new == MASK)
        randomized = np.mean((new != MASK) & (new != old))
        # A random id equals the original with probability 1 / 89.
        self.assertAllClose(masked, 0.8, atol=_bound(0.8, m))
        p = 0.1 * (1 - 1 / 89)
        self.assertAllClose(randomized, p, atol=_bound(p, m))
        # Random ids are uniform over the 89 non-special ids.
        counts = np.bincount(new[(new != MASK) & (new != old)],
                             minlength=VOCAB)
        self.assertTrue(np.all(counts[:111] == 0))
        expected = counts.sum() / 89
        self.assertLess(np.max(np.abs(counts[111:] - expected)),
                        5 * math.sqrt(expected))

    def test_degenerate_rates(self):
        ids, pad = _data()
        for mode in MODES:
            out = _mask(ids, pad, count_mode=mode, selection_rate=0.0)
            self.assertEqual(out["mask_weights"].sum(), 0)
            np.testing.assert_array_equal(out["token_ids"], ids)
        eligible = np.asarray(selection.eligible_mask(ids, SPECIAL, pad))
        for mode, whole_word in (("prob_round", False), ("exact_ceil", True)):
            out = _mask(ids, pad, size=64, count_mode=mode,
                        selection_rate=1.0, mask_token_rate=1.0,
                        random_token_rate=0.0, whole_word=whole_word,
                        continuation_token_ids=CONTINUATION)
            np.testing.assert_array_equal(out["token_ids"] == MASK, eligible)
        # No random replacement, no masking: labels only.
        out = _mask(ids, pad, mask_token_rate=0.0, random_token_rate=0.0)
        np.testing.assert_array_equal(out["token_ids"], ids)
        self.assertGreater(out["mask_weights"].sum(), 0)

    def test_bernoulli_truncates_to_the_slots(self):
        ids, pad = _data()
        out = _mask(ids, pad, size=5, count_mode="bernoulli",
                    selection_rate=0.5)
        np.testing.assert_array_equal(out["mask_weights"].sum(-1), 5)
        self.assert_invariants(out, ids, pad)

    def test_determinism(self):
        ids, pad = _data()
        a = _mask(ids, pad, _keys(2000, seed=1))
        b = _mask(ids, pad, _keys(2000, seed=1))
        c = _mask(ids, pad, _keys(2000, seed=1, epoch=1))
        for k in a:
            np.testing.assert_array_equal(a[k], b[k])
        self.assertFalse(np.array_equal(a["mask_positions"],
                                        c["mask_positions"]))
        # A row's output does not depend on the rest of the batch.
        order = np.random.default_rng(0).permutation(2000)
        shuffled = _mask(tf.gather(ids, order), tf.gather(pad, order),
                         tf.gather(_keys(2000, seed=1), order))
        for k in a:
            np.testing.assert_array_equal(shuffled[k], a[k][order])


class WholeWordTest(TestCase, InvariantsMixin):
    def words(self, ids, pad):
        eligible = selection.eligible_mask(ids, SPECIAL, pad)
        starts = selection.word_starts(ids, eligible, CONTINUATION)
        return np.cumsum(np.asarray(starts), -1) - 1, np.asarray(eligible)

    def test_golden(self):
        # [CLS] w ##x ##x w w ##x w [SEP]: budget 0.5 * 7 = 3.5 tokens. The
        # 2-piece word fits, the 3-piece word that follows would cross and
        # is taken with probability (3.5 - 2) / 3; here it is not.
        ids = tf.constant([[2, 120, 114, 118, 121, 123, 122, 124, 3]])
        out = _mask(ids, ids != 0, kr.example_keys(2, 0, [0]), size=4,
                    selection_rate=0.5, whole_word=True,
                    continuation_token_ids=CONTINUATION)
        self.assertEqual(out["token_ids"].tolist(),
                         [[2, 120, 114, 118, 121, 4, 4, 124, 3]])
        self.assertEqual(out["mask_positions"].tolist(), [[5, 6, 0, 0]])
        self.assertEqual(out["mask_ids"].tolist(), [[123, 122, 0, 0]])

    def test_words_whole_and_one_decision(self):
        ids, pad = _data()
        word_ids, eligible = self.words(ids, pad)
        for mode in MODES:
            out = _mask(ids, pad, count_mode=mode, whole_word=True,
                        continuation_token_ids=CONTINUATION)
            sel, _ = self.assert_invariants(out, ids, pad)
            masked = out["token_ids"] == MASK
            for b in range(0, 2000, 20):
                for w in np.unique(word_ids[b][eligible[b]]):
                    piece = eligible[b] & (word_ids[b] == w)
                    self.assertIn(sel[b][piece].mean(), (0.0, 1.0))
                    if sel[b][piece].all():
                        self.assertIn(masked[b][piece].mean(), (0.0, 1.0))

    def test_token_budget(self):
        ids, pad = _data()
        word_ids, eligible = self.words(ids, pad)
        n = 57
        for mode in MODES:
            out = _mask(ids, pad, count_mode=mode, whole_word=True,
                        continuation_token_ids=CONTINUATION)
            c = out["mask_weights"].sum(-1)
            if mode in ("exact_ceil", "exact_round"):
                self.assertTrue(np.all(c <= 9))  # never above k
                self.assertGreater(c.mean(), 8.3)
            else:  # unbiased: rate * n tokens on average
                sd = 3.0 if mode == "bernoulli" else 1.5  # generous
                self.assertAllClose(c.mean(), 0.15 * n,
                                    atol=4 * sd / math.sqrt(len(c)))

    def test_word_decision_split(self):
        ids, pad = _data()
        word_ids, eligible = self.words(ids, pad)
        out = _mask(ids, pad, whole_word=True,
                    continuation_token_ids=CONTINUATION)
        sel = _selected(out, 64)
        masked = out["token_ids"] == MASK
        starts = sel & (np.diff(word_ids, prepend=-1, axis=-1) == 1)
        decisions = masked[starts]
        self.assertAllClose(decisions.mean(), 0.8,
                            atol=_bound(0.8, len(decisions)))


class SpanTest(TestCase, InvariantsMixin):
    def spans(self, ids, pad, keys=None, size=24, **kwargs):
        keys = _keys(ids.shape[0]) if keys is None else keys
        out = masking.span_mask(ids, keys, VOCAB, MASK, SPECIAL, size,
                                kwargs.pop("candidates", 16),
                                padding_mask=pad, return_span_ids=True,
                                **kwargs)
        return {k: np.asarray(v) for k, v in out.items()}

    def test_golden(self):
        ids = tf.constant([[2] + list(range(120, 134)) + [3, 140, 141, 3]])
        out = self.spans(ids, ids != 0, kr.example_keys(4, 0, [0]), size=6,
                         selection_rate=0.3, count_mode="exact_ceil")
        # ceil(0.3 * 16) = 5 tokens: span 0 (kept as is) covers 2, span 1
        # (masked) is cut after 3.
        self.assertEqual(out["token_ids"].tolist(), [
            [2, 120, 121, 4, 4, 4] + list(range(125, 134)) + [3, 140, 141,
                                                              3]])
        self.assertEqual(out["span_ids"].tolist(), [
            [-1, 0, 0, 1, 1, 1] + [-1] * 13])
        self.assertEqual(out["mask_positions"].tolist(),
                         [[1, 2, 3, 4, 5, 0]])

    def test_geometric_lengths(self):
        lengths = np.asarray(masking.geometric_span_lengths(
            _keys(20000), 10)).ravel()
        p, q = 0.2, 0.8
        mass = 1 - q**10
        for k in range(1, 11):
            pk = p * q ** (k - 1) / mass
            self.assertAllClose(np.mean(lengths == k), pk,
                                atol=_bound(pk, lengths.size))
        self.assertAllClose(masking.mean_span_length(), 3.797, atol=1e-3)
        self.assertAllClose(lengths.mean(), 3.797,
                            atol=4 * 2.6 / math.sqrt(lengths.size))
        ones = masking.geometric_span_lengths(_keys(3), 4, p=1.0)
        np.testing.assert_array_equal(ones, 1)

    def test_invariants_and_budget(self):
        ids, pad = _data(1000)
        for mode in MODES:
            out = self.spans(ids, pad, count_mode=mode)
            spans = out.pop("span_ids")
            sel, _ = self.assert_invariants(out, ids, pad)
            np.testing.assert_array_equal(spans >= 0, sel)
            c = out["mask_weights"].sum(-1)
            if mode == "exact_ceil" or mode == "exact_round":
                np.testing.assert_array_equal(c, 9)
            elif mode == "prob_round":
                self.assertTrue(set(c.tolist()) <= {8, 9})
            else:
                self.assertAllClose(c.mean() / 57, 0.15,
                                    atol=_bound(0.15, c.size * 57))

    def test_spans_contiguous_never_cross_specials(self):
        ids = np.array(_data(300)[0])
        ids[:, 20] = 3  # a document boundary in every row
        ids = tf.constant(ids)
        out = self.spans(ids, ids != 0)
        for row in out["span_ids"]:
            for s in set(row[row >= 0].tolist()):
                where = np.nonzero(row == s)[0]
                inside = row[where.min():where.max() + 1]
                # A span runs on through earlier spans, never through a gap.
                self.assertTrue(np.all((inside >= 0) & (inside <= s)))
                self.assertFalse(where.min() < 20 <= where.max())

    def test_one_decision_per_span(self):
        ids, pad = _data(1500)
        out = self.spans(ids, pad)
        spans, new = out["span_ids"], out["token_ids"]
        kinds = []
        for b in range(len(spans)):
            for s in set(spans[b][spans[b] >= 0].tolist()):
                masked = new[b][spans[b] == s] == MASK
                self.assertIn(masked.mean(), (0.0, 1.0))
                kinds.append(masked[0])
        self.assertAllClose(np.mean(kinds), 0.8,
                            atol=_bound(0.8, len(kinds)))

    def test_span_lengths_in_words(self):
        # Long rows, low density: spans rarely touch. Drop each row's last
        # span (cut at the budget). Overlaps shorten a few: allow 0.25.
        rng = np.random.default_rng(1)
        ids = tf.constant(rng.integers(111, VOCAB, (200, 1024)), tf.int32)
        out = self.spans(ids, None, kr.example_keys(3, 0, tf.range(200)),
                         size=52, candidates=30, selection_rate=0.05,
                         count_mode="exact_ceil")
        lengths = []
        for row in out["span_ids"]:
            counts = np.bincount(row[row >= 0])
            lengths += counts[counts > 0][:-1].tolist()
        self.assertAllClose(np.mean(lengths), 3.8, atol=0.25)
        # Whole words: a 3-piece word per span word.
        words = np.where(np.arange(1023) % 3 == 0, 120, 114)
        ids = tf.constant(np.tile(words, (40, 1)), tf.int32)
        out = self.spans(ids, None, size=52, candidates=30,
                         selection_rate=0.05, count_mode="exact_ceil",
                         continuation_token_ids=CONTINUATION)
        spans = out["span_ids"]
        for row in spans:
            counts = np.bincount(row[row >= 0])
            counts = counts[counts > 0][:-1]
            self.assertTrue(np.all(counts % 3 == 0))

    def test_degenerate_rates(self):
        ids, pad = _data(50)
        out = self.spans(ids, pad, selection_rate=0.0)
        self.assertEqual(out["mask_weights"].sum(), 0)
        # At rate 1 the candidate spans, not the budget, bound the coverage
        # (their anchors may repeat); everything they cover is [MASK].
        out = self.spans(ids, pad, size=64, candidates=64, selection_rate=1.0,
                         mask_token_rate=1.0, random_token_rate=0.0,
                         count_mode="exact_ceil")
        masked = out["token_ids"] == MASK
        np.testing.assert_array_equal(masked, out["span_ids"] >= 0)
        self.assertGreater(masked.sum(), 0.8 * 50 * 57)


class JitTest(TestCase):
    def run_jit(self, fn):
        ids, pad = _data(4, 32)
        keys = _keys(4)
        jitted = tf.function(fn, jit_compile=True)(ids, pad, keys)
        eager = fn(ids, pad, keys)
        self.assertGreater(np.sum(eager["mask_weights"]), 0)
        for k in eager:
            np.testing.assert_array_equal(jitted[k], eager[k])

    def test_masked_lm_mask_compiles_with_xla(self):
        self.run_jit(lambda ids, pad, keys: masking.masked_lm_mask(
            ids, keys, VOCAB, MASK, SPECIAL, 6, padding_mask=pad))

    @pytest.mark.large
    def test_whole_word_and_span_compile_with_xla(self):
        self.run_jit(lambda ids, pad, keys: masking.masked_lm_mask(
            ids, keys, VOCAB, MASK, SPECIAL, 9, padding_mask=pad,
            whole_word=True, continuation_token_ids=CONTINUATION))
        self.run_jit(lambda ids, pad, keys: masking.span_mask(
            ids, keys, VOCAB, MASK, SPECIAL, 6, 4, padding_mask=pad))


class ErrorsTest(TestCase):
    def test_every_id_special(self):
        ids = tf.constant([[5, 6]])
        with self.assertRaisesRegex(ValueError, "random_token_rate=0"):
            masking.masked_lm_mask(ids, _keys(1), 8, 4, list(range(8)), 1)
        out = masking.masked_lm_mask(ids, _keys(1), 8, 4, list(range(8)), 1,
                                     random_token_rate=0.0)
        self.assertEqual(out["mask_weights"].numpy().sum(), 0)

    def test_sequence_too_long_for_priorities(self):
        with self.assertRaisesRegex(ValueError, "random bits"):
            selection.priorities(_keys(1), 2**19)
