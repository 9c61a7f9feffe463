import json
import os

import keras
import keras_hub
import numpy as np
import pytest

from keras_objectives.api_export import EXPORTED
from keras_objectives.models import TransformerBody
from tests.test_case import TestCase

VOCAB = 50
LENGTH = 12


def _body(**kwargs):
    args = dict(
        vocabulary_size=VOCAB,
        num_layers=2,
        num_heads=2,
        hidden_dim=32,
        intermediate_dim=64,
        max_sequence_length=16,
    )
    args.update(kwargs)
    return TransformerBody(**args)


def _inputs(batch=2, seed=0, **extra):
    rng = np.random.default_rng(seed)
    x = {
        "token_ids": rng.integers(5, VOCAB, (batch, LENGTH)).astype("int32"),
        "padding_mask": np.ones((batch, LENGTH), "int32"),
    }
    x.update(extra)
    return x


def _run(body, x):
    return keras.ops.convert_to_numpy(body(x))


class TransformerBodyTest(TestCase):
    def test_exported(self):
        self.assertIs(
            EXPORTED["keras_objectives.models.TransformerBody"],
            TransformerBody,
        )

    def test_inputs_per_mode(self):
        self.assertEqual(
            sorted(_body().input), ["padding_mask", "token_ids"]
        )
        self.assertEqual(
            sorted(_body(attention_mode="prefix").input),
            ["padding_mask", "prefix_mask", "token_ids"],
        )
        self.assertIn("document_ids", _body(document_masking=True).input)
        self.assertIn("document_ids", _body(reset_position_ids=True).input)

    def test_output_shape_and_token_embedding(self):
        body = _body()
        self.assertEqual(_run(body, _inputs()).shape, (2, LENGTH, 32))
        self.assertIsInstance(
            body.token_embedding, keras_hub.layers.ReversibleEmbedding
        )
        self.assertEqual(body.token_embedding.input_dim, VOCAB)

    def test_extra_features_are_selected_by_name(self):
        # Keras alone would feed a dict with extra keys by position.
        body = _body()
        x = _inputs()
        packed = dict(
            x,
            document_ids=np.zeros((2, LENGTH), "int32"),
            example_ids=np.arange(2),
            epoch=np.zeros(2, "int64"),
        )
        self.assertAllEqual(_run(body, packed), _run(body, x))
        with pytest.raises(ValueError, match="padding_mask"):
            body({"token_ids": x["token_ids"]})

    def test_post_layer_norm_variant(self):
        body = _body(normalize_first=False, activation="relu")
        self.assertIsNone(body.final_layer_norm)
        self.assertIsNotNone(body.embeddings_layer_norm)
        self.assertEqual(_run(body, _inputs()).shape, (2, LENGTH, 32))

    def test_config_round_trip(self):
        body = _body(
            attention_mode="prefix",
            document_masking=True,
            reset_position_ids=True,
            dropout=0.1,
        )
        config = body.get_config()
        json.dumps(config)
        clone = TransformerBody.from_config(config)
        self.assertEqual(clone.get_config(), config)
        self.assertEqual(clone.count_params(), body.count_params())

    def test_argument_validation(self):
        cases = [
            (dict(attention_mode="sideways"), "attention_mode"),
            (dict(hidden_dim=30, num_heads=4), "hidden_dim"),
            (dict(num_layers=0), "num_layers"),
            (dict(dropout=1.0), "dropout"),
            (dict(document_masking="yes"), "document_masking"),
            (dict(activation="not_an_activation"), "activation"),
            (dict(layer_norm_epsilon=0.0), "layer_norm_epsilon"),
        ]
        for kwargs, argument in cases:
            with pytest.raises(ValueError, match=f"`{argument}`"):
                _body(**kwargs)

    def test_sequence_longer_than_max_sequence_length(self):
        body = _body(max_sequence_length=8)
        with pytest.raises(ValueError, match="max_sequence_length=8"):
            body(_inputs())
        with pytest.raises(ValueError, match="max_sequence_length=8"):
            body(
                {
                    "token_ids": keras.Input((LENGTH,), dtype="int32"),
                    "padding_mask": keras.Input((LENGTH,), dtype="int32"),
                }
            )

    def test_causal_isolation(self):
        body = _body(attention_mode="causal")
        x = _inputs()
        base = _run(body, x)
        k = 7
        changed = dict(x, token_ids=x["token_ids"].copy())
        changed["token_ids"][:, k] = (changed["token_ids"][:, k] + 1) % VOCAB
        out = _run(body, changed)
        # Earlier positions never see a later token; later ones do.
        self.assertAllEqual(out[:, :k], base[:, :k])
        self.assertGreater(np.abs(out[:, k:] - base[:, k:]).min(), 0)

    def test_padding_keys_are_ignored(self):
        body = _body()
        padding = np.ones((2, LENGTH), "int32")
        padding[:, 9:] = 0
        x = _inputs(padding_mask=padding)
        changed = dict(x, token_ids=x["token_ids"].copy())
        changed["token_ids"][:, 9:] = 0
        self.assertAllClose(
            _run(body, x)[:, :9], _run(body, changed)[:, :9], atol=1e-6
        )

    def test_prefix_attention(self):
        body = _body(attention_mode="prefix")
        prefix = np.zeros((2, LENGTH), "int32")
        prefix[:, :5] = 1
        x = _inputs(prefix_mask=prefix)
        base = _run(body, x)

        # Changing a prefix token reaches every position, earlier ones too.
        in_prefix = dict(x, token_ids=x["token_ids"].copy())
        in_prefix["token_ids"][:, 3] = (x["token_ids"][:, 3] + 1) % VOCAB
        out = _run(body, in_prefix)
        self.assertGreater(np.abs(out - base).min(), 0)

        # Changing a target token only reaches it and later positions.
        k = 8
        target = dict(x, token_ids=x["token_ids"].copy())
        target["token_ids"][:, k] = (target["token_ids"][:, k] + 1) % VOCAB
        out = _run(body, target)
        self.assertAllEqual(out[:, :k], base[:, :k])
        self.assertGreater(np.abs(out[:, k:] - base[:, k:]).min(), 0)

    def test_prefix_body_with_empty_prefix_is_causal(self):
        prefix_body = _body(attention_mode="prefix")
        causal_body = _body(attention_mode="causal")
        causal_body.set_weights(prefix_body.get_weights())
        x = _inputs()
        self.assertAllClose(
            _run(prefix_body, dict(x, prefix_mask=np.zeros((2, LENGTH)))),
            _run(causal_body, x),
            atol=1e-6,
        )

    def test_document_isolation(self):
        for mode in ("bidirectional", "causal"):
            body = _body(attention_mode=mode, document_masking=True)
            docs = np.array([[0] * 5 + [1] * 7] * 2, "int32")
            x = _inputs(document_ids=docs)
            base = _run(body, x)
            changed = dict(x, token_ids=x["token_ids"].copy())
            changed["token_ids"][:, :5] = (x["token_ids"][:, :5] + 3) % VOCAB
            out = _run(body, changed)
            # Document 2 never sees document 1; document 1 does change.
            self.assertAllClose(out[:, 5:], base[:, 5:], atol=1e-6)
            self.assertGreater(np.abs(out[:, :5] - base[:, :5]).min(), 0)

    def test_document_without_masking_leaks(self):
        # The control: the same edit reaches document 2 without doc masks.
        body = _body()
        x = _inputs()
        changed = dict(x, token_ids=x["token_ids"].copy())
        changed["token_ids"][:, :5] = (x["token_ids"][:, :5] + 3) % VOCAB
        diff = np.abs(_run(body, changed)[:, 5:] - _run(body, x)[:, 5:])
        self.assertGreater(diff.min(), 0)

    def test_reset_position_ids_packed_equals_alone(self):
        body = _body(
            attention_mode="causal",
            document_masking=True,
            reset_position_ids=True,
        )
        x = _inputs(batch=1)
        docs = np.array([[0] * 5 + [1] * 4 + [2] * 3], "int32")
        packed = _run(body, dict(x, document_ids=docs))
        # Document 1 (positions 5..8) alone at the start of a row.
        alone_ids = np.zeros((1, LENGTH), "int32")
        alone_ids[:, :4] = x["token_ids"][:, 5:9]
        padding = np.zeros((1, LENGTH), "int32")
        padding[:, :4] = 1
        alone = _run(
            body,
            {
                "token_ids": alone_ids,
                "padding_mask": padding,
                "document_ids": np.array([[0] * 4 + [1] * 8], "int32"),
            },
        )
        self.assertAllClose(packed[:, 5:9], alone[:, :4], atol=1e-5)
        # Without the reset, positions differ and so do the outputs.
        no_reset = _body(attention_mode="causal", document_masking=True)
        no_reset.set_weights(body.get_weights())
        shifted = _run(no_reset, dict(x, document_ids=docs))
        self.assertGreater(np.abs(shifted[:, 5:9] - alone[:, :4]).max(), 1e-3)

    def test_saving(self):
        body = _body(attention_mode="prefix", document_masking=True)
        prefix = np.zeros((2, LENGTH), "int32")
        prefix[:, :4] = 1
        x = _inputs(prefix_mask=prefix, document_ids=np.zeros((2, LENGTH)))
        restored = self.run_saving_test(body, x)
        self.assertIsInstance(restored, TransformerBody)
        self.assertEqual(restored.get_config(), body.get_config())

    def test_preset_round_trip(self):
        body = _body(attention_mode="causal", reset_position_ids=True)
        preset = os.path.join(self.get_temp_dir(), "body_preset")
        body.save_to_preset(preset)
        with open(os.path.join(preset, "config.json")) as f:
            self.assertEqual(
                json.load(f)["registered_name"],
                "keras_objectives>TransformerBody",
            )
        x = _inputs(document_ids=np.zeros((2, LENGTH), "int32"))
        for cls in (keras_hub.models.Backbone, TransformerBody):
            restored = cls.from_preset(preset)
            self.assertIsInstance(restored, TransformerBody)
            self.assertEqual(restored.get_config(), body.get_config())
            self.assertAllEqual(_run(restored, x), _run(body, x))
