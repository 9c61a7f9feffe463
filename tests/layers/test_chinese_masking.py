"""Chinese whole-word (BERT-wwm) and n-gram (MacBERT) masking.

Statistics run on synthetic rows whose words come from a `word_starts`
feature (1-3 characters a word, `[CLS] ... [SEP]`, padding), so they need
no segmenter; the golden tests on real sentences need jieba
(`tests/data/test_chinese.py`).
"""

import collections
import math

import numpy as np
import tensorflow as tf

from keras_objectives.layers.masked_lm_masker import MaskedLMMasker
from keras_objectives.layers.span_masker import SpanMasker
from keras_objectives.ops import masking
from keras_objectives.ops import ngrams
from keras_objectives.ops import random as kr
from keras_objectives.ops import selection
from tests.test_case import TestCase

VOCABULARY_SIZE = 400
SPECIAL = [0, 1, 2, 3]  # [PAD] [UNK] [CLS] [SEP]
MASK = 4
MACBERT = (0.4, 0.3, 0.2, 0.1)


def synthetic_rows(rows=2000, length=128, seed=0):
    """Character ids with word starts; [CLS] first, [SEP] and padding."""
    rng = np.random.default_rng(seed)
    token_ids = rng.integers(10, VOCABULARY_SIZE, size=(rows, length))
    starts = np.zeros((rows, length), bool)
    for i in range(rows):
        position = 1
        while position < length:
            starts[i, position] = True
            position += int(rng.integers(1, 4))
    token_ids[:, 0] = 2
    ends = rng.integers(length - 20, length + 1, size=rows)
    padding = np.arange(length)[None, :] < ends[:, None]
    token_ids[np.arange(rows), ends - 1] = 3
    token_ids[~padding] = 0
    return {"token_ids": token_ids.astype(np.int32),
            "padding_mask": padding, "word_starts": starts,
            "example_ids": np.arange(rows)}


def masker(**kwargs):
    kwargs.setdefault("whole_word", True)
    kwargs.setdefault("continuation_token_ids", [])
    return MaskedLMMasker(vocabulary_size=VOCABULARY_SIZE, mask_token_id=MASK,
                          special_token_ids=SPECIAL, seed=5, **kwargs)


def selected_mask(out, shape):
    selected = np.zeros(shape, bool)
    positions = out["mask_positions"].numpy()
    used = out["mask_weights"].numpy() > 0
    for i in range(shape[0]):
        selected[i, positions[i][used[i]]] = True
    return selected


def eligible_and_words(features):
    eligible = (~np.isin(features["token_ids"], SPECIAL + [MASK])
                & features["padding_mask"])
    previous = np.pad(eligible[:, :-1], [[0, 0], [1, 0]])
    starts = eligible & (features["word_starts"] | ~previous)
    return eligible, np.cumsum(starts, axis=1)


class ChineseWholeWordTest(TestCase):
    @classmethod
    def setUpClass(cls):
        cls.features = synthetic_rows()
        cls.eligible, cls.word_ids = eligible_and_words(cls.features)

    def run_masker(self, layer):
        out = layer(self.features)
        return out, selected_mask(out, self.features["token_ids"].shape)

    def check_rate(self, selected, rate=0.15):
        n = self.eligible.sum()
        k = selected.sum()
        # The binomial 4-sigma band over all eligible characters.
        sigma = math.sqrt(n * rate * (1 - rate))
        self.assertLess(abs(k - rate * n), 4 * sigma, (k, n))

    def check_whole_words(self, selected):
        partial = 0
        for i in range(len(selected)):
            ids = np.where(self.eligible[i], self.word_ids[i], -1)
            for word in np.unique(ids[selected[i]]):
                inside = ids == word
                if not selected[i][inside].all():
                    partial += 1
        self.assertEqual(partial, 0)

    def test_selects_whole_words_at_the_character_rate(self):
        for ngram in (None, MACBERT):
            out, selected = self.run_masker(masker(ngram_probabilities=ngram))
            self.assertFalse((selected & ~self.eligible).any())  # specials
            self.check_rate(selected)
            self.check_whole_words(selected)

    def test_80_10_10_per_character(self):
        out, selected = self.run_masker(masker())
        original = self.features["token_ids"]
        corrupted = out["token_ids"].numpy()
        k = selected.sum()
        for share, chosen in ((0.8, corrupted == MASK),
                              (0.1, corrupted == original)):
            count = (chosen & selected).sum()
            sigma = math.sqrt(k * share * (1 - share))
            self.assertLess(abs(count - share * k), 4 * sigma)
        random = selected & (corrupted != MASK) & (corrupted != original)
        self.assertFalse(np.isin(corrupted[random], SPECIAL + [MASK]).any())
        self.assertTrue((corrupted[~selected] == original[~selected]).all())
        # Per character: some selected words mix [MASK] and other tokens;
        # with one decision per word (replacement_unit="word") none does.
        for unit, expect_mixed in (("token", True), ("word", False)):
            out, selected = self.run_masker(masker(replacement_unit=unit))
            masked = out["token_ids"].numpy() == MASK
            mixed = 0
            for i in range(200):
                for word in np.unique(self.word_ids[i][selected[i]]):
                    inside = (self.word_ids[i] == word) & self.eligible[i]
                    mixed += 0 < masked[i][inside].sum() < inside.sum()
            self.assertEqual(mixed > 0, expect_mixed, unit)

    def test_same_seed_same_masks_other_seed_other_masks(self):
        a, _ = self.run_masker(masker())
        b, _ = self.run_masker(masker())
        other = MaskedLMMasker(
            vocabulary_size=VOCABULARY_SIZE, mask_token_id=MASK,
            special_token_ids=SPECIAL, seed=6, whole_word=True,
            continuation_token_ids=[])(self.features)
        self.assertAllEqual(a["token_ids"], b["token_ids"])
        self.assertNotAllEqual(a["token_ids"], other["token_ids"])

    def test_xla_static_shapes_match_eager(self):
        batch = {k: v[:64] for k, v in self.features.items()}
        for layer in (masker(mask_selection_length=24),
                      masker(mask_selection_length=24,
                             ngram_probabilities=MACBERT)):
            eager = layer(batch)
            jitted = tf.function(layer, jit_compile=True)(batch)
            self.assertEqual(jitted["mask_positions"].shape, (64, 24))
            for key in ("token_ids", "mask_positions", "mask_ids",
                        "mask_weights"):
                self.assertAllEqual(eager[key], jitted[key])

    def test_ngram_lengths_follow_the_configured_probabilities(self):
        features = {k: v[:1500] for k, v in self.features.items()}
        token_ids = tf.constant(features["token_ids"])
        keys = kr.example_keys(5, 0, features["example_ids"])
        eligible = selection.eligible_mask(token_ids, SPECIAL + [MASK],
                                           features["padding_mask"])
        starts = ngrams.starts_from_feature(features["word_starts"],
                                            eligible)
        out = masking.masked_lm_mask(
            token_ids, keys, VOCABULARY_SIZE, MASK, SPECIAL,
            mask_selection_length=40, padding_mask=features["padding_mask"],
            whole_word=True, word_starts=features["word_starts"],
            ngram_probabilities=MACBERT, replacement_unit="token")
        selected = selected_mask(out, token_ids.shape)
        blocks, _ = ngrams.ngram_blocks(keys, eligible, starts, MACBERT)
        units = np.cumsum(blocks.numpy(), axis=1)
        starts = starts.numpy()
        counts = collections.Counter()
        for i in range(len(selected)):
            for unit in np.unique(units[i][selected[i]]):
                counts[int(starts[i][units[i] == unit].sum())] += 1
        total = sum(counts.values())
        self.assertGreater(total, 2000)
        self.assertEqual(set(counts), {1, 2, 3, 4})
        chi2 = sum((counts[n + 1] - p * total) ** 2 / (p * total)
                   for n, p in enumerate(MACBERT))
        # Chi-square, 3 degrees of freedom: 16.27 is the 0.999 quantile.
        self.assertLess(chi2, 16.27, (counts, chi2))

    def test_words_never_cross_special_tokens_and_layer_round_trips(self):
        row = {"token_ids": [2, 50, 51, 3, 52, 53, 3],
               "word_starts": [True, True, False, False, False, False, True],
               "example_ids": 0}
        layer = masker(selection_rate=1.0, mask_token_rate=1.0,
                       random_token_rate=0.0, count_mode="exact_ceil")
        self.assertAllEqual(layer(row)["token_ids"],
                            [2, MASK, MASK, 3, MASK, MASK, 3])
        clone = MaskedLMMasker.from_config(layer.get_config())
        self.assertAllEqual(clone(row)["token_ids"],
                            layer(row)["token_ids"])
        self.assertNotIn("word_starts", layer(row))

    def test_span_masker_uses_segmented_words(self):
        layer = SpanMasker(vocabulary_size=VOCABULARY_SIZE,
                           mask_token_id=MASK, special_token_ids=SPECIAL,
                           whole_word=True, continuation_token_ids=[],
                           seed=1)
        out = layer(self.features)
        selected = selected_mask(out, self.features["token_ids"].shape)
        self.check_rate(selected)

    def test_bad_arguments(self):
        for kwargs, fragment in (
                (dict(ngram_probabilities=[0.5, 0.4]), "ngram_probabilities"),
                (dict(ngram_probabilities="x"), "ngram_probabilities"),
                (dict(replacement_unit="char"), "replacement_unit")):
            with self.assertRaisesRegex(ValueError, fragment):
                masker(**kwargs)
        with self.assertRaisesRegex(ValueError, "keras-objectives\\[zh\\]"):
            masker()({"token_ids": [2, 50, 51, 3]})
