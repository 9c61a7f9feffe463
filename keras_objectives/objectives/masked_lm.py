"""BERT-style masked language modeling."""

import keras
import keras_hub

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.models.backbones import backbone_outputs
from keras_objectives.models.backbones import required_inputs
from keras_objectives.models.transformer_body import feedforward_activation
from keras_objectives.objectives import flops
from keras_objectives.objectives.registry import register
from keras_objectives.objectives.token_masking import TokenMasking


@keras_objectives_export("keras_objectives.objectives.MaskedLM")
@register("masked_lm")
class MaskedLM(TokenMasking):
    """Masked language modeling (BERT), with dynamic 80/10/10 masking.

    Each example draws fresh noise per epoch from `(seed, epoch, example_id)`
    (RoBERTa's dynamic masking; set `dupe_factor` for BERT's static masking).
    Of the eligible tokens (never specials, never padding), a `selection_rate`
    share is selected; of those, `mask_token_rate` become `[MASK]`,
    `random_token_rate` a random non-special token, the rest stay. The head
    is BERT's (dense + LayerNorm + tied output) and computes the softmax only
    at the `mask_selection_length` gathered positions. Sentences are scored
    by MLM pseudo-log-likelihood (`sentence_scoring = "masked_pll"`).

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

    sentence_scoring = "masked_pll"
    # The mask-rate sweep; Wettig et al.: larger models like more.
    search_space = {"selection_rate": [0.10, 0.15, 0.25, 0.40, 0.60]}

    def build_graph(self, backbone):
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
            intermediate_activation=feedforward_activation(
                "gelu", backbone.dtype_policy),
            dtype=backbone.dtype_policy,
            name="mlm_head",
        )
        logits = head(sequence, mask_positions=inputs["mask_positions"])
        return inputs, logits

    def accounting(self, dims, batch_size):
        tokens = batch_size * self.sequence_length
        # The head (dense d x d + tied softmax) runs at every gathered slot,
        # padded slots included: that is what the hardware computes.
        head_positions = batch_size * self.selection_length()
        step = flops.training_flops(
            dims, tokens=tokens, softmax_positions=head_positions
        ) + 3 * 2 * dims.hidden_dim * dims.hidden_dim * head_positions
        return {
            "tokens_per_step": tokens,
            "loss_positions_per_step": batch_size * self.expected_selected(),
            "flops_per_step": float(step),
        }
