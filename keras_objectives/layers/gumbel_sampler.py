"""Seeded Gumbel-max sampling from logits: ELECTRA's generator sampling."""

import keras
from keras import ops

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.utils import check_int
from keras_objectives.utils import invalid

# ELECTRA's `sample_from_softmax` adds this inside both logs so that a
# uniform draw of exactly 0 stays finite.
_EPSILON = 1e-9


@keras_objectives_export("keras_objectives.layers.GumbelSampler")
class GumbelSampler(keras.layers.Layer):
    """Draw one id per row of logits, `softmax(logits / temperature)`.

    Gumbel-max: `argmax(logits / temperature + g)` with
    `g = -log(-log(u))`, `u ~ U[0, 1)`, is an exact sample of the categorical
    distribution `softmax(logits / temperature)`. The noise comes from a
    `keras.random.SeedGenerator`, so a model built with the same `seed`
    draws the same sequence of samples, and the seed state is saved with
    the model. Sampling is not differentiable: the output is an integer id
    and no gradient flows back into the logits (ELECTRA does not back-
    propagate the discriminator loss through the generator's samples).

    Sampling also happens at inference (`training=False`): in ELECTRA the
    samples *are* the corruption, so evaluation samples too.

    Under `tf.distribute` every replica holds a copy of the seed state and
    draws the same noise tensor for its own (different) logits, as Keras'
    `Dropout` does.

    Args:
        temperature: float > 0, divides the logits (ELECTRA: 1.0).
        seed: int, the seed of the `SeedGenerator`.
        **kwargs: `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        logits: float `[..., num_classes]` unnormalized log-probabilities.

    Returns:
        int32 `[...]`, the sampled class of each row.

    Examples:

    >>> import numpy as np
    >>> sampler = GumbelSampler(seed=1)
    >>> logits = np.log(np.array([[0.1, 0.2, 0.7]] * 4, "float32"))
    >>> sampler(logits).shape
    TensorShape([4])
    >>> certain = np.array([[0.0, 100.0, 0.0]], "float32")
    >>> int(sampler(certain)[0])
    1

    Reference:
        - [Clark et al., 2020](https://arxiv.org/abs/2003.10555) (ELECTRA)
        - [Gumbel, 1954; Maddison et al., 2014](
          https://arxiv.org/abs/1411.0030) (Gumbel-max)
    """

    def __init__(self, temperature=1.0, seed=0, **kwargs):
        super().__init__(**kwargs)
        try:
            temperature = float(temperature)
        except (TypeError, ValueError):
            temperature = None
        if temperature is None or not temperature > 0.0:
            raise invalid(
                "temperature",
                temperature,
                "a float > 0",
                "ELECTRA samples at temperature=1.0",
            )
        self.temperature = temperature
        self.seed = check_int("seed", seed, minimum=0)
        self.seed_generator = keras.random.SeedGenerator(
            self.seed, name="gumbel_seed_generator"
        )

    def call(self, logits):
        logits = ops.cast(ops.stop_gradient(logits), "float32")
        uniform = keras.random.uniform(
            ops.shape(logits), dtype="float32", seed=self.seed_generator
        )
        gumbel = -ops.log(-ops.log(uniform + _EPSILON) + _EPSILON)
        return ops.cast(
            ops.argmax(logits / self.temperature + gumbel, axis=-1), "int32"
        )

    # Keras does not save `SeedGenerator` states (a restored `Dropout`
    # restarts its stream). The samples are the corruption here, so the
    # state is saved: a model restored from `.keras` or `load_weights`
    # draws the samples the original would have drawn next.
    # The layer has no other variables of its own.
    def save_own_variables(self, store):
        store["seed_generator_state"] = self.seed_generator.state

    def load_own_variables(self, store):
        if "seed_generator_state" in store:
            self.seed_generator.state.assign(store["seed_generator_state"])

    def compute_output_shape(self, logits_shape):
        return tuple(logits_shape[:-1])

    def compute_output_spec(self, logits):
        return keras.KerasTensor(logits.shape[:-1], dtype="int32")

    def get_config(self):
        return {
            **super().get_config(),
            "temperature": self.temperature,
            "seed": self.seed,
        }
