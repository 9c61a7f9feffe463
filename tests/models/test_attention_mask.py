import keras
import numpy as np
import pytest

from keras_objectives.models.attention_mask import AttentionMask
from keras_objectives.models.attention_mask import PositionIds
from keras_objectives.models.attention_mask import compute_attention_mask
from keras_objectives.models.attention_mask import compute_position_ids
from tests.test_case import TestCase


def _mask(*args, **kwargs):
    out = compute_attention_mask(*args, **kwargs)
    return keras.ops.convert_to_numpy(out).astype(int)


# Four real tokens, one padding token.
PADDING = np.array([[1, 1, 1, 1, 0]])


class AttentionMaskTest(TestCase):
    def test_bidirectional_masks_only_padding_keys(self):
        expected = np.array([[1, 1, 1, 1, 0]] * 5)
        self.assertAllEqual(_mask(PADDING, "bidirectional")[0], expected)

    def test_causal(self):
        expected = np.array(
            [
                [1, 0, 0, 0, 0],
                [1, 1, 0, 0, 0],
                [1, 1, 1, 0, 0],
                [1, 1, 1, 1, 0],
                [1, 1, 1, 1, 0],
            ]
        )
        self.assertAllEqual(_mask(PADDING, "causal")[0], expected)

    def test_prefix(self):
        prefix = np.array([[1, 1, 0, 0, 0]])
        expected = np.array(
            [
                [1, 1, 0, 0, 0],
                [1, 1, 0, 0, 0],
                [1, 1, 1, 0, 0],
                [1, 1, 1, 1, 0],
                [1, 1, 1, 1, 0],
            ]
        )
        self.assertAllEqual(
            _mask(PADDING, "prefix", prefix_mask=prefix)[0], expected
        )

    def test_prefix_expresses_causal_and_bidirectional(self):
        empty = np.zeros_like(PADDING)
        full = np.ones_like(PADDING)
        self.assertAllEqual(
            _mask(PADDING, "prefix", prefix_mask=empty),
            _mask(PADDING, "causal"),
        )
        self.assertAllEqual(
            _mask(PADDING, "prefix", prefix_mask=full),
            _mask(PADDING, "bidirectional"),
        )

    def test_document_masking_bidirectional(self):
        docs = np.array([[0, 0, 1, 1, 2]])
        expected = np.array(
            [
                [1, 1, 0, 0, 0],
                [1, 1, 0, 0, 0],
                [0, 0, 1, 1, 0],
                [0, 0, 1, 1, 0],
                [0, 0, 0, 0, 0],
            ]
        )
        self.assertAllEqual(
            _mask(PADDING, "bidirectional", document_ids=docs)[0], expected
        )

    def test_document_masking_causal_and_prefix(self):
        padding = np.ones((1, 5))
        docs = np.array([[0, 0, 0, 1, 1]])
        causal = np.array(
            [
                [1, 0, 0, 0, 0],
                [1, 1, 0, 0, 0],
                [1, 1, 1, 0, 0],
                [0, 0, 0, 1, 0],
                [0, 0, 0, 1, 1],
            ]
        )
        self.assertAllEqual(
            _mask(padding, "causal", document_ids=docs)[0], causal
        )
        # A prefix that spans the document boundary stays block-diagonal.
        prefix = np.array([[1, 1, 0, 1, 1]])
        expected = np.array(
            [
                [1, 1, 0, 0, 0],
                [1, 1, 0, 0, 0],
                [1, 1, 1, 0, 0],
                [0, 0, 0, 1, 1],
                [0, 0, 0, 1, 1],
            ]
        )
        self.assertAllEqual(
            _mask(padding, "prefix", prefix_mask=prefix, document_ids=docs)[
                0
            ],
            expected,
        )

    def test_batched_rows_are_independent(self):
        padding = np.array([[1, 1, 1], [1, 1, 0]])
        prefix = np.array([[1, 0, 0], [1, 1, 0]])
        mask = _mask(padding, "prefix", prefix_mask=prefix)
        self.assertAllEqual(mask[0], [[1, 0, 0], [1, 1, 0], [1, 1, 1]])
        self.assertAllEqual(mask[1], [[1, 1, 0], [1, 1, 0], [1, 1, 0]])

    def test_prefix_mode_requires_prefix_mask(self):
        with pytest.raises(ValueError, match="prefix_mask"):
            compute_attention_mask(PADDING, "prefix")

    def test_invalid_mode(self):
        with pytest.raises(ValueError, match="attention_mode"):
            compute_attention_mask(PADDING, "sideways")

    def test_position_ids(self):
        padding = np.ones((2, 6))
        self.assertAllEqual(
            compute_position_ids(padding), [list(range(6))] * 2
        )
        docs = np.array([[0, 0, 1, 1, 1, 2], [0, 1, 2, 3, 3, 3]])
        self.assertAllEqual(
            compute_position_ids(padding, docs),
            [[0, 1, 0, 1, 2, 0], [0, 0, 0, 0, 1, 2]],
        )

    def test_layers_check_length_and_serialize(self):
        layer = AttentionMask("causal", max_sequence_length=4)
        self.assertEqual(
            AttentionMask.from_config(layer.get_config()).get_config(),
            layer.get_config(),
        )
        self.assertEqual(tuple(layer(np.ones((2, 4))).shape), (2, 4, 4))
        with pytest.raises(ValueError, match="max_sequence_length"):
            layer(np.ones((2, 5)))
        with pytest.raises(ValueError, match="max_sequence_length"):
            layer(keras.Input((5,)))
        positions = PositionIds(max_sequence_length=4)
        with pytest.raises(ValueError, match="max_sequence_length"):
            positions(np.ones((2, 5)))
