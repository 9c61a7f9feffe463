"""`SpanMasking`: SpanBERT's masker behind the masked-LM contract."""

import numpy as np

from keras_objectives import objectives
from keras_objectives.layers import SpanMasker
from keras_objectives.objectives import MaskedLM
from keras_objectives.objectives import SpanMasking
from tests.test_case import TestCase
from tests.test_case import packed_features
from tests.test_case import tiny_special_tokens
from tests.test_case import tiny_vocabulary

ST = tiny_special_tokens(200)


class SpanMaskingTest(TestCase):
    def test_it_is_its_layer_in_the_masked_lm_form(self):
        spans = SpanMasking(ST, sequence_length=32, seed=4, geometric_p=0.3,
                            selection_rate=0.3)
        features = packed_features(length=32)
        x, y, w = spans(features)
        layer = SpanMasker.from_special_tokens(
            ST, geometric_p=0.3, selection_rate=0.3, seed=4)
        raw = layer(features)
        np.testing.assert_array_equal(x["token_ids"], raw["token_ids"])
        np.testing.assert_array_equal(x["mask_positions"],
                                      raw["mask_positions"])
        np.testing.assert_array_equal(y, raw["mask_ids"])
        np.testing.assert_array_equal(w, raw["mask_weights"])
        self.assertEqual(sorted(x), ["mask_positions", "padding_mask",
                                     "token_ids"])

    def test_the_transform_contract(self):
        spans = SpanMasking(ST, sequence_length=32, seed=1)
        self.run_transform_test(spans.preprocessor, packed_features())

    def test_spans_are_contiguous_runs(self):
        spans = SpanMasking(ST, sequence_length=64, seed=0,
                            selection_rate=0.3, count_mode="exact_ceil",
                            geometric_p=0.1)
        x, _, w = spans(packed_features(batch=16, length=64))
        # exact_ceil: ceil(0.3 * 59) tokens a row, in spans (mean about 7
        # words at p=0.1), so far fewer runs than tokens.
        self.assertTrue(np.all(np.sum(w, axis=1) == 18))
        positions = np.sort(x["mask_positions"].numpy(), axis=1)
        runs = np.sum(np.diff(positions, axis=1) != 1, axis=1) + 1
        self.assertLess(runs.mean(), 9)

    def test_config_hooks_and_layer_arguments(self):
        spans = objectives.get(
            objectives.bind_vocabulary("span_masking", tiny_vocabulary()),
            special_tokens=ST, sequence_length=32)
        config = spans.get_config()
        self.assertEqual(config["geometric_p"], 0.2)
        self.assertEqual(config["max_span_length"], 10)
        # SpanBERT's spans are of whole words: the `##` ids always bound.
        self.assertEqual(config["continuation_token_ids"],
                         [i for i, t in enumerate(tiny_vocabulary())
                          if t.startswith("##")])
        clone = SpanMasking.from_config(config)
        self.assertEqual(clone.get_config(), config)
        self.assertEqual(spans.search_space, {"geometric_p": [0.1, 0.2, 0.3]})
        self.assertEqual(spans.sentence_scoring, "masked_pll")
        # MaskedLM binds them only for whole-word masking.
        self.assertEqual(MaskedLM.bind_vocabulary({}, tiny_vocabulary()), {})

    def test_bad_arguments_name_themselves(self):
        with self.assertRaisesRegex(ValueError, "geometric_p"):
            SpanMasking(ST, geometric_p=0.0)
        with self.assertRaisesRegex(ValueError, "max_span_length"):
            SpanMasking(ST, max_span_length=0)
