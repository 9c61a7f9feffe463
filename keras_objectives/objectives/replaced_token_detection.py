"""ELECTRA replaced-token detection: a generator corrupts, a discriminator detects."""  # noqa: E501

import keras
import keras_hub
from keras import ops

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.layers.discriminator_head import DiscriminatorHead
from keras_objectives.models.backbones import backbone_outputs
from keras_objectives.models.backbones import check_attention_mode
from keras_objectives.models.electra import ElectraGenerator
from keras_objectives.models.electra_functions import generator_dims
from keras_objectives.models.electra_functions import generator_parameters
from keras_objectives.models.electra_functions import scale_for_replicas
from keras_objectives.models.electra_functions import selected_positions
from keras_objectives.models.electra_functions import weighted_mean
from keras_objectives.objectives import flops
from keras_objectives.objectives.registry import register
from keras_objectives.objectives.token_masking import TokenMasking
from keras_objectives.utils import check_choice
from keras_objectives.utils import check_int
from keras_objectives.utils import invalid

DISC_LOSS_ON = ("all", "masked")


@keras_objectives_export("keras_objectives.objectives.ReplacedTokenDetection")
@register("replaced_token_detection")
class ReplacedTokenDetection(TokenMasking):
    """ELECTRA: replaced-token detection with a jointly trained generator.

    Data side (stateless, seeded per example): MLM masking with ELECTRA's
    rates, `selection_rate=0.15` of the eligible tokens, of which 85% become
    `[MASK]` and 15% stay (no random tokens). Positions are drawn *without*
    replacement; ELECTRA's own `pretrain_helpers.mask` draws them with
    replacement, so it selects slightly fewer distinct tokens. `x` also
    carries `original_token_ids`, from which the discriminator labels are
    built; `y` is `mask_ids`, `sample_weight` is `mask_weights`. The
    `padding_mask` in `x` is int32: Keras averages a first batch to build a
    model under `tf.distribute`, which fails on bool tensors.

    Model side (`build_graph`): a small generator (`ElectraGenerator`,
    width `generator_size_ratio x` the body's, same depth by default)
    shares the body's token and position embeddings, predicts the masked
    tokens, and samples one per masked slot (Gumbel-max at `temperature`,
    `keras.random.SeedGenerator(seed)`, no gradient through sampling). The
    samples replace the selected tokens of the *original* sequence, the
    shared body (the discriminator, `"bidirectional"`) reads the result,
    and `DiscriminatorHead` gives one logit per token. Labels are
    `masked * (1 - [sampled == original])`: a correct sample counts as
    original.

    Loss (`compute_loss`): `gen_weight` x the generator's MLM cross-entropy
    (mean over real masked slots) + `disc_weight` x the discriminator's
    sigmoid cross-entropy (mean over real tokens), both per replica and
    scaled by `1 / num_replicas` like Keras losses. Metrics (in the
    `model.fit` logs): `generator_loss`, `generator_accuracy`,
    `discriminator_loss`, `discriminator_accuracy`, `discriminator_auc`,
    `replaced_fraction` (replaced share of real tokens).

    Ablations (ELECTRA Table 5): `disc_loss_on="masked"` is "ELECTRA 15%"
    (the discriminator loss only on the selected positions);
    `replace_mlm=True` is "Replace MLM": the body gets the same
    generator-corrupted input but, instead of the binary head, BERT's MLM
    head predicts the original tokens at the selected positions; its
    cross-entropy has weight 1.0 (`disc_weight` is not used) and is logged as
    `mlm_loss` / `mlm_accuracy`.

    Args:
        special_tokens: `SpecialTokens` of the vocabulary (needs `[MASK]`).
        sequence_length: int, the model input length.
        seed: int, the data seed; also seeds the Gumbel sampler.
        selection_rate: float, share of eligible tokens to select (0.15).
        mask_token_rate: float, share of selected set to `[MASK]` (0.85).
        random_token_rate: float, share set to a random token (0.0).
        count_mode: how many tokens a row selects; `"exact_round"`
            (`min(max_pred, max(1, round(rate * n)))`, ELECTRA's and BERT's
            rule) by default; see `MaskedLM`.
        mask_selection_length: int or `None` (sized from the rate).
        whole_word, continuation_token_ids, dupe_factor, replacement_unit,
        ngram_probabilities: as `MaskedLM`'s.
        generator_size_ratio: float in (0, 1], generator width over the
            body's (ELECTRA: 0.25; best from 1/4 to 1/2).
        generator_num_layers: int or `None` (the body's depth).
        temperature: float > 0, the sampling temperature (1.0).
        gen_weight: float >= 0, weight of the generator MLM loss (1.0).
        disc_weight: float >= 0, weight of the discriminator loss (50.0).
        disc_loss_on: `"all"` real tokens (ELECTRA) or `"masked"` only.
        replace_mlm: bool, the "Replace MLM" ablation (see above).

    Examples:

    >>> from keras_objectives.data.special_tokens import (
    ...     SpecialTokens, reserved_tokens)
    >>> vocab = reserved_tokens() + [f"w{i}" for i in range(89)]
    >>> rtd = ReplacedTokenDetection(SpecialTokens.from_vocabulary(vocab),
    ...                              sequence_length=16, seed=1)
    >>> x, y, w = rtd({"token_ids": tf.range(120, 136)})
    >>> sorted(x)
    ['mask_positions', 'mask_weights', 'original_token_ids', 'padding_mask', 'token_ids']

    Reference:
        - [Clark et al., 2020](https://arxiv.org/abs/2003.10555)
    """  # noqa: E501

    masker_form = "electra"
    sentence_scoring = "masked_pll"  # With the generator's MLM head.
    # ELECTRA Figure 3: generators 1/4-1/2 the discriminator's width.
    search_space = {"generator_size_ratio": [0.25, 0.5, 1.0]}

    def __init__(
        self,
        special_tokens,
        sequence_length=128,
        seed=0,
        selection_rate=0.15,
        mask_token_rate=0.85,
        random_token_rate=0.0,
        count_mode="exact_round",
        mask_selection_length=None,
        whole_word=False,
        continuation_token_ids=None,
        dupe_factor=None,
        generator_size_ratio=0.25,
        generator_num_layers=None,
        temperature=1.0,
        gen_weight=1.0,
        disc_weight=50.0,
        disc_loss_on="all",
        replace_mlm=False,
        replacement_unit=None,
        ngram_probabilities=None,
    ):
        super().__init__(
            special_tokens, sequence_length, seed,
            selection_rate=selection_rate,
            mask_token_rate=mask_token_rate,
            random_token_rate=random_token_rate,
            count_mode=count_mode,
            mask_selection_length=mask_selection_length,
            whole_word=whole_word,
            continuation_token_ids=continuation_token_ids,
            dupe_factor=dupe_factor,
            replacement_unit=replacement_unit,
            ngram_probabilities=ngram_probabilities,
        )
        ratio = _float("generator_size_ratio", generator_size_ratio)
        if not 0.0 < ratio <= 1.0:
            raise invalid(
                "generator_size_ratio",
                generator_size_ratio,
                "a float in (0, 1]",
                "ELECTRA uses 0.25 (best from 1/4 to 1/2 of the "
                "discriminator's width)",
            )
        self.generator_size_ratio = ratio
        self.generator_num_layers = check_int(
            "generator_num_layers", generator_num_layers, 1, allow_none=True
        )
        self.temperature = _float("temperature", temperature)
        if not self.temperature > 0.0:
            raise invalid("temperature", temperature, "a float > 0")
        self.gen_weight = _float("gen_weight", gen_weight, minimum=0.0)
        self.disc_weight = _float("disc_weight", disc_weight, minimum=0.0)
        self.disc_loss_on = check_choice(
            "disc_loss_on", disc_loss_on, DISC_LOSS_ON
        )
        if not isinstance(replace_mlm, bool):
            raise invalid("replace_mlm", replace_mlm, "a bool")
        self.replace_mlm = replace_mlm

    def scoring_model(self, model):
        """The generator's MLM logits (the discriminator has no MLM head).

        `None` for a model without its `generator` layer.
        """
        try:
            generator = model.get_layer("generator")
        except ValueError:
            return None
        inputs = {n: keras.Input((None,), dtype=t.dtype, name=n)
                  for n, t in model.input.items()}
        return keras.Model(inputs, generator(inputs)["logits"])

    # --- model side ------------------------------------------------------
    def generator_dims(self, num_layers, num_heads, hidden_dim,
                       intermediate_dim):
        """The generator's sizes for a body of these sizes."""
        return generator_dims(
            num_layers, num_heads, hidden_dim, intermediate_dim,
            size_ratio=self.generator_size_ratio,
            generator_num_layers=self.generator_num_layers,
        )

    def build_graph(self, backbone):
        check_attention_mode(backbone, self.attention_mode)
        documents = bool(getattr(backbone, "document_masking", False)
                         or getattr(backbone, "reset_position_ids", False))
        names = ["token_ids", "padding_mask", "mask_positions",
                 "mask_weights", "original_token_ids"]
        if documents:
            names.append("document_ids")
        dtypes = {"mask_weights": "float32"}
        inputs = {
            n: keras.Input((None,), dtype=dtypes.get(n, "int32"), name=n)
            for n in names
        }
        generator = ElectraGenerator.from_backbone(
            backbone,
            sequence_length=self.sequence_length,
            size_ratio=self.generator_size_ratio,
            num_layers=self.generator_num_layers,
            temperature=self.temperature,
            seed=self.seed,
            name="generator",
        )
        generated = generator(inputs)
        corrupted = dict(inputs, token_ids=generated["replaced_token_ids"])
        sequence = backbone_outputs(backbone, corrupted, self.attention_mode)
        if self.replace_mlm:
            main = keras_hub.layers.MaskedLMHead(
                token_embedding=generator.token_embedding,
                intermediate_activation=generator.activation,
                dtype=backbone.dtype_policy,
                name="mlm_head",
            )(sequence, mask_positions=inputs["mask_positions"])
        else:
            main = DiscriminatorHead(
                activation=generator.activation,
                dtype=backbone.dtype_policy,
                name="discriminator_head",
            )(sequence)
        main = _Trackers(self.replace_mlm, name="rtd_metrics")(main)
        outputs = {
            "generator_logits": generated["logits"],
            self._main_key: main,
            "replaced_token_ids": generated["replaced_token_ids"],
            "discriminator_labels": generated["is_replaced"],
        }
        return inputs, outputs

    @property
    def _main_key(self):
        return "mlm_logits" if self.replace_mlm else "discriminator_logits"

    def loss(self):
        return None  # The joint loss lives in `compute_loss`.

    def metrics(self):
        return None  # Updated in `compute_loss` (layer `rtd_metrics`).

    def compute_loss(self, model, x, y, y_pred, sample_weight):
        trackers = model.get_layer("rtd_metrics")
        weights = x["mask_weights"] if sample_weight is None else sample_weight
        weights = ops.cast(weights, "float32")
        gen_logits = ops.cast(y_pred["generator_logits"], "float32")
        gen_loss = weighted_mean(
            keras.losses.sparse_categorical_crossentropy(
                y, gen_logits, from_logits=True), weights)
        trackers.generator_loss.update_state(gen_loss)
        trackers.generator_accuracy.update_state(y, gen_logits, weights)
        padding = ops.cast(x["padding_mask"], "float32")
        labels = ops.cast(y_pred["discriminator_labels"], "float32")
        trackers.replaced_fraction.update_state(weighted_mean(labels,
                                                               padding))
        if self.replace_mlm:
            logits = ops.cast(y_pred["mlm_logits"], "float32")
            main_loss = weighted_mean(
                keras.losses.sparse_categorical_crossentropy(
                    y, logits, from_logits=True), weights)
            trackers.mlm_loss.update_state(main_loss)
            trackers.mlm_accuracy.update_state(y, logits, weights)
            total = self.gen_weight * gen_loss + main_loss
            return scale_for_replicas(total)
        logits = ops.cast(y_pred["discriminator_logits"], "float32")
        disc_weights = padding
        if self.disc_loss_on == "masked":
            selected = selected_positions(
                x["mask_positions"], weights, ops.shape(padding)[-1])
            disc_weights = padding * ops.cast(selected, "float32")
        per_token = keras.losses.binary_crossentropy(
            ops.expand_dims(labels, -1), ops.expand_dims(logits, -1),
            from_logits=True)
        disc_loss = weighted_mean(per_token, disc_weights)
        trackers.discriminator_loss.update_state(disc_loss)
        trackers.discriminator_accuracy.update_state(labels, logits,
                                                     disc_weights)
        trackers.discriminator_auc.update_state(labels, logits, disc_weights)
        total = self.gen_weight * gen_loss + self.disc_weight * disc_loss
        return scale_for_replicas(total)

    # --- compute accounting ----------------------------------------------
    def accounting(self, dims, batch_size):
        """Tokens, loss-bearing positions and training FLOPs of one step.

        FLOPs = 3 x forward of: the body on every token; the discriminator
        head (`2 (d^2 + d)` per token) or, with `replace_mlm`, BERT's MLM
        head (`2 d^2 + 2 d V` per gathered slot); the generator body on
        every token (`2 N_gen + 4 L h_gen layers_gen`); and the generator's
        MLM head at the gathered slots (`2 h_gen d + 2 d V`). Loss-bearing
        positions are the discriminator's: every token with
        `disc_loss_on="all"` (rows are packed, so all real), else the
        expected selected ones; the generator's masked positions are a
        subset of those and are not counted twice.
        """
        length = self.sequence_length
        tokens = batch_size * length
        slots = batch_size * self.selection_length()
        d, vocab = dims.hidden_dim, dims.vocabulary_size
        step = flops.training_flops(dims, tokens=tokens, softmax_positions=0)
        if self.replace_mlm:
            step += 3 * (2 * d * d * slots + flops.softmax_flops(dims, slots))
        else:
            step += 3 * 2 * (d * d + d) * tokens
        # Heads do not change FLOPs; 1 keeps `generator_dims` happy.
        g = self.generator_dims(dims.num_layers, 1, d, dims.intermediate_dim)
        gen_dims = flops.ModelDims(
            num_layers=g["num_layers"],
            hidden_dim=g["hidden_dim"],
            intermediate_dim=g["intermediate_dim"],
            vocabulary_size=vocab,
            sequence_length=length,
            non_embedding_params=generator_parameters(g, d),
        )
        gen_step = 3 * (
            flops.forward_flops_per_token(gen_dims) * tokens
            + (2 * g["hidden_dim"] * d + 2 * d * vocab) * slots
        )
        if self.disc_loss_on == "all" and not self.replace_mlm:
            positions = tokens
        else:
            positions = batch_size * self.selection_rate * length
        return {
            "tokens_per_step": tokens,
            "loss_positions_per_step": positions,
            "flops_per_step": float(step + gen_step),
            "generator_flops_per_step": float(gen_step),
        }

    def get_config(self):
        return {
            **super().get_config(),
            "generator_size_ratio": self.generator_size_ratio,
            "generator_num_layers": self.generator_num_layers,
            "temperature": self.temperature,
            "gen_weight": self.gen_weight,
            "disc_weight": self.disc_weight,
            "disc_loss_on": self.disc_loss_on,
            "replace_mlm": self.replace_mlm,
        }


class _Trackers(keras.layers.Layer):
    """Identity layer owning the objective's metrics.

    `Model.metrics` collects the metrics of every sublayer, so metrics held
    here are reset each epoch, synced across replicas and shown in the
    `model.fit` logs, while `compute_loss` updates them.
    """

    def __init__(self, replace_mlm=False, **kwargs):
        super().__init__(**kwargs)
        self.replace_mlm = replace_mlm
        mean = keras.metrics.Mean
        sparse = keras.metrics.SparseCategoricalAccuracy
        self.generator_loss = mean(name="generator_loss")
        self.generator_accuracy = sparse(name="generator_accuracy")
        self.replaced_fraction = mean(name="replaced_fraction")
        if replace_mlm:
            self.mlm_loss = mean(name="mlm_loss")
            self.mlm_accuracy = sparse(name="mlm_accuracy")
        else:
            self.discriminator_loss = mean(name="discriminator_loss")
            self.discriminator_accuracy = keras.metrics.BinaryAccuracy(
                threshold=0.0, name="discriminator_accuracy")
            self.discriminator_auc = keras.metrics.AUC(
                from_logits=True, name="discriminator_auc")

    def call(self, inputs):
        return inputs

    def get_config(self):
        return {**super().get_config(), "replace_mlm": self.replace_mlm}


def _float(argument, value, minimum=None):
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise invalid(argument, value, "a float") from None
    if minimum is not None and value < minimum:
        raise invalid(argument, value, f"a float >= {minimum}")
    return value
