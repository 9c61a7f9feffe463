import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_objectives.layers.gumbel_sampler import GumbelSampler
from tests.test_case import TestCase


def _draw(sampler, logits, calls):
    return np.stack([np.asarray(sampler(logits)) for _ in range(calls)])


class GumbelSamplerTest(TestCase):
    def test_same_seed_same_stream_other_seed_other_stream(self):
        logits = np.zeros((64, 50), "float32")
        a = _draw(GumbelSampler(seed=7), logits, 3)
        b = _draw(GumbelSampler(seed=7), logits, 3)
        c = _draw(GumbelSampler(seed=8), logits, 3)
        np.testing.assert_array_equal(a, b)
        self.assertFalse(np.array_equal(a, c))
        # Successive calls advance the state: fresh noise each step.
        self.assertFalse(np.array_equal(a[0], a[1]))
        self.assertEqual(a.dtype, np.int32)
        self.assertEqual(a.shape, (3, 64))

    def test_frequencies_match_the_categorical(self):
        probs = np.array([0.5, 0.3, 0.15, 0.05])
        n = 20_000
        logits = np.tile(np.log(probs).astype("float32"), (n, 1))
        samples = np.asarray(GumbelSampler(seed=3)(logits))
        counts = np.bincount(samples, minlength=4)
        for k, p in enumerate(probs):
            sigma = np.sqrt(n * p * (1 - p))
            self.assertLess(abs(counts[k] - n * p), 4 * sigma, (k, counts))

    def test_temperature_sharpens(self):
        # At a low temperature the sample is the argmax; at a high one the
        # minority class is drawn far more often than at temperature 1.
        logits = np.tile(np.log([0.6, 0.4]).astype("float32"), (4000, 1))
        cold = np.asarray(GumbelSampler(temperature=1e-3, seed=1)(logits))
        np.testing.assert_array_equal(cold, 0)
        hot = np.asarray(GumbelSampler(temperature=100.0, seed=1)(logits))
        share = hot.mean()  # ~0.499 at T=100, 0.4 at T=1.
        self.assertGreater(share, 0.45)

    def test_no_gradient_through_samples(self):
        logits = tf.Variable(np.zeros((2, 5), "float32"))
        sampler = GumbelSampler(seed=0)
        with tf.GradientTape() as tape:
            ids = sampler(logits)
            out = tf.reduce_sum(tf.cast(ids, tf.float32))
        self.assertIsNone(tape.gradient(out, logits))

    def test_config_and_symbolic_shape(self):
        sampler = GumbelSampler(temperature=0.5, seed=4, name="s")
        config = sampler.get_config()
        self.assertEqual((config["temperature"], config["seed"]), (0.5, 4))
        clone = GumbelSampler.from_config(config)
        logits = np.random.default_rng(0).normal(size=(8, 30)).astype("f4")
        np.testing.assert_array_equal(sampler(logits), clone(logits))
        symbolic = sampler(keras.Input((3, 30)))
        self.assertEqual(tuple(symbolic.shape), (None, 3))
        self.assertEqual(symbolic.dtype, "int32")

    def test_seed_state_round_trips_with_weights(self):
        inputs = keras.Input((10,))
        model = keras.Model(inputs, GumbelSampler(seed=2)(inputs))
        logits = np.zeros((16, 10), "float32")
        model.predict(logits, verbose=0)  # Advance the state once.
        path = self.get_temp_dir() + "/sampler.weights.h5"
        model.save_weights(path)
        expected = model.predict(logits, verbose=0)
        other = keras.Model(inputs, GumbelSampler(seed=2)(inputs))
        other.load_weights(path)
        np.testing.assert_array_equal(other.predict(logits, verbose=0),
                                      expected)

    def test_bad_temperature(self):
        for value in (0.0, -1.0, "hot"):
            with pytest.raises(ValueError, match="`temperature`"):
                GumbelSampler(temperature=value)
