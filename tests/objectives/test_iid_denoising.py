"""IIDDenoising: budgets, run statistics, the overflow policy, training."""

import math

import numpy as np
import pytest
import tensorflow as tf

from keras_objectives import objectives
from keras_objectives.objectives.iid_denoising import IIDDenoising
from keras_objectives.ops import random as kr
from keras_objectives.ops import span_corruption as sc
from keras_objectives.ops.span_lengths import iid_budget
from tests.helpers import fit_lowers_loss
from tests.helpers import tiny_body
from tests.helpers import tiny_t5
from tests.test_case import TestCase
from tests.test_case import packed_features
from tests.test_case import tiny_special_tokens

ST = tiny_special_tokens()


def run_counts(mask):
    mask = np.asarray(mask).astype(int)
    starts = np.diff(np.pad(mask, ((0, 0), (1, 0))), axis=1) == 1
    return starts.sum(1)


class IIDDenoisingTest(TestCase):
    def test_registry_and_config(self):
        objective = objectives.get("iid_denoising", special_tokens=ST,
                                   sequence_length=64, seed=2)
        self.assertIsInstance(objective, IIDDenoising)
        config = objective.get_config()
        self.assertNotIn("mean_noise_span_length", config)
        self.assertEqual(IIDDenoising.from_config(config).get_config(),
                         config)

    def test_lengths(self):
        encdec = IIDDenoising(ST, 128, form="encoder_decoder")
        self.assertEqual((encdec.raw_length, encdec.inputs_length,
                          encdec.targets_length), (127, 128, 58))
        decoder = IIDDenoising(ST, 128)
        self.assertEqual(decoder.raw_length, 87)
        budget = iid_budget(87, 0.15)
        self.assertLessEqual(budget["total_length"], 128)
        self.assertGreater(iid_budget(88, 0.15)["total_length"], 128)

    def test_run_count_moments(self):
        # The budget's mean and variance of the number of noise runs.
        batch, n, p = 4000, 60, 0.15
        mask = sc.iid_noise_mask(kr.example_keys(1, 0, tf.range(batch)),
                                 tf.fill([batch], n), n, p)
        runs = run_counts(mask)
        q = 1 - p
        mean = p + (n - 1) * p * q
        var = (p * q + (n - 1) * p * q * (1 - p * q) - 2 * p * p * q
               - 2 * (n - 2) * (p * q) ** 2)
        self.assertAllClose(runs.mean(), mean,
                            atol=4 * math.sqrt(var / batch))
        # Sample variance within ~4 sigma of its own sampling error.
        self.assertAllClose(runs.var(), var, atol=4 * var * math.sqrt(
            2 / batch) + 0.2)
        noise = np.asarray(mask).mean()
        self.assertAllClose(noise, p, atol=4 * math.sqrt(p * q / (batch * n)))

    def test_budget_rarely_binds(self):
        # Decoder form at 128: the span cap should bind on ~0.1% of rows;
        # check the noise rate stays at the nominal density.
        objective = IIDDenoising(ST, 128, seed=4)
        features = packed_features(batch=256, length=objective.raw_length,
                                   num_padding=0, seed=2)
        x, y, w = objective(features)
        self.assertEqual(y.shape, (256, 128))
        n = objective.raw_length
        inputs_real = tf.reduce_sum(tf.cast(x["prefix_mask"], "int32"), 1) - 1
        targets_real = tf.reduce_sum(w, 1)
        sentinels = np.isin(y.numpy(), ST.sentinel_ids).sum(1)
        # inputs + targets = n + 2 runs + 2 and the runs fit the budget.
        self.assertAllEqual(inputs_real + tf.cast(targets_real, "int32"),
                            n + sentinels + 2)
        self.assertLessEqual(int((n + sentinels + 2).max()), 128)
        # Noise tokens = targets - sentinels/2 - EOS.
        noise = (targets_real.numpy() - sentinels / 2 - 1).sum()
        p = 0.15
        self.assertAllClose(noise / (256 * n), p,
                            atol=4 * math.sqrt(p * (1 - p) / (256 * n)))

    def test_fit_decoder_form(self):
        fit_lowers_loss(self, IIDDenoising(ST, 40, seed=0), tiny_body)

    @pytest.mark.large
    def test_fit_encoder_decoder_form_on_t5(self):
        fit_lowers_loss(self, IIDDenoising(ST, 32, form="encoder_decoder"),
                        tiny_t5)
