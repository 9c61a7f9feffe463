"""BERT-style masked language modeling."""

import keras
import keras_hub

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.objectives import flops
from keras_objectives.objectives.objective import Objective
from keras_objectives.objectives.registry import register


@keras_objectives_export("keras_objectives.objectives.MaskedLM")
@register("masked_lm")
class MaskedLM(Objective):
    """Masked language modeling (BERT), with dynamic 80/10/10 masking.

    Each example draws fresh noise per epoch from `(seed, epoch, example_id)`
    (RoBERTa's dynamic masking; set `dupe_factor` for BERT's static masking).
    Of the eligible tokens (never specials, never padding), a `selection_rate`
    share is selected; of those, `mask_token_rate` become `[MASK]`,
    `random_token_rate` a random non-special token, the rest stay. The head
    is BERT's (dense + LayerNorm + tied output) and computes the softmax only
    at the `mask_selection_length` gathered positions.

    Args:
        special_tokens: `SpecialTokens` of the vocabulary (needs `[MASK]`).
        sequence_length: int, the model input length.
        seed: int, the data seed.
        selection_rate: float, share of eligible tokens to predict.
        mask_token_rate: float, share of selected tokens set to `[MASK]`.
        random_token_rate: float, share set to a random non-special token.
        count_mode: `"prob_round"` (default, fairseq), `"exact_ceil"`
            (keras-hub), `"exact_round"` (BERT) or `"bernoulli"` (HF): how
            many tokens a row selects.
        mask_selection_length: int or `None` (sized from the rate).
        whole_word: bool, select whole words: from the `word_starts`
            feature of a segmented corpus (Chinese, BERT-wwm), else
            WordPiece words (`##` pieces).
        continuation_token_ids: ids of `##` pieces; required with
            `whole_word=True` (`keras_objectives.data` computes them).
        dupe_factor: int or `None`; static masking with that many copies.
        replacement_unit: `None`, `"word"` or `"token"`: one 80/10/10
            decision per word or per token (`None`: per token for
            segmented words and n-grams, as BERT-wwm; see
            `MaskedLMMasker`).
        ngram_probabilities: `None`, or the probabilities of masking 1, 2,
            ... whole words at once (ERNIE/MacBERT: `[0.4, 0.3, 0.2,
            0.1]`), at the same expected token rate.

    Examples:

    >>> from keras_objectives.data.special_tokens import (
    ...     SpecialTokens, reserved_tokens)
    >>> vocab = reserved_tokens() + [f"w{i}" for i in range(89)]
    >>> mlm = MaskedLM(SpecialTokens.from_vocabulary(vocab),
    ...                sequence_length=16, seed=1)
    >>> x, y, w = mlm({"token_ids": tf.range(120, 136)})
    >>> sorted(x), y.shape, w.shape
    (['mask_positions', 'padding_mask', 'token_ids'], TensorShape([...]), ...)

    Reference:
        - [Devlin et al., 2019](https://arxiv.org/abs/1810.04805)
        - [Liu et al., 2019](https://arxiv.org/abs/1907.11692) (dynamic)
    """

    attention_mode = "bidirectional"
    architecture = "encoder"

    def __init__(
        self,
        special_tokens,
        sequence_length=128,
        seed=0,
        selection_rate=0.15,
        mask_token_rate=0.8,
        random_token_rate=0.1,
        count_mode="prob_round",
        mask_selection_length=None,
        whole_word=False,
        continuation_token_ids=None,
        dupe_factor=None,
        replacement_unit=None,
        ngram_probabilities=None,
    ):
        super().__init__(special_tokens, sequence_length, seed)
        st = self.special_tokens
        self.masker = self.make_masker(
            vocabulary_size=st.vocabulary_size,
            mask_token_id=st.require("mask_id"),
            special_token_ids=st.special_ids,
            selection_rate=selection_rate,
            mask_token_rate=mask_token_rate,
            random_token_rate=random_token_rate,
            count_mode=count_mode,
            mask_selection_length=mask_selection_length,
            whole_word=whole_word,
            continuation_token_ids=continuation_token_ids,
            seed=seed,
            dupe_factor=dupe_factor,
            **_word_options(replacement_unit, ngram_probabilities),
        )
        self.replacement_unit = replacement_unit
        self.ngram_probabilities = self.masker.__dict__.get(
            "ngram_probabilities")
        self.selection_rate = self.masker.selection_rate
        self.mask_token_rate = self.masker.mask_token_rate
        self.random_token_rate = self.masker.random_token_rate
        self.count_mode = self.masker.count_mode
        self.whole_word = whole_word
        self.continuation_token_ids = continuation_token_ids
        self.dupe_factor = dupe_factor
        self.mask_selection_length = mask_selection_length

    def make_masker(self, **kwargs):
        """The corruption layer; subclasses swap it (see `SpanMasking`)."""
        from keras_objectives.layers.masked_lm_masker import MaskedLMMasker

        return MaskedLMMasker(**kwargs)

    @property
    def preprocessor(self):
        return self.masker

    def __call__(self, features):
        out = self.masker(features)
        padding_mask = out.get("padding_mask")
        if padding_mask is None:  # Unpacked input: padding by token value.
            padding_mask = out["token_ids"] != self.special_tokens.pad_id
        x = {
            "token_ids": out["token_ids"],
            "padding_mask": padding_mask,
            "mask_positions": out["mask_positions"],
        }
        if "document_ids" in out:
            x["document_ids"] = out["document_ids"]
        return keras.utils.pack_x_y_sample_weight(
            x, out["mask_ids"], out["mask_weights"]
        )

    def build_graph(self, backbone):
        from keras_objectives.models.backbones import backbone_outputs
        from keras_objectives.models.backbones import required_inputs

        inputs = {
            name: keras.Input((None,), dtype="int32", name=name)
            for name in required_inputs(backbone, self.attention_mode)
        }
        inputs["mask_positions"] = keras.Input(
            (None,), dtype="int32", name="mask_positions"
        )
        sequence = backbone_outputs(backbone, inputs, self.attention_mode)
        head = keras_hub.layers.MaskedLMHead(
            vocabulary_size=backbone.vocabulary_size,
            token_embedding=backbone.token_embedding,
            intermediate_activation="gelu",
            dtype=backbone.dtype_policy,
            name="mlm_head",
        )
        logits = head(sequence, mask_positions=inputs["mask_positions"])
        return inputs, logits

    def expected_selected(self):
        """Expected selected positions per row (eligible ~ all tokens)."""
        return self.selection_rate * self.sequence_length

    def accounting(self, dims, batch_size):
        selection_length = self.masker.selection_length(self.sequence_length)
        tokens = batch_size * self.sequence_length
        # The head (dense d x d + tied softmax) runs at every gathered slot,
        # padded slots included: that is what the hardware computes.
        head_positions = batch_size * selection_length
        step = flops.training_flops(
            dims, tokens=tokens, softmax_positions=head_positions
        ) + 3 * 2 * dims.hidden_dim * dims.hidden_dim * head_positions
        return {
            "tokens_per_step": tokens,
            "loss_positions_per_step": batch_size * self.expected_selected(),
            "flops_per_step": float(step),
        }

    def get_config(self):
        return {
            **super().get_config(),
            "selection_rate": self.selection_rate,
            "mask_token_rate": self.mask_token_rate,
            "random_token_rate": self.random_token_rate,
            "count_mode": self.count_mode,
            "mask_selection_length": self.mask_selection_length,
            "whole_word": self.whole_word,
            "continuation_token_ids": self.continuation_token_ids,
            "dupe_factor": self.dupe_factor,
            **_word_options(self.replacement_unit, self.ngram_probabilities),
        }


def _word_options(replacement_unit, ngram_probabilities):
    """The Chinese whole-word options, only when set (older configs and
    maskers without them stay as they were)."""
    options = {}
    if replacement_unit is not None:
        options["replacement_unit"] = replacement_unit
    if ngram_probabilities is not None:
        options["ngram_probabilities"] = list(ngram_probabilities)
    return options
