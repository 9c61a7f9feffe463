import math

import numpy as np
import tensorflow as tf

from keras_objectives.ops import fim
from keras_objectives.ops import random as kr
from tests.test_case import TestCase

PRE, MID, SUF = 8, 9, 10
EOS = 3


def _np(x):
    return np.asarray(x)


def _rearrange(tokens, seed=0, docs=None, **kwargs):
    tokens = tf.cast(tf.convert_to_tensor(tokens), tf.int32)
    kwargs.setdefault("document_boundary_ids", [EOS])
    return fim.fim_rearrange(
        kr.example_keys(seed, 0, tf.range(tokens.shape[0])),
        tokens,
        tokens != 0,
        prefix_id=PRE,
        middle_id=MID,
        suffix_id=SUF,
        document_ids=docs,
        **kwargs,
    )


def undo_fim(row):
    """Remove the sentinels of a rearranged row and restore the order."""
    row = [int(t) for t in row if t != 0]
    out, doc = [], []

    def flush():
        if doc and doc[0] == PRE:
            i_suf, i_mid = doc.index(SUF), doc.index(MID)
            prefix = doc[1:i_suf]
            suffix = doc[i_suf + 1:i_mid]
            rest = doc[i_mid + 1:]  # middle (PSM) or prefix + middle (SPM)
            out.extend(prefix + rest + suffix)
        else:
            out.extend(doc)
        doc.clear()

    for t in row:
        if t == EOS:
            flush()
            out.append(t)
        else:
            doc.append(t)
    flush()
    return out


def _documents(batch, num_docs, seed=0, width=40):
    rng = np.random.default_rng(seed)
    rows = np.zeros((batch, width), np.int32)
    for b in range(batch):
        row = []
        for _ in range(num_docs):
            row += list(rng.integers(20, 90, rng.integers(0, 7))) + [EOS]
        rows[b, : len(row)] = row
    return rows


def _bound(p, n, sigmas=4.0):
    return sigmas * math.sqrt(p * (1 - p) / n)


class FIMRearrangeTest(TestCase):
    def test_golden_psm_and_spm(self):
        tokens = [[20, 21, 22, 23, 24, 3, 0]]
        psm = _rearrange(tokens, fim_rate=1.0, spm_rate=0.0)
        self.assertAllEqual(
            psm["token_ids"], [[PRE, 20, SUF, 23, 24, MID, 21, 22, 3, 0]]
        )
        self.assertAllEqual(psm["prefix_mask"], [[1, 0, 0, 0, 0, 0, 0]])
        self.assertAllEqual(psm["middle_mask"], [[0, 1, 1, 0, 0, 0, 0]])
        self.assertAllEqual(psm["suffix_mask"], [[0, 0, 0, 1, 1, 0, 0]])
        spm = _rearrange(tokens, fim_rate=1.0, spm_rate=1.0)
        # Same seed, same cuts: [PRE][SUF] suffix [MID] prefix middle.
        self.assertAllEqual(
            spm["token_ids"], [[PRE, SUF, 23, 24, MID, 20, 21, 22, 3, 0]]
        )
        self.assertAllEqual(spm["padding_mask"], [[1] * 9 + [0]])

    def test_fim_rate_zero_is_identity_padded(self):
        tokens = _documents(4, 3)
        out = _rearrange(tokens, fim_rate=0.0)
        self.assertAllEqual(out["token_ids"][:, :40], tokens)
        self.assertAllEqual(out["token_ids"][:, 40:], np.zeros((4, 3)))

    def test_undo_rebuilds_the_original(self):
        tokens = _documents(64, 3)
        for spm_rate in (0.0, 0.5, 1.0):
            out = _rearrange(
                tokens, fim_rate=0.7, spm_rate=spm_rate, output_length=49
            )
            rows = _np(out["token_ids"])
            for row, original in zip(rows, tokens, strict=True):
                self.assertEqual(
                    undo_fim(row), [t for t in original if t != 0]
                )
                # Only the three sentinels are ever inserted.
                extra = len(row[row != 0]) - len(original[original != 0])
                self.assertEqual(extra % 3, 0)
                self.assertEqual((row == PRE).sum() * 3, extra)

    def test_row_level_fim_spans_documents(self):
        tokens = _documents(32, 3)
        out = _rearrange(tokens, fim_rate=1.0, document_boundary_ids=[])
        rows = _np(out["token_ids"])
        for row, original in zip(rows, tokens, strict=True):
            real = row[row != 0].tolist()
            self.assertEqual(real[0], PRE)
            self.assertEqual(sum(t in (PRE, MID, SUF) for t in real), 3)
            i_suf, i_mid = real.index(SUF), real.index(MID)
            rebuilt = real[1:i_suf] + real[i_mid + 1:] + real[i_suf + 1:i_mid]
            self.assertEqual(rebuilt, [t for t in original if t != 0])

    def test_rates_within_binomial_bounds(self):
        tokens = np.tile([list(range(20, 30)) + [3]], [4000, 1])
        out = _rearrange(tokens, fim_rate=0.3, spm_rate=0.25)
        fim_rows = _np(out["fim_mask"])[:, 0]
        spm_rows = _np(out["spm_mask"])[:, 0]
        self.assertAllClose(fim_rows.mean(), 0.3, atol=_bound(0.3, 4000))
        n_fim = fim_rows.sum()
        self.assertAllClose(
            spm_rows[fim_rows].mean(), 0.25, atol=_bound(0.25, n_fim)
        )
        self.assertFalse((spm_rows & ~fim_rows).any())

    def test_cut_points_are_two_sorted_uniforms(self):
        tokens = np.tile([list(range(20, 30)) + [3]], [4000, 1])
        out = _rearrange(tokens, fim_rate=1.0)
        prefix = _np(out["prefix_mask"]).sum(1)
        middle = _np(out["middle_mask"]).sum(1)
        # Cuts i, j uniform on {0..10}: P(min = 0) = 21 / 121,
        # E|i - j| = n (n + 2) / (3 (n + 1)) = 40 / 11.
        p0 = 21 / 121
        self.assertAllClose((prefix == 0).mean(), p0, atol=_bound(p0, 4000))
        sd = math.sqrt(middle.var() / 4000)
        self.assertAllClose(middle.mean(), 40 / 11, atol=4 * sd)
        self.assertEqual(set(np.unique(prefix)), set(range(11)))

    def test_overflow_truncates_the_row_end(self):
        tokens = [[20, 21, 3, 22, 23, 3, 24, 25, 3]]
        out = _rearrange(tokens, fim_rate=1.0)
        row = _np(out["token_ids"])[0]
        self.assertEqual(len(row), 12)
        self.assertTrue(_np(out["padding_mask"]).all())
        # Nine extra tokens, room for three: the first document is whole.
        self.assertEqual(undo_fim(row[:6]), [20, 21, 3])

    def test_empty_documents_get_no_sentinels(self):
        out = _rearrange([[3, 3, 20, 3, 0, 0]], fim_rate=1.0)
        row = _np(out["token_ids"])[0].tolist()
        self.assertEqual(row[:2], [3, 3])
        self.assertEqual(sum(t == PRE for t in row), 1)

    def test_document_ids_follow_their_tokens(self):
        tokens = _documents(16, 3, width=30)
        docs = np.cumsum(np.pad(tokens == EOS, [[0, 0], [1, 0]])[:, :-1], 1)
        out = _rearrange(tokens, docs=tf.constant(docs), fim_rate=1.0,
                         output_length=40)
        out_tokens, out_docs = _np(out["token_ids"]), _np(out["document_ids"])
        mask = _np(out["padding_mask"])
        for row, ids, m in zip(out_tokens, out_docs, mask, strict=True):
            # Document k's tokens, sentinels and [SEP] carry id k.
            self.assertAllEqual(ids[m], np.cumsum(
                np.pad(row[m] == EOS, [1, 0])[:-1]))

    def test_static_shapes_under_xla(self):
        tokens = tf.constant(_documents(4, 2, width=16))

        @tf.function(jit_compile=True)
        def run(t):
            return _rearrange(t, fim_rate=0.5)["token_ids"]

        out = run(tokens)
        self.assertEqual(out.shape, (4, 19))
        self.assertAllEqual(out, _rearrange(tokens, fim_rate=0.5)["token_ids"])
