import collections
import math

import numpy as np
import pytest
import tensorflow as tf

from keras_objectives.api_export import EXPORTED
from keras_objectives.layers.bart_noiser import BARTNoiser
from tests.test_case import TestCase

CLS, SEP, MASK, PAD = 2, 3, 4, 0
SPECIALS = list(range(111))
DOT, QUESTION = 150, 151


def _packed(batch=16, seed=0, width=48):
    """`[CLS] doc [SEP] doc [SEP] pad`, sentences end in DOT or QUESTION."""
    rng = np.random.default_rng(seed)
    tokens = np.zeros((batch, width), np.int32)
    docs = np.zeros((batch, width), np.int32)
    for b in range(batch):
        row, ids = [CLS], [0]
        for d in range(2):
            for _ in range(rng.integers(1, 4)):
                sentence = list(rng.integers(111, 150, rng.integers(1, 5)))
                sentence.append(int(rng.choice([DOT, QUESTION])))
                row += sentence
                ids += [d] * len(sentence)
            row.append(SEP)
            ids.append(d)
        row = row[:width]
        tokens[b, : len(row)] = row
        docs[b, : len(row)] = ids[:width]
    return {
        "token_ids": tf.constant(tokens),
        "padding_mask": tf.constant(tokens != PAD),
        "document_ids": tf.constant(docs),
        "example_ids": tf.range(batch, dtype=tf.int64),
        "epoch": tf.zeros([batch], tf.int64),
    }


def _noiser(**kwargs):
    kwargs.setdefault("seed", 1)
    return BARTNoiser(
        mask_token_id=MASK,
        special_token_ids=SPECIALS,
        document_boundary_token_ids=[CLS, SEP],
        sentence_end_token_ids=[DOT, QUESTION],
        **kwargs,
    )


def _corrupt(layer, features):
    return {
        k: np.asarray(v)
        for k, v in layer.corrupt(features, layer.keys(features)).items()
    }


def _expected(tokens, real, out):
    """The corrupted row rebuilt in Python from the bookkeeping."""
    length = len(tokens)
    permuted = tokens[out["source_order"]]
    inserts = collections.Counter(p for p in out["insert_positions"] if p >= 0)
    row = []
    for i in range(length + 1):
        row += [MASK] * inserts[i]
        if i == length or not real[i] or out["delete_mask"][i]:
            continue
        if out["noise_mask"][i] and not out["span_start"][i]:
            continue
        masked = out["span_start"][i] or out["token_mask"][i]
        row.append(MASK if masked else int(permuted[i]))
    return row


def _sentences(row):
    docs, doc, sentence = [], [], []
    for t in row:
        if t in (PAD, CLS, SEP):
            if doc or sentence:
                docs.append(sorted(doc + ([tuple(sentence)] if sentence
                                          else [])))
            doc, sentence = [], []
            continue
        sentence.append(t)
        if t in (DOT, QUESTION):
            doc.append(tuple(sentence))
            sentence = []
    return docs


class BARTNoiserTest(TestCase):
    def test_exported(self):
        self.assertIs(EXPORTED["keras_objectives.layers.BARTNoiser"],
                      BARTNoiser)

    def test_transform_contract(self):
        features = _packed(8)
        out = self.run_transform_test(_noiser(), features)
        self.assertEqual(out["inputs"].shape, (8, 48))
        self.assertAllEqual(out["targets"], features["token_ids"])

    def test_decoder_form_agrees_across_call_paths(self):
        features = _packed(4)
        ds = tf.data.Dataset.from_tensor_slices(features)
        layer = _noiser(form="decoder", rotate_rate=0.5)
        direct = layer(features)
        unbatched = next(iter(ds.map(layer).batch(4)))
        for a, b in zip(tf.nest.flatten(direct), tf.nest.flatten(unbatched),
                        strict=True):
            self.assertAllEqual(a, b)
            self.assertTrue(b.shape.is_fully_defined())

    def test_golden(self):
        tokens = tf.constant(
            [2, 120, 121, 122, DOT, 123, 124, QUESTION, 3, 130, 131, 132,
             133, 134, DOT, 3, 0, 0]
        )
        out = _noiser(seed=7)({"token_ids": tokens,
                               "padding_mask": tokens != 0})
        self.assertAllEqual(
            out["inputs"],
            [2, 123, 124, QUESTION, 120, 121, 122, MASK, 3, MASK, 133, 134,
             DOT, 3, 0, 0, 0, 0],
        )
        self.assertAllEqual(out["inputs_padding_mask"], [1] * 14 + [0] * 4)
        self.assertAllEqual(out["targets"], tokens)

    def test_infilling_only_masks_and_spans_rebuild_the_original(self):
        features = _packed(64, seed=1)
        layer = _noiser(permute_sentences_rate=0.0)
        out = _corrupt(layer, features)
        tokens = np.asarray(features["token_ids"])
        real = np.asarray(features["padding_mask"])
        eligible = real & ~np.isin(tokens, SPECIALS)
        for b in range(64):
            n = eligible[b].sum()
            self.assertEqual(out["noise_mask"][b].sum(),
                             math.floor(0.3 * n + 0.5))
            # Spans in order: runs of noise from each [MASK] start, and
            # the empty spans of the insertions.
            spans = [(int(p), 0, []) for p in out["insert_positions"][b]
                     if p >= 0]
            for i in np.nonzero(out["span_start"][b])[0]:
                j, span = i, []
                while j < len(tokens[b]) and out["noise_mask"][b][j] and (
                        j == i or not out["span_start"][b][j]):
                    span.append(int(tokens[b][j]))
                    j += 1
                spans.append((int(i), 1, span))
            spans = [s for _, _, s in sorted(spans, key=lambda s: s[:2])]
            row = out["token_ids"][b][out["padding_mask"][b]].tolist()
            self.assertEqual(row.count(MASK), len(spans))
            rebuilt = []
            for t in row:
                rebuilt += spans.pop(0) if t == MASK else [t]
            self.assertEqual(rebuilt, tokens[b][real[b]].tolist())

    def test_output_matches_the_bookkeeping(self):
        features = _packed(32, seed=2)
        layer = _noiser(mask_rate=0.1, delete_rate=0.1, rotate_rate=0.5)
        out = _corrupt(layer, features)
        tokens = np.asarray(features["token_ids"])
        real = np.asarray(features["padding_mask"])
        for b in range(32):
            sliced = {k: v[b] for k, v in out.items()}
            expected = _expected(tokens[b], real[b], sliced)
            length = len(expected)
            self.assertAllEqual(out["token_ids"][b][:length], expected)
            self.assertTrue((out["token_ids"][b][length:] == 0).all())
            self.assertAllEqual(out["padding_mask"][b],
                                np.arange(48) < length)

    def test_permutation_only_permutes_sentences_within_documents(self):
        features = _packed(64, seed=3)
        out = _noiser(infill_rate=0.0)(features)
        changed = 0
        for before, after in zip(np.asarray(features["token_ids"]),
                                 np.asarray(out["inputs"]), strict=True):
            boundary = np.isin(before, [PAD, CLS, SEP])
            self.assertAllEqual(after[boundary], before[boundary])
            self.assertEqual(_sentences(before), _sentences(after))
            changed += not np.array_equal(before, after)
        self.assertGreater(changed, 32)

    def test_no_specials_inserted_padding_untouched(self):
        features = _packed(64, seed=4)
        layer = _noiser(mask_rate=0.1, delete_rate=0.1, rotate_rate=1.0)
        out = layer(features)
        for before, after, mask in zip(
            np.asarray(features["token_ids"]), np.asarray(out["inputs"]),
            np.asarray(out["inputs_padding_mask"]), strict=True,
        ):
            real = after[mask]
            self.assertTrue((after[~mask] == 0).all())
            self.assertEqual(mask.tolist(), sorted(mask.tolist(),
                                                   reverse=True))
            for special in SPECIALS:
                if special != MASK:
                    self.assertEqual((real == special).sum(),
                                     (before[before != 0] == special).sum())
            words = collections.Counter(real[real != MASK].tolist())
            self.assertLessEqual(words, collections.Counter(before.tolist()))

    def test_exact_rates_for_masking_and_deletion(self):
        features = _packed(32, seed=5)
        tokens = np.asarray(features["token_ids"])
        real = np.asarray(features["padding_mask"])
        n = (real & ~np.isin(tokens, SPECIALS)).sum(1)
        out = _noiser(infill_rate=0.0, delete_rate=0.2)(features)
        deleted = real.sum(1) - np.asarray(out["inputs_padding_mask"]).sum(1)
        self.assertAllEqual(deleted, np.floor(0.2 * n + 0.5))
        out = _noiser(infill_rate=0.0, mask_rate=0.4)(features)
        masks = (np.asarray(out["inputs"]) == MASK).sum(1)
        self.assertAllEqual(masks, np.floor(0.4 * n + 0.5))

    def test_masked_fraction_over_a_corpus(self):
        features = _packed(256, seed=6)
        out = _corrupt(_noiser(), features)
        tokens = np.asarray(features["token_ids"])
        eligible = np.asarray(features["padding_mask"]) & ~np.isin(
            tokens, SPECIALS)
        fraction = out["noise_mask"].sum() / eligible.sum()
        self.assertAllClose(fraction, 0.3, atol=0.01)

    def test_rotation_rate_per_document(self):
        tokens = tf.constant([[CLS] + list(range(120, 130)) + [SEP]] * 2000)
        out = np.asarray(_noiser(infill_rate=0.0, rotate_rate=0.3)(
            {"token_ids": tokens, "padding_mask": tokens != 0,
             "example_ids": tf.range(2000, dtype=tf.int64)})["inputs"])
        # A rotated document keeps its order 1 time in 10.
        moved = (out[:, 1] != 120).mean()
        p = 0.3 * 0.9
        self.assertAllClose(moved, p, atol=4 * math.sqrt(p * (1 - p) / 2000))

    def test_decoder_and_encoder_decoder_forms(self):
        features = _packed(4, seed=7)
        tokens = np.asarray(features["token_ids"])
        real = np.asarray(features["padding_mask"])
        corrupted = _noiser()(features)
        x, y, w = _noiser(form="decoder", decoder_start_token_id=SEP)(
            features)
        self.assertEqual(x["token_ids"].shape, (4, 96))
        for b in range(4):
            m = int(np.asarray(corrupted["inputs_padding_mask"][b]).sum())
            n = int(real[b].sum())
            stream = np.concatenate(
                [np.asarray(corrupted["inputs"][b])[:m], tokens[b][:n]])
            self.assertAllEqual(y[b][: m + n], stream)
            self.assertAllEqual(x["token_ids"][b][: m + n],
                                np.concatenate([[SEP], stream[:-1]]))
            self.assertAllEqual(x["prefix_mask"][b], np.arange(96) <= m)
            self.assertAllEqual(w[b], (np.arange(96) >= m)
                                & (np.arange(96) < m + n))
        x, y, w = _noiser(form="encoder_decoder",
                          decoder_start_token_id=SEP)(features)
        self.assertAllEqual(x["encoder_token_ids"], corrupted["inputs"])
        self.assertAllEqual(y, tokens)
        self.assertAllEqual(w, real)
        self.assertAllEqual(x["decoder_token_ids"][:, 0], [SEP] * 4)
        self.assertAllEqual(x["decoder_token_ids"][:, 1:][real[:, 1:]],
                            tokens[:, :-1][real[:, 1:]])

    @pytest.mark.large
    def test_static_shapes_under_xla(self):
        features = _packed(4, seed=8, width=24)
        layer = _noiser(mask_rate=0.1, delete_rate=0.1, rotate_rate=0.5)

        @tf.function(jit_compile=True)
        def run(f):
            return layer.transform(f, layer.keys(f))

        out = run(features)
        self.assertEqual(out["inputs"].shape, (4, 24))
        self.assertAllEqual(out["inputs"], layer(features)["inputs"])

    def test_invalid_arguments(self):
        with pytest.raises(ValueError, match="infill_rate"):
            _noiser(infill_rate=0.8, mask_rate=0.3)
        with pytest.raises(ValueError, match="poisson_lambda"):
            _noiser(poisson_lambda=0)
        with pytest.raises(ValueError, match="form"):
            _noiser(form="seq2seq")
        with pytest.raises(ValueError, match="sentence_end_token_ids"):
            BARTNoiser(mask_token_id=MASK, sentence_end_token_ids=5)
        layer = _noiser(form="decoder", sequence_length=40)
        with pytest.raises(ValueError, match="sequence_length=40"):
            layer(_packed(2))
