"""The unit of comparison: a pre-training objective."""

import keras

from keras_objectives.data.special_tokens import SpecialTokens
from keras_objectives.utils import check_choice
from keras_objectives.utils import check_int

ATTENTION_MODES = ("bidirectional", "causal", "prefix", "encoder_decoder")


class Objective:
    """Base class of every pre-training objective.

    An objective fixes everything that differs between, say, BERT and GPT
    pre-training while the Transformer body, data and budget stay the same:

    * `preprocessor`: a `SeededTransform` layer that turns packed features
      (`token_ids`, `padding_mask`, optional `document_ids`, `example_ids`,
      `epoch`) into `(x, y, sample_weight)`. Calling the objective calls it,
      so `ds.map(objective)` works;
    * `raw_length`: how many packed tokens one example consumes (a causal LM
      needs `sequence_length + 1`, T5 span corruption more than its inputs);
    * `attention_mode`: the attention the body must use (`"bidirectional"`,
      `"causal"` or `"prefix"`);
    * `build_graph(backbone)`: the head on top of a backbone, returning the
      functional `(inputs, outputs)` that `keras_objectives.models.Pretrainer`
      wraps;
    * `loss()`, `metrics()`: compiled with `from_logits=True` losses and
      `weighted_metrics`;
    * `accounting(dims, batch_size)`: tokens, loss-bearing positions and
      training FLOPs of one step (see `keras_objectives.objectives.flops`).

    Args:
        special_tokens: `SpecialTokens` (or its config dict) of the shared
            vocabulary.
        sequence_length: int, the model's input length.
        seed: int, the run seed of the data transform.
    """

    name = None
    attention_mode = "bidirectional"
    # "encoder" (bidirectional body), "decoder" (shared body with a causal or
    # prefix mask) or "encoder_decoder".
    architecture = "encoder"

    def __init__(self, special_tokens, sequence_length=128, seed=0):
        if isinstance(special_tokens, dict):
            special_tokens = SpecialTokens.from_config(special_tokens)
        if not isinstance(special_tokens, SpecialTokens):
            raise ValueError(
                "Invalid value received for argument `special_tokens`. "
                "Expected a `keras_objectives.data.SpecialTokens`. Received: "
                f"special_tokens={special_tokens!r}. Build one with "
                "`SpecialTokens.from_vocabulary(tokenizer.get_vocabulary())`."
            )
        self.special_tokens = special_tokens
        self.sequence_length = check_int(
            "sequence_length", sequence_length, minimum=2
        )
        self.seed = check_int("seed", seed, minimum=0)
        check_choice("attention_mode", self.attention_mode, ATTENTION_MODES)

    # --- data side -------------------------------------------------------
    @property
    def preprocessor(self):
        raise NotImplementedError

    @property
    def raw_length(self):
        return self.sequence_length

    def __call__(self, features):
        return self.preprocessor(features)

    # --- model side ------------------------------------------------------
    def build_graph(self, backbone):
        """Return `(inputs, outputs)` of the functional pre-training model."""
        raise NotImplementedError

    def loss(self):
        """Cross-entropy per loss-bearing token.

        `"mean_with_sample_weight"` divides by the summed sample weights,
        so the loss is a mean over the positions that carry a target (masked
        slots, real next tokens) whatever their share of the batch: losses
        of different objectives and mask rates are then per-token numbers.
        """
        return keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, reduction="mean_with_sample_weight"
        )

    def metrics(self):
        return [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]

    def compute_loss(self, model, x, y, y_pred, sample_weight):
        """Override for multi-loss objectives; `None` uses the compiled loss."""
        return None

    # --- compute accounting ----------------------------------------------
    def accounting(self, dims, batch_size):
        """Per-step compute of this objective.

        Args:
            dims: `keras_objectives.objectives.flops.ModelDims` of the body.
            batch_size: int, the global batch size.

        Returns:
            dict with `tokens_per_step`, `loss_positions_per_step` and
            `flops_per_step`.
        """
        raise NotImplementedError

    # --- serialization ---------------------------------------------------
    def get_config(self):
        return {
            "special_tokens": self.special_tokens.get_config(),
            "sequence_length": self.sequence_length,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"{type(self).__name__}({self.get_config()})"
