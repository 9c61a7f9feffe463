import keras
import keras_hub
import numpy as np
import pytest

from keras_objectives.api_export import EXPORTED
from keras_objectives.layers.lm_head import LMHead
from tests.test_case import TestCase


def _np(x):
    return keras.ops.convert_to_numpy(x)


def _embedding(vocab=12, dim=4):
    embedding = keras_hub.layers.ReversibleEmbedding(vocab, dim)
    embedding.build((None, None))
    return embedding


class LMHeadTest(TestCase):
    def setUp(self):
        super().setUp()
        rng = np.random.default_rng(0)
        self.hidden = rng.normal(size=(2, 5, 4)).astype("float32")

    def test_exported(self):
        self.assertIs(EXPORTED["keras_objectives.layers.LMHead"], LMHead)

    def test_tied_logits_at_every_position(self):
        embedding = _embedding()
        head = LMHead(token_embedding=embedding)
        logits = _np(head(self.hidden))
        self.assertEqual(logits.shape, (2, 5, 12))
        head.bias.assign(np.arange(12, dtype="float32"))
        expected = self.hidden @ _np(embedding.embeddings).T + np.arange(12)
        self.assertAllClose(_np(head(self.hidden)), expected, atol=1e-5)
        # Tied: no kernel of its own, only the bias.
        self.assertEqual(
            [w.path for w in head.trainable_weights if "bias" not in w.path],
            [embedding.embeddings.path],
        )

    def test_gathered_positions_equal_gathered_full_logits(self):
        for kwargs in ({}, {"intermediate_activation": "gelu"}):
            head = LMHead(token_embedding=_embedding(), **kwargs)
            full = _np(head(self.hidden))
            positions = np.array([[4, 0, 2], [1, 1, 3]])
            gathered = _np(head(self.hidden, mask_positions=positions))
            self.assertEqual(gathered.shape, (2, 3, 12))
            expected = np.take_along_axis(full, positions[..., None], axis=1)
            self.assertAllClose(gathered, expected, atol=1e-5)

    def test_untied_without_bias(self):
        head = LMHead(vocabulary_size=7, use_bias=False)
        logits = _np(head(self.hidden))
        self.assertAllClose(logits, self.hidden @ _np(head.kernel), atol=1e-5)
        self.assertEqual(len(head.trainable_weights), 1)

    def test_symbolic_shapes(self):
        head = LMHead(token_embedding=_embedding())
        hidden = keras.Input((5, 4))
        positions = keras.Input((3,), dtype="int32")
        self.assertEqual(tuple(head(hidden).shape), (None, 5, 12))
        self.assertEqual(
            tuple(head(hidden, mask_positions=positions).shape),
            (None, 3, 12),
        )

    def test_errors(self):
        with pytest.raises(ValueError, match="`vocabulary_size`"):
            LMHead()
        with pytest.raises(ValueError, match="`vocabulary_size`"):
            LMHead(vocabulary_size=5, token_embedding=_embedding())
        head = LMHead(token_embedding=_embedding(dim=4))
        with pytest.raises(ValueError, match="output_dim"):
            head(np.zeros((1, 2, 8), "float32"))

    def test_config_and_saving(self):
        head = LMHead(
            token_embedding=_embedding(),
            intermediate_activation="gelu",
            use_bias=False,
        )
        config = head.get_config()
        clone = LMHead.from_config(config)
        self.assertEqual(clone.get_config(), config)
        inputs = keras.Input((5, 4))
        model = keras.Model(inputs, LMHead(vocabulary_size=9)(inputs))
        self.run_saving_test(model, self.hidden)
