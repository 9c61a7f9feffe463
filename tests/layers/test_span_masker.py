import numpy as np
import tensorflow as tf

from keras_objectives.api_export import EXPORTED
from keras_objectives.layers.span_masker import SpanMasker
from tests.test_case import TestCase
from tests.test_case import packed_features
from tests.test_case import tiny_special_tokens
from tests.test_case import tiny_vocabulary

MASK = 4
CONTINUATION = [i for i, t in enumerate(tiny_vocabulary()) if
                t.startswith("##")]


def _masker(**kwargs):
    kwargs.setdefault("seed", 42)
    return SpanMasker.from_special_tokens(tiny_special_tokens(), **kwargs)


def _runs(selected):
    """Lengths of the maximal runs of True in each row."""
    out = []
    for row in selected:
        edges = np.diff(np.concatenate([[0], row.astype(int), [0]]))
        out += (np.nonzero(edges == -1)[0] - np.nonzero(edges == 1)[0]).tolist()
    return np.array(out)


class SpanMaskerTest(TestCase):
    def test_transform_contract(self):
        features = packed_features(batch=8, length=32)
        out = self.run_transform_test(_masker(), features)
        self.assertEqual(out["mask_positions"].shape, (8, 5))  # ceil(4.8)
        self.assertEqual(set(out), {"token_ids", "mask_positions",
                                    "mask_ids", "mask_weights",
                                    "padding_mask"})

    def test_transform_contract_whole_words(self):
        self.run_transform_test(
            _masker(whole_word=True, continuation_token_ids=CONTINUATION),
            packed_features(batch=8, length=32))

    def test_golden(self):
        layer = SpanMasker(vocabulary_size=200, mask_token_id=4,
                           special_token_ids=[0, 1, 2, 3], seed=5,
                           selection_rate=0.4, count_mode="exact_ceil")
        out = layer({"token_ids": [[2] + list(range(120, 134)) + [3]],
                     "example_ids": [0]})
        # ceil(0.4 * 14) = 6 tokens in two spans, of 2 and 4 tokens.
        self.assertEqual(out["token_ids"].numpy().tolist(), [
            [2, 120, 4, 4, 123, 124, 125, 4, 4, 4, 4, 130, 131, 132, 133,
             3]])
        self.assertEqual(out["mask_positions"].numpy().tolist(),
                         [[2, 3, 7, 8, 9, 10, 0]])  # ceil(0.4 * 16) slots

    def test_spans_are_runs_of_geometric_length(self):
        # Long rows, low density, every token a word: runs of masked tokens
        # are the spans (bar rare merges and the one cut per row).
        rng = np.random.default_rng(0)
        ids = rng.integers(111, 200, (100, 1024)).astype(np.int32)
        layer = _masker(selection_rate=0.04, count_mode="exact_ceil",
                        mask_token_rate=1.0, random_token_rate=0.0)
        self.assertEqual(layer.candidate_spans(41), 26)
        out = layer({"token_ids": ids, "example_ids": np.arange(100)})
        masked = out["token_ids"].numpy() == MASK
        np.testing.assert_array_equal(masked.sum(-1), 41)  # ceil(40.96)
        runs = _runs(masked)
        # Truncated Geometric(0.2) on [1, 10]: mean 3.80 words; merges
        # lengthen and cuts shorten a few runs.
        self.assertAllClose(runs.mean(), 3.8, atol=0.3)
        self.assertLessEqual(np.mean(runs > 10), 0.02)
        self.assertAllClose(np.mean(runs == 1), 0.224, atol=0.05)

    def test_whole_words_per_span_decision(self):
        features = packed_features(batch=400, length=64, num_padding=5)
        layer = _masker(whole_word=True, continuation_token_ids=CONTINUATION)
        out = layer(features)
        ids = features["token_ids"].numpy()
        new = out["token_ids"].numpy()
        sel = np.zeros_like(ids, bool)
        rows, slots = np.nonzero(out["mask_weights"].numpy())
        sel[rows, out["mask_positions"].numpy()[rows, slots]] = True
        self.assertTrue(set(sel.sum(-1).tolist()) <= {8, 9})
        # A selected word is selected whole, except where the budget cut
        # the last span (at most one partial word per row).
        continuation = np.isin(ids, CONTINUATION)
        partial = sel[:, :-1] & continuation[:, 1:] & ~sel[:, 1:]
        self.assertTrue(np.all(partial.sum(-1) <= 1))
        # Inside a run, [MASK] or not never changes mid-word.
        masked = new == MASK
        inside = sel[:, 1:] & sel[:, :-1] & continuation[:, 1:]
        self.assertTrue(np.all(masked[:, 1:][inside] == masked[:, :-1][inside]))

    def test_errors(self):
        base = dict(vocabulary_size=200, mask_token_id=4,
                    special_token_ids=[0, 1, 2, 3])
        for kwargs, message in [
            (dict(geometric_p=0.0), "geometric_p"),
            (dict(geometric_p=1.5), "geometric_p"),
            (dict(geometric_p="x"), "geometric_p"),
            (dict(max_span_length=0), "max_span_length"),
            (dict(num_candidate_spans=0), "num_candidate_spans"),
            (dict(mask_token_id=None), "no \\[MASK\\] token"),
            (dict(count_mode="spans"), "count_mode"),
            (dict(whole_word=True), "continuation_token_ids"),
        ]:
            with self.assertRaisesRegex(ValueError, message, msg=kwargs):
                SpanMasker(**{**base, **kwargs})

    def test_config(self):
        layer = _masker(geometric_p=0.3, max_span_length=5,
                        num_candidate_spans=7, dupe_factor=2)
        config = layer.get_config()
        self.assertEqual(
            {k: config[k] for k in ("geometric_p", "max_span_length",
                                    "num_candidate_spans", "dupe_factor")},
            {"geometric_p": 0.3, "max_span_length": 5,
             "num_candidate_spans": 7, "dupe_factor": 2})
        self.assertEqual(SpanMasker.from_config(config).get_config(), config)
        self.assertIs(EXPORTED["keras_objectives.layers.SpanMasker"],
                      SpanMasker)
        out = layer(packed_features(batch=2, length=32))
        self.assertEqual(out["token_ids"].dtype, tf.int32)
