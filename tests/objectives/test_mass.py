"""`MASS`: its lengths, both forms, hooks, accounting and a short fit."""

import numpy as np
import pytest
import tensorflow as tf

from keras_objectives import objectives
from keras_objectives.layers import MASSMasker
from keras_objectives.objectives import MASS
from keras_objectives.objectives import flops
from tests.helpers import fit_lowers_loss
from tests.helpers import tiny_bart
from tests.helpers import tiny_body
from tests.test_case import TestCase
from tests.test_case import packed_features
from tests.test_case import tiny_special_tokens

ST = tiny_special_tokens()


class MASSTest(TestCase):
    def test_the_decoder_stream_holds_the_longest_row_and_fragment(self):
        for length in (8, 32, 100, 128, 512):
            for ratio in (0.1, 0.5, 0.9, 1.0):
                mass = MASS(ST, length, fragment_ratio=ratio)
                raw, k = mass.raw_length, mass.targets_length
                self.assertLessEqual(raw + k, length)
                longer = MASSMasker(mask_token_id=4, fragment_ratio=ratio)
                self.assertGreater(
                    raw + 1 + longer.longest_fragment(raw + 1), length)
        self.assertEqual(MASS(ST, 128).raw_length, 85)

    def test_it_is_its_layer(self):
        mass = MASS(ST, 32, seed=3, fragment_ratio=0.3)
        features = packed_features(length=mass.raw_length)
        x, y, w = mass(features)
        layer = MASSMasker(mask_token_id=ST.mask_id, fragment_ratio=0.3,
                           pad_token_id=ST.pad_id, form="decoder",
                           sequence_length=32, seed=3)
        expected = layer(features)
        tf.nest.map_structure(np.testing.assert_array_equal,
                              (x, y, w), expected)
        self.assertEqual(x["token_ids"].shape, (8, 32))

    def test_encoder_decoder_form(self):
        mass = MASS(ST, 32, form="encoder_decoder")
        self.assertEqual((mass.raw_length, mass.targets_length), (32, 16))
        self.assertEqual(mass.attention_mode, "encoder_decoder")
        x, y, w = mass(packed_features(length=32))
        self.assertEqual(x["encoder_token_ids"].shape, (8, 32))
        self.assertEqual(y.shape, (8, 16))
        np.testing.assert_array_equal(w.numpy().sum(1), 15)  # 29 real.

    def test_hooks_registry_and_config(self):
        mass = objectives.get("mass", special_tokens=ST, sequence_length=32,
                              seed=1)
        self.assertIsInstance(mass, MASS)
        self.assertEqual(mass.get_config()["fragment_ratio"], 0.5)
        clone = MASS.from_config(mass.get_config())
        self.assertEqual(clone.get_config(), mass.get_config())
        self.assertFalse(mass.defines_next_token)
        self.assertIsNone(mass.sentence_scoring)
        self.assertEqual(mass.search_space,
                         {"fragment_ratio": [0.1, 0.3, 0.5, 0.7, 0.9]})

    def test_accounting(self):
        dims = flops.ModelDims(num_layers=2, hidden_dim=32,
                               intermediate_dim=64, vocabulary_size=200,
                               sequence_length=32, non_embedding_params=1000)
        out = MASS(ST, 32).accounting(dims, batch_size=4)
        # 32 = a 21-token row and its 11-token fragment.
        self.assertEqual(out["tokens_per_step"], 4 * 32)
        self.assertEqual(out["loss_positions_per_step"], 4 * 11)

    def test_bad_arguments_name_themselves(self):
        with self.assertRaisesRegex(ValueError, "fragment_ratio"):
            MASS(ST, 32, fragment_ratio=0)
        with self.assertRaisesRegex(ValueError, "sequence_length"):
            MASS(ST, 2)
        with self.assertRaisesRegex(ValueError, "form"):
            MASS(ST, 32, form="encoder")

    def test_fit_decoder_form(self):
        fit_lowers_loss(self, MASS(ST, 32, seed=0), tiny_body)

    @pytest.mark.large
    def test_fit_encoder_decoder_form_on_bart(self):
        fit_lowers_loss(self, MASS(ST, 32, form="encoder_decoder"),
                        tiny_bart)
