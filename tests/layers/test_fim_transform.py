import numpy as np
import pytest
import tensorflow as tf

from keras_objectives.api_export import EXPORTED
from keras_objectives.layers.fim_transform import FIMTransform
from tests.test_case import TestCase
from tests.test_case import packed_features

PRE, MID, SUF, SEP = 8, 9, 10, 3


def _layer(**kwargs):
    kwargs.setdefault("seed", 1)
    return FIMTransform(prefix_token_id=PRE, middle_token_id=MID,
                        suffix_token_id=SUF, **kwargs)


def _undo(row):
    """Rows with one rearranged span of text: restore the plain order."""
    row = [int(t) for t in row]
    if PRE not in row:
        return row
    i_pre, i_suf, i_mid = row.index(PRE), row.index(SUF), row.index(MID)
    end = row.index(SEP, i_mid) if SEP in row[i_mid:] else len(row)
    return (row[:i_pre] + row[i_pre + 1:i_suf] + row[i_mid + 1:end]
            + row[i_suf + 1:i_mid] + row[end:])


class FIMTransformTest(TestCase):
    def test_exported(self):
        self.assertIs(EXPORTED["keras_objectives.layers.FIMTransform"],
                      FIMTransform)

    def test_transform_contract(self):
        features = packed_features(batch=8, length=24)
        out = self.run_transform_test(
            _layer(document_boundary_token_ids=[2, 3]), features)
        self.assertEqual(out["token_ids"].shape, (8, 27))

    def test_golden_document_level(self):
        tokens = tf.constant([2, 120, 121, 122, 123, 3, 130, 131, 3, 0])
        features = {"token_ids": tokens, "padding_mask": tokens != 0}
        layer = _layer(document_boundary_token_ids=[2, 3], fim_rate=1.0,
                       seed=11, output_length=16)
        out = layer(features)["token_ids"]
        # Document 1: prefix 120, middle 121, suffix 122 123 (PSM); its
        # [SEP] ends the middle. Document 2: empty suffix.
        self.assertAllEqual(
            out,
            [2, PRE, 120, SUF, 122, 123, MID, 121, 3,
             PRE, SUF, MID, 130, 131, 3, 0],
        )
        # The default length (input + 3) has room for one rearranged
        # document and the padding: the row end is cut.
        short = _layer(document_boundary_token_ids=[2, 3], fim_rate=1.0,
                       seed=11)(features)
        self.assertAllEqual(short["token_ids"], out[:13])
        self.assertTrue(np.asarray(short["padding_mask"]).all())

    def test_undo_rebuilds_rows(self):
        features = packed_features(batch=32, length=20, num_padding=4)
        out = _layer(fim_rate=0.5)(features)
        original = np.asarray(features["token_ids"])
        tokens = np.asarray(out["token_ids"])
        mask = np.asarray(out["padding_mask"])
        for row, m, before in zip(tokens, mask, original, strict=True):
            self.assertEqual(_undo(row[m]), before[before != 0].tolist())

    def test_causal_lm_form(self):
        features = packed_features(batch=4, length=13)
        full = _layer(fim_rate=0.5)(features)
        x, y, w = _layer(fim_rate=0.5, form="causal_lm")(features)
        self.assertEqual(sorted(x), ["padding_mask", "token_ids"])
        self.assertAllEqual(x["token_ids"], full["token_ids"][:, :-1])
        self.assertAllEqual(y, full["token_ids"][:, 1:])
        self.assertAllEqual(w, tf.cast(full["padding_mask"][:, 1:],
                                       tf.float32))
        docs = dict(features, document_ids=tf.zeros([4, 13], tf.int32))
        x, _, _ = _layer(form="causal_lm")(docs)
        self.assertEqual(x["document_ids"].shape, (4, 15))

    def test_invalid_arguments(self):
        with pytest.raises(ValueError, match="fim_rate"):
            _layer(fim_rate=1.5)
        with pytest.raises(ValueError, match="spm_rate"):
            _layer(spm_rate=-0.1)
        with pytest.raises(ValueError, match="form"):
            _layer(form="decoder")
        with pytest.raises(ValueError, match="document_boundary_token_ids"):
            _layer(document_boundary_token_ids=3)
