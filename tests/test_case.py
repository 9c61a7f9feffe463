"""The shared TestCase: `run_*_test` helpers every transform test uses."""

import keras
import numpy as np
import tensorflow as tf

from keras_objectives import distribute
from keras_objectives.data.special_tokens import SpecialTokens
from keras_objectives.data.special_tokens import reserved_tokens


def two_cpus():
    """The process's one `MirroredStrategy` over the two logical CPUs.

    Tests share it (through `distribute.get_strategy`'s cache) because two
    strategies over the same devices would reuse collective keys.
    """
    return distribute.get_strategy("mirrored", devices=["/cpu:0", "/cpu:1"])


def tiny_vocabulary(size=200):
    """A keras_objectives vocabulary: reserved tokens, words and `##` pieces."""
    words = [f"w{i}" for i in range(size - len(reserved_tokens()))]
    # Every 4th word is a continuation piece, for whole-word tests.
    words = [f"##{w}" if i % 4 == 3 else w for i, w in enumerate(words)]
    return reserved_tokens() + words


def tiny_special_tokens(size=200):
    return SpecialTokens.from_vocabulary(tiny_vocabulary(size))


def packed_features(batch=8, length=32, vocabulary_size=200, seed=0,
                    num_padding=3, num_reserved=111):
    """Random packed features: `[CLS] ... [SEP]` rows with trailing padding."""
    rng = np.random.default_rng(seed)
    token_ids = rng.integers(num_reserved, vocabulary_size, (batch, length))
    token_ids[:, 0] = 2  # [CLS]
    valid = length - num_padding
    token_ids[:, valid - 1] = 3  # [SEP]
    token_ids[:, valid:] = 0
    padding_mask = np.arange(length)[None, :] < valid
    padding_mask = np.broadcast_to(padding_mask, (batch, length))
    return {
        "token_ids": tf.constant(token_ids, tf.int32),
        "padding_mask": tf.constant(padding_mask),
        "example_ids": tf.range(batch, dtype=tf.int64),
        "epoch": tf.zeros([batch], tf.int64),
    }


def _assert_nested_equal(a, b):
    tf.nest.assert_same_structure(a, b)
    for x, y in zip(tf.nest.flatten(a), tf.nest.flatten(b), strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


class TestCase(tf.test.TestCase):
    def run_transform_test(self, layer, features, random=True):
        """The Keras preprocessing contract for a `SeededTransform`.

        Checks: config round trip (with the seed), the three call paths
        agree exactly (direct, `ds.map` unbatched, `ds.batch(n).map`), the
        output does not depend on `num_parallel_calls`, another seed or epoch
        changes it (leaves it unchanged for a transform that draws nothing,
        `random=False`), and batched output shapes are static.
        """
        # Serialization.
        config = layer.get_config()
        self.assertIn("seed", config)
        clone = layer.__class__.from_config(config)
        self.assertEqual(clone.get_config(), config)
        revived = keras.saving.deserialize_keras_object(
            keras.saving.serialize_keras_object(layer)
        )
        self.assertEqual(revived.get_config(), config)

        direct = layer(features)
        _assert_nested_equal(direct, clone(features))

        # Unbatched map, then batch == batched map == direct call.
        batch = int(features["token_ids"].shape[0])
        ds = tf.data.Dataset.from_tensor_slices(features)
        unbatched = next(iter(ds.map(layer).batch(batch)))
        _assert_nested_equal(direct, unbatched)
        for calls in (1, 4):
            batched = next(
                iter(ds.batch(batch).map(layer, num_parallel_calls=calls))
            )
            _assert_nested_equal(direct, batched)

        # Static shapes in the batched graph.
        spec = ds.batch(batch, drop_remainder=True).map(layer).element_spec
        for s in tf.nest.flatten(spec):
            self.assertTrue(
                s.shape.is_fully_defined(), f"dynamic shape {s.shape}"
            )

        # Other seed / other epoch => different output.
        other = layer.__class__.from_config(
            {**config, "seed": config["seed"] + 1})
        later = dict(features, epoch=features["epoch"] + 1)
        for changed in (other(features), layer(later)):
            self.assertEqual(_all_equal(direct, changed), not random)
        return direct

    def run_saving_test(self, model, x):
        """`.keras` round trip gives identical predictions."""
        path = self.get_temp_dir() + "/model.keras"
        model.save(path)
        restored = keras.models.load_model(path)
        _assert_nested_equal(model.predict(x, verbose=0),
                             restored.predict(x, verbose=0))
        return restored


def _all_equal(a, b):
    return all(
        np.array_equal(np.asarray(x), np.asarray(y))
        for x, y in zip(tf.nest.flatten(a), tf.nest.flatten(b), strict=True)
    )
