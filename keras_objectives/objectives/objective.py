"""The unit of comparison: a pre-training objective, and its contract."""

import keras

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.data.special_tokens import SpecialTokens
from keras_objectives.utils import check_choice
from keras_objectives.utils import check_int

ATTENTION_MODES = ("bidirectional", "causal", "prefix", "encoder_decoder")
SENTENCE_SCORINGS = ("causal", "masked_pll", "denoising_pll",
                     "reconstruction_pll")


@keras_objectives_export("keras_objectives.objectives.Objective")
class Objective:
    """Base class of every pre-training objective.

    An objective fixes everything that differs between, say, BERT and GPT
    pre-training while the Transformer body, data and budget stay the same.
    Everything other modules need to know about an objective is declared
    here, on the class, and no module outside the objective's own file
    names it:

    * the transform: `preprocessor`, a `SeededTransform` layer that turns
      packed features (`token_ids`, `padding_mask`, optional
      `document_ids`, `example_ids`, `epoch`, `stream_index`) into
      `(x, y, sample_weight)`, for every objective; calling the objective
      calls it, so `ds.map(objective)` works. `raw_length` is how many
      packed tokens one example reads;
    * the attention the body must use: `attention_mode`, and
      `architecture`;
    * the head and the loss: `build_graph(backbone)`, `loss()`,
      `metrics()` and, for multi-loss objectives, `compute_loss`;
    * compute: `accounting(dims, batch_size)`;
    * capabilities, read by evaluation, tuning and training:
      `defines_next_token`, `sentence_scoring` and `scoring_model` (how
      its model scores a sentence), `search_space` (what a tuner varies)
      and `bind_vocabulary` (what it derives from the vocabulary).

    A subclass builds its layer in `__init__` and hands it to
    `set_preprocessor`; the constructor arguments it lists in
    `layer_arguments` are then read back from the layer's config, so each
    is written once in the signature and once in the layer call.

    Args:
        special_tokens: `SpecialTokens` (or its config dict) of the shared
            vocabulary.
        sequence_length: int, the model's input length.
        seed: int, the run seed of the data transform.

    Examples:

    >>> from keras_objectives.objectives import get
    >>> from keras_objectives.data.special_tokens import (
    ...     SpecialTokens, reserved_tokens)
    >>> st = SpecialTokens.from_vocabulary(reserved_tokens() + ["a", "b"])
    >>> clm = get("causal_lm", special_tokens=st, sequence_length=4)
    >>> x, y, w = clm({"token_ids": tf.constant([2, 111, 112, 111, 3])})
    >>> clm.defines_next_token, clm.sentence_scoring, y.numpy().tolist()
    (True, 'causal', [111, 112, 111, 3])
    """

    #: str, the registered name (set by `register`).
    name = None
    #: The attention the body must use: `"bidirectional"`, `"causal"`,
    #: `"prefix"` (bidirectional over `prefix_mask`, causal after) or
    #: `"encoder_decoder"`.
    attention_mode = "bidirectional"
    #: `"encoder"` (bidirectional body), `"decoder"` (shared body with a
    #: causal or prefix mask) or `"encoder_decoder"`.
    architecture = "encoder"
    #: Constructor arguments that configure the preprocessing layer. Each
    #: is an argument name of both, or a pair `(objective name, layer
    #: name)`; `set_preprocessor` sets them as attributes from the layer's
    #: config and `get_config` returns them.
    layer_arguments = ()
    #: The default keras-tuner search space: `{constructor argument:
    #: spec}` (a list of values, `{"values": [...]}`, `{"min_value",
    #: "max_value", ...}` or a single value; see
    #: `keras_objectives.tuner.spaces`). Empty: tuned over the shared
    #: space (the learning rate) only.
    search_space = {}

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
        self.preprocessor = None

    # --- the transform ---------------------------------------------------
    def set_preprocessor(self, layer):
        """Make `layer` the transform; read `layer_arguments` from it.

        Args:
            layer: a `keras_objectives.layers.SeededTransform` whose call
                returns `(x, y, sample_weight)`.
        """
        self.preprocessor = layer
        config = layer.get_config()
        for argument in self.layer_arguments:
            mine, theirs = (argument, argument) if isinstance(
                argument, str) else argument
            setattr(self, mine, config[theirs])

    @property
    def raw_length(self):
        """int, the packed tokens one example reads (`sequence_length`).

        A causal LM reads `sequence_length + 1` (inputs and shifted
        targets), T5 span corruption more than its inputs.
        """
        return self.sequence_length

    def __call__(self, features):
        """`preprocessor(features)`: `(x, y, sample_weight)`.

        The one path from features to examples; objectives never override
        it, they choose their `preprocessor`.
        """
        return self.preprocessor(features)

    # --- the head and the loss -------------------------------------------
    def build_graph(self, backbone):
        """The functional pre-training graph on `backbone`.

        Args:
            backbone: a `keras_hub.models.Backbone` that can run
                `attention_mode` (see `keras_objectives.models`).

        Returns:
            `(inputs, outputs)`: a dict of `keras.Input`s named like the
            features of `x`, and the head's logits (or a dict of outputs
            for `compute_loss`), which `keras_objectives.models.Pretrainer`
            wraps in a `keras.Model`.
        """
        raise NotImplementedError

    def loss(self):
        """The compiled loss: cross-entropy per loss-bearing token.

        `"mean_with_sample_weight"` divides by the summed sample weights,
        so the loss is a mean over the positions that carry a target (masked
        slots, real next tokens) whatever their share of the batch: losses
        of different objectives and mask rates are then per-token numbers.
        """
        return keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, reduction="mean_with_sample_weight"
        )

    def metrics(self):
        """The compiled `weighted_metrics`: token accuracy."""
        return [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]

    def compute_loss(self, model, x, y, y_pred, sample_weight):
        """The loss of a multi-loss objective, or `None`.

        `None` (the default) uses the compiled `loss()`. An override
        returns the per-replica scalar in Keras' convention (divided by
        the number of replicas) and updates its own metrics.
        """
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

    # --- capabilities ----------------------------------------------------
    @property
    def defines_next_token(self):
        """bool: does the trained model give `p(next token | past)`?

        True when its decoder-only model is a next-token model over plain
        text, so a held-out LM loss, perplexity and bits per byte are
        defined (`keras_objectives.evaluation.evaluate_language_model`).
        Default: causal attention.
        """
        return self.attention_mode == "causal"

    @property
    def sentence_scoring(self):
        """How the trained model scores a sentence (minimal pairs).

        One of `"causal"` (`log p(text [SEP])`), `"masked_pll"` (MLM
        pseudo-log-likelihood of `scoring_model`), `"denoising_pll"`
        (T5-style PLL through sentinels), `"reconstruction_pll"` (BART's)
        or `None` (no sentence score; minimal pairs are skipped with a
        reason). Default: `"causal"` for a next-token model, else `None`.
        """
        return "causal" if self.defines_next_token else None

    def scoring_model(self, model):
        """The Keras model whose logits `sentence_scoring` reads.

        Args:
            model: the trained `Pretrainer`.

        Returns:
            A `keras.Model` (the pre-trainer itself by default), or `None`
            when this model has no head to score with.
        """
        return model

    @classmethod
    def bind_vocabulary(cls, config, vocabulary):
        """Fill the constructor arguments derived from the vocabulary.

        Called before construction with the run's vocabulary (for example
        the ids of `##` pieces for whole-word masking); values already in
        `config` are kept.

        Args:
            config: dict of constructor arguments (a copy may be changed).
            vocabulary: list of token strings, indexed by id.

        Returns:
            The config dict.
        """
        return config

    # --- serialization ---------------------------------------------------
    def get_config(self):
        """The constructor arguments, as JSON types."""
        config = {
            "special_tokens": self.special_tokens.get_config(),
            "sequence_length": self.sequence_length,
            "seed": self.seed,
        }
        for argument in self.layer_arguments:
            name = argument if isinstance(argument, str) else argument[0]
            config[name] = getattr(self, name)
        return config

    @classmethod
    def from_config(cls, config):
        """The objective of `get_config()`."""
        return cls(**config)

    def __repr__(self):
        return f"{type(self).__name__}({self.get_config()})"
