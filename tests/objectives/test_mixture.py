"""Mixture, UL2, hybrid CLM+MLM and rate schedules."""

import json
import math
import os

import numpy as np
import pytest
import tensorflow as tf

from keras_objectives import cli
from keras_objectives import data
from keras_objectives import objectives
from keras_objectives import training
from keras_objectives.layers.mixture_transform import MixtureTransform
from keras_objectives.objectives import flops
from keras_objectives.objectives.mixture import UL2
from keras_objectives.objectives.mixture import Mixture
from tests.helpers import fit_lowers_loss
from tests.helpers import tiny_body
from tests.test_case import TestCase
from tests.test_case import packed_features
from tests.test_case import tiny_special_tokens

ST = tiny_special_tokens()


def within_binomial(test, count, n, p, sigmas=4.0):
    bound = sigmas * math.sqrt(n * p * (1 - p))
    test.assertLessEqual(abs(count - n * p), bound,
                         f"{count} of {n} vs p={p}")


def hybrid(**kwargs):
    args = dict(members=["causal_lm", "masked_lm"], rates=[0.75, 0.25])
    args.update(kwargs)
    return Mixture(ST, sequence_length=32, seed=3, **args)


class MixtureTest(TestCase):
    def test_transform_contract(self):
        mixture = hybrid()
        features = packed_features(batch=6, length=mixture.raw_length)
        self.run_transform_test(mixture.preprocessor, features)

    def test_member_frequencies_within_binomial_bounds(self):
        mixture = hybrid()
        n = 4000
        features = packed_features(batch=n, length=mixture.raw_length)
        x, _, _ = mixture(features)
        picked = x["mixture_ids"].numpy()
        within_binomial(self, (picked == 1).sum(), n, 0.25)

    def test_members_keep_their_semantics(self):
        mixture = hybrid()
        features = packed_features(batch=64, length=mixture.raw_length,
                                   num_padding=4)
        x, y, w = mixture(features)
        ids = x["mixture_ids"].numpy()
        prefix = x["prefix_mask"].numpy()
        tokens = features["token_ids"].numpy()
        for row in np.where(ids == 0)[0]:  # causal: empty prefix, shifted
            self.assertFalse(prefix[row].any())
            np.testing.assert_array_equal(y.numpy()[row], tokens[row, 1:33])
        for row in np.where(ids == 1)[0]:  # MLM: in place, bidirectional
            weighted = w.numpy()[row] > 0
            self.assertTrue(weighted.any())
            np.testing.assert_array_equal(
                y.numpy()[row][weighted], tokens[row, :32][weighted])
            np.testing.assert_array_equal(
                prefix[row], x["padding_mask"].numpy()[row])
        self.assertEqual(x["token_ids"].shape, (64, 32))

    def test_mode_tokens_are_prepended(self):
        mixture = hybrid(mode_tokens=["[S2S]", "[NLU]"])
        features = packed_features(batch=32, length=mixture.raw_length)
        x, y, w = mixture(features)
        first = x["token_ids"].numpy()[:, 0]
        expected = np.where(x["mixture_ids"].numpy() == 0,
                            ST.mode_ids["[S2S]"], ST.mode_ids["[NLU]"])
        np.testing.assert_array_equal(first, expected)
        self.assertTrue((w.numpy()[:, 0] == 0).all())
        self.assertEqual(x["token_ids"].shape[-1], 32)

    def test_schedule_moves_the_rates(self):
        mixture = Mixture.linear_schedule(
            ST, 32, 0, "masked_lm", "selection_rate", 0.30, 0.15,
            schedule_examples=1000, points=2)
        n = 2000
        features = packed_features(batch=n, length=mixture.raw_length)
        early = dict(features, stream_index=tf.zeros([n], tf.int64))
        late = dict(features, stream_index=tf.fill([n], tf.constant(
            5000, tf.int64)))
        middle = dict(features, stream_index=tf.fill([n], tf.constant(
            500, tf.int64)))
        self.assertTrue((mixture(early)[0]["mixture_ids"] == 0).numpy().all())
        self.assertTrue((mixture(late)[0]["mixture_ids"] == 1).numpy().all())
        within_binomial(
            self, (mixture(middle)[0]["mixture_ids"].numpy() == 1).sum(),
            n, 0.5)
        with self.assertRaisesRegex(ValueError, "stream_index"):
            mixture(features)

    def test_bad_input(self):
        with self.assertRaisesRegex(ValueError, "sum to 1"):
            hybrid(rates=[0.5, 0.6])
        with self.assertRaisesRegex(ValueError, "one rate per member"):
            hybrid(rates=[1.0])
        with self.assertRaisesRegex(ValueError, "decoder-form"):
            hybrid(members=[{"class_name": "span_corruption",
                             "config": {"form": "encoder_decoder"}}],
                   rates=[1.0])
        with self.assertRaisesRegex(ValueError, "mode_tokens"):
            hybrid(mode_tokens=["[XYZ]", None])
        with self.assertRaisesRegex(ValueError, "registered objectives"):
            hybrid(members=["nope", "causal_lm"])

    def test_config_round_trip(self):
        mixture = hybrid(mode_tokens=[None, "[NLU]"])
        clone = objectives.get({"class_name": "mixture",
                                "config": mixture.get_config()})
        self.assertEqual(clone.get_config(), mixture.get_config())
        layer = MixtureTransform.from_config(mixture.preprocessor.get_config())
        features = packed_features(batch=4, length=mixture.raw_length)
        for a, b in zip(tf.nest.flatten(layer(features)),
                        tf.nest.flatten(mixture(features)), strict=True):
            np.testing.assert_array_equal(a.numpy(), b.numpy())

    def test_accounting_matches_hand_calculation(self):
        mixture = hybrid()
        dims = flops.ModelDims(2, 32, 64, ST.vocabulary_size, 32, 10_000)
        got = mixture.accounting(dims, batch_size=8)
        tokens = 8 * 32
        per_token = 2 * 10_000 + 2 * 2 * 32 * 32 * 2
        softmax = 2 * 32 * ST.vocabulary_size
        self.assertEqual(got["tokens_per_step"], tokens)
        self.assertAlmostEqual(got["flops_per_step"],
                               3 * tokens * (per_token + softmax))
        clm = 32  # every position
        mlm = objectives.get("masked_lm", special_tokens=ST,
                             sequence_length=32).expected_selected()
        self.assertAlmostEqual(got["loss_positions_per_step"],
                               8 * (0.75 * clm + 0.25 * mlm))

    def test_fit_lowers_loss_on_the_shared_body(self):
        fit_lowers_loss(self, hybrid(), tiny_body)


class UL2Test(TestCase):
    def test_seven_denoisers_with_mode_tokens(self):
        ul2 = objectives.get("ul2", special_tokens=ST, sequence_length=64,
                             seed=0)
        self.assertIsInstance(ul2, UL2)
        self.assertEqual(len(ul2.members), 7)
        n = 700
        features = packed_features(batch=n, length=ul2.raw_length,
                                   num_padding=0)
        x, y, w = ul2(features)
        ids = x["mixture_ids"].numpy()
        for member in range(7):
            within_binomial(self, (ids == member).sum(), n, 1 / 7)
        modes = x["token_ids"].numpy()[:, 0]
        nlu, nlg, s2s = (ST.mode_ids[t] for t in ("[NLU]", "[NLG]", "[S2S]"))
        expected = np.array([nlu, nlu, nlg, nlg, nlg, nlg, s2s])[ids]
        np.testing.assert_array_equal(modes, expected)
        self.assertEqual(x["token_ids"].shape, (n, 64))
        # The S-denoiser predicts about the last quarter as one span.
        s_rows = ids == 6
        targets = w.numpy()[s_rows].sum(-1)
        self.assertTrue(np.all(targets > 0))

    def test_config_round_trip(self):
        ul2 = UL2(ST, sequence_length=64, seed=1)
        clone = objectives.get({"class_name": "ul2",
                                "config": ul2.get_config()})
        self.assertEqual(clone.members, ul2.members)

    @pytest.mark.large
    def test_fit_lowers_loss(self):
        fit_lowers_loss(self, UL2(ST, sequence_length=64, seed=1),
                        tiny_body)


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def test_a_scheduled_mixture_trains_through_train(tmp_path):
    # The documented schedule, through `keras-objectives train`: the share
    # of masked LM goes from 0 to 1 over the run's 4 x 8 examples.
    steps, batch = 4, 8
    run = str(tmp_path / "run")
    argv = [
        "train", os.path.join(ROOT, "recipes", "hybrid_clm_mlm.py:runlocal"),
        "--workdir", run,
        "--config.objective.config.rates=[1.0, 0.0]",
        "--config.objective.config.final_rates=[0.0, 1.0]",
        f"--config.objective.config.schedule_examples={steps * batch}",
        f"--config.training.steps={steps}",
        f"--config.training.steps_per_checkpoint={steps}",
        f"--config.training.global_batch_size={batch}",
        "--config.training.warmup_steps=0",
        "--config.training.eval_batches=1",
        "--config.training.log_example_ids=True",
        "--config.sequence_length=32", "--config.model.num_layers=1",
        "--config.model.num_heads=1", "--config.model.hidden_dim=16",
        "--config.model.intermediate_dim=32",
    ]
    assert cli.main(argv) == 0
    # The rows the run read, and the member each drew: rebuild its stream.
    with open(os.path.join(run, "config.json")) as f:
        config = json.load(f)
    corpus = training.prepare_corpus(config)
    objective = training.build_objective(config, corpus)
    stream = data.make_dataset(corpus.pack("train", objective.raw_length),
                               batch, seed=config["seed"])
    with open(os.path.join(run, "example_ids.txt")) as f:
        logged = [line.split() for line in f][:steps]
    members = []
    for features, line in zip(stream.take(steps), logged, strict=True):
        ids = [f"{e}:{i}" for e, i in zip(features["epoch"].numpy(),
                                          features["example_ids"].numpy(),
                                          strict=True)]
        assert ids == line  # The stream the run trained on.
        x, _, _ = objective(features)
        members.append(x["mixture_ids"].numpy())
    members = np.concatenate(members)  # 1 = masked LM, in stream order.
    # Position g draws masked LM with probability g / 32: never at g = 0,
    # rarely early, mostly late.
    assert members[0] == 0
    early, late = members[:16].sum(), members[16:].sum()
    assert early < late
    # Expected 3.75 and 11.75 (variances 2.5 and 2.8): 4 sigmas.
    assert abs(early - 3.75) < 4 * math.sqrt(2.5)
    assert abs(late - 11.75) < 4 * math.sqrt(2.8)
