"""SpanBERT span masking: masked LM over contiguous spans of whole words."""

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.layers.span_masker import SpanMasker
from keras_objectives.objectives.masked_lm import MaskedLM
from keras_objectives.objectives.registry import register
from keras_objectives.objectives.token_masking import MASKING_ARGUMENTS


@keras_objectives_export("keras_objectives.objectives.SpanMasking")
@register("span_masking")
class SpanMasking(MaskedLM):
    """Masked LM with SpanBERT's geometric span masking.

    Span lengths in words ~ Geometric(`geometric_p=0.2`) clipped to
    `[1, max_span_length=10]` (mean about 3.8 words); spans are added until
    the token budget of `count_mode` is reached; the 80/10/10 decision is
    made once per span (`keras_objectives.layers.SpanMasker`). Whole words
    come from WordPiece `##` pieces (`continuation_token_ids`, which
    `bind_vocabulary` fills in from the vocabulary), as in SpanBERT;
    without them every token is a word. Head, loss, attention
    (bidirectional) and compute are those of `MaskedLM`.

    Args:
        geometric_p: float in (0, 1], the geometric parameter.
        max_span_length: int, the longest span in words.
        **kwargs: the arguments of `MaskedLM`. SpanBERT uses
            `count_mode="exact_ceil"`.

    Examples:

    >>> from keras_objectives.data.special_tokens import (
    ...     SpecialTokens, reserved_tokens)
    >>> st = SpecialTokens.from_vocabulary(
    ...     reserved_tokens() + [f"w{i}" for i in range(50)])
    >>> spans = SpanMasking(st, sequence_length=32, seed=0)
    >>> x, y, w = spans({"token_ids": tf.range(111, 143)})
    >>> int(tf.reduce_sum(w))  # prob_round of 0.15 * 32 = 4.8
    5

    Reference:
        - [Joshi et al., 2020](https://arxiv.org/abs/1907.10529)
    """

    masker_class = SpanMasker
    layer_arguments = MASKING_ARGUMENTS + ("geometric_p", "max_span_length")
    # Span lengths ~ Geometric(p), mean about 1/p (p=0.2: 3.8).
    search_space = {"geometric_p": [0.1, 0.2, 0.3]}

    def __init__(self, special_tokens, sequence_length=128, seed=0,
                 geometric_p=0.2, max_span_length=10, **kwargs):
        self._spans = dict(geometric_p=geometric_p,
                           max_span_length=max_span_length)
        super().__init__(special_tokens, sequence_length, seed, **kwargs)

    def make_layer(self, **masking):
        return super().make_layer(**self._spans, **masking)

    @classmethod
    def needs_words(cls, config):
        """Always: SpanBERT's spans are of whole words."""
        return True
