import keras
import keras_hub
import numpy as np
import pytest

from keras_objectives.models import TransformerBody
from keras_objectives.models import attention_modes
from keras_objectives.models import backbone_outputs
from keras_objectives.models import check_vocabulary
from keras_objectives.models import make_backbone
from keras_objectives.models import required_inputs
from tests.test_case import TestCase
from tests.test_case import tiny_special_tokens

VOCAB = 200
DIMS = dict(
    num_layers=2,
    num_heads=2,
    hidden_dim=32,
    intermediate_dim=64,
    max_sequence_length=16,
    dropout=0.0,
)


def _x(length=10):
    rng = np.random.default_rng(0)
    padding = np.ones((2, length), bool)
    padding[1, 7:] = False
    return {
        "token_ids": rng.integers(111, VOCAB, (2, length)).astype("int32"),
        "padding_mask": padding,
    }


def _np(x):
    return keras.ops.convert_to_numpy(x)


class AttentionModesTest(TestCase):
    def test_modes(self):
        self.assertEqual(
            attention_modes(make_backbone("bert", VOCAB, **DIMS)),
            {"bidirectional"},
        )
        self.assertEqual(
            attention_modes(make_backbone("gpt2", VOCAB, "causal", **DIMS)),
            {"causal"},
        )
        for mode in ("bidirectional", "causal"):
            body = make_backbone("body", VOCAB, mode, **DIMS)
            self.assertEqual(attention_modes(body), {mode})
        prefix = make_backbone("body", VOCAB, "prefix", **DIMS)
        self.assertEqual(
            attention_modes(prefix), {"prefix", "causal", "bidirectional"}
        )

    def test_encoder_decoder_backbones(self):
        t5 = keras_hub.models.T5Backbone(
            vocabulary_size=VOCAB,
            num_layers=1,
            num_heads=2,
            hidden_dim=16,
            intermediate_dim=32,
        )
        self.assertEqual(attention_modes(t5), {"encoder_decoder"})
        bart = keras_hub.models.BartBackbone(
            vocabulary_size=VOCAB,
            num_layers=1,
            num_heads=2,
            hidden_dim=16,
            intermediate_dim=32,
            max_sequence_length=16,
        )
        self.assertEqual(attention_modes(bart), {"encoder_decoder"})
        x = _x()
        feed = {
            "encoder_token_ids": x["token_ids"],
            "encoder_padding_mask": x["padding_mask"],
            "decoder_token_ids": x["token_ids"][:, :6],
            "decoder_padding_mask": x["padding_mask"][:, :6],
        }
        out = backbone_outputs(bart, feed, "encoder_decoder")
        self.assertAllClose(
            _np(out), _np(bart(feed)["decoder_sequence_output"])
        )
        with pytest.raises(ValueError, match="BartBackbone"):
            backbone_outputs(bart, x, "causal")


class BackboneOutputsTest(TestCase):
    def test_bert_gets_zero_segment_ids(self):
        bert = make_backbone("bert", VOCAB, **DIMS)
        x = _x()
        out = backbone_outputs(bert, x, "bidirectional")
        expected = bert(
            {**x, "segment_ids": np.zeros_like(x["token_ids"])}
        )["sequence_output"]
        self.assertAllClose(_np(out), _np(expected))
        self.assertEqual(
            required_inputs(bert, "bidirectional"),
            ("token_ids", "padding_mask"),
        )

    def test_gpt2(self):
        gpt2 = make_backbone("gpt2", VOCAB, "causal", **DIMS)
        x = _x()
        # Extra features are ignored.
        out = backbone_outputs(
            gpt2, {**x, "mask_positions": np.zeros((2, 3), "int32")}, "causal"
        )
        self.assertAllClose(_np(out), _np(gpt2(x)))

    def test_symbolic_inputs(self):
        gpt2 = make_backbone("gpt2", VOCAB, "causal", **DIMS)
        inputs = {
            "token_ids": keras.Input((10,), dtype="int32"),
            "padding_mask": keras.Input((10,), dtype="bool"),
        }
        out = backbone_outputs(gpt2, inputs, "causal")
        self.assertEqual(tuple(out.shape), (None, 10, 32))

    def test_prefix_body_fills_prefix_mask(self):
        body = make_backbone("body", VOCAB, "prefix", **DIMS)
        x = _x()
        length = x["token_ids"].shape[1]
        for mode, fill in (("causal", 0), ("bidirectional", 1)):
            out = backbone_outputs(body, x, mode)
            expected = body({**x, "prefix_mask": np.full((2, length), fill)})
            self.assertAllClose(_np(out), _np(expected))
            # The mode wins over a prefix mask in the inputs.
            given = {**x, "prefix_mask": np.full((2, length), 1 - fill)}
            self.assertAllClose(
                _np(backbone_outputs(body, given, mode)), _np(expected)
            )
        prefix = np.zeros((2, length), "int32")
        prefix[:, :4] = 1
        out = backbone_outputs(body, {**x, "prefix_mask": prefix}, "prefix")
        self.assertAllClose(
            _np(out), _np(body({**x, "prefix_mask": prefix}))
        )
        with pytest.raises(ValueError, match="`prefix_mask`"):
            backbone_outputs(body, x, "prefix")

    def test_missing_document_ids(self):
        body = make_backbone(
            "body", VOCAB, "causal", document_masking=True, **DIMS
        )
        self.assertEqual(
            required_inputs(body, "causal"),
            ("token_ids", "padding_mask", "document_ids"),
        )
        with pytest.raises(ValueError, match="`document_ids`"):
            backbone_outputs(body, _x(), "causal")

    def test_wrong_mode_errors(self):
        bert = make_backbone("bert", VOCAB, **DIMS)
        with pytest.raises(ValueError) as info:
            backbone_outputs(bert, _x(), "causal")
        message = str(info.value)
        for part in ("BertBackbone", "causal", "TransformerBody",
                     "GPT2Backbone"):
            self.assertIn(part, message)
        gpt2 = make_backbone("gpt2", VOCAB, "causal", **DIMS)
        for mode in ("bidirectional", "prefix"):
            with pytest.raises(ValueError, match="GPT2Backbone"):
                backbone_outputs(gpt2, _x(), mode)
        causal_body = make_backbone("body", VOCAB, "causal", **DIMS)
        with pytest.raises(ValueError, match="'prefix'"):
            backbone_outputs(causal_body, _x(), "prefix")


class MakeBackboneTest(TestCase):
    def test_same_dims_for_every_kind(self):
        kinds = {
            "body": ("causal", TransformerBody),
            "bert": ("bidirectional", keras_hub.models.BertBackbone),
            "gpt2": ("causal", keras_hub.models.GPT2Backbone),
        }
        for kind, (mode, cls) in kinds.items():
            backbone = make_backbone(kind, VOCAB, mode, **DIMS)
            self.assertIsInstance(backbone, cls)
            for name, value in DIMS.items():
                self.assertEqual(getattr(backbone, name), value)
            self.assertEqual(backbone.vocabulary_size, VOCAB)

    def test_errors(self):
        with pytest.raises(ValueError, match="BertBackbone"):
            make_backbone("bert", VOCAB, "causal", **DIMS)
        with pytest.raises(ValueError, match="document_masking"):
            make_backbone("gpt2", VOCAB, "causal", document_masking=True,
                          **DIMS)
        with pytest.raises(ValueError, match="normalize_first"):
            make_backbone("bert", VOCAB, normalize_first=False, **DIMS)
        with pytest.raises(ValueError, match="kind"):
            make_backbone(3, VOCAB, **DIMS)

    def test_local_preset(self):
        body = make_backbone("body", VOCAB, "prefix", **DIMS)
        preset = self.get_temp_dir() + "/preset"
        body.save_to_preset(preset)
        loaded = make_backbone(preset, VOCAB, "causal")
        self.assertEqual(loaded.get_config(), body.get_config())
        with pytest.raises(ValueError, match=r"\(200\).*\(300\)"):
            make_backbone(preset, 300, "causal")


class CheckVocabularyTest(TestCase):
    def test_mismatch_names_both_sizes(self):
        special_tokens = tiny_special_tokens(VOCAB)
        for kind, mode in (("body", "causal"), ("gpt2", "causal"),
                           ("bert", "bidirectional")):
            check_vocabulary(
                make_backbone(kind, VOCAB, mode, **DIMS), special_tokens
            )
            backbone = make_backbone(kind, VOCAB + 8, mode, **DIMS)
            with pytest.raises(ValueError) as info:
                check_vocabulary(backbone, special_tokens)
            self.assertIn(str(VOCAB + 8), str(info.value))
            self.assertIn(str(VOCAB), str(info.value))
