"""SpanBERT geometric span masking as a seeded preprocessing layer."""

import math

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.layers.masked_lm_masker import MaskedLMMasker
from keras_objectives.ops import masking
from keras_objectives.utils import check_int
from keras_objectives.utils import invalid


@keras_objectives_export("keras_objectives.layers.SpanMasker")
class SpanMasker(MaskedLMMasker):
    """Mask contiguous spans of whole words, 80/10/10 per span (SpanBERT).

    Span lengths in words follow a Geometric(`geometric_p`) truncated to
    `[1, max_span_length]` (SpanBERT: p=0.2, at most 10 words, mean 3.8).
    Each span starts at a uniformly random word start, covers its words
    but never crosses a special token or padding, and spans are added
    until the token budget of `count_mode` is reached (the last span is
    cut there, as in SpanBERT, so the count modes hold exactly for tokens;
    `bernoulli` draws a Binomial(n, rate) budget). A span whose anchor is
    already masked is skipped, as in SpanBERT. Each span takes one
    80/10/10 decision; each piece of a randomly replaced span gets its own
    random id.

    SpanBERT uses `ceil(rate * n)` (`count_mode="exact_ceil"`) and anchors
    at a uniformly random *token* snapped to its word start (so long words
    are likelier anchors); here anchors are uniform over words. Words come
    from `##` continuation pieces with `whole_word=True` (SpanBERT's
    setting), or from a `word_starts` feature (segmented Chinese: spans of
    whole jieba words); with `whole_word=False`, every token is a word.
    `ngram_probabilities` and `replacement_unit` do not apply here.

    A row draws a static `num_candidate_spans` spans (default
    `min(S, ceil(2 S / mean) + 4)`, `S` the selection length and `mean` the
    mean span length), enough to reach the budget in all but very short or
    very fragmented rows, which then get fewer tokens.

    Args:
        geometric_p: float in (0, 1], the geometric parameter.
        max_span_length: int, the longest span in words.
        num_candidate_spans: int or `None` (automatic), spans drawn per row.
        **kwargs: the arguments of `MaskedLMMasker` (`vocabulary_size`,
            `mask_token_id`, `special_token_ids`, `selection_rate`,
            `mask_token_rate`, `random_token_rate`, `count_mode`,
            `mask_selection_length`, `whole_word`, `continuation_token_ids`,
            `vocabulary`, `form`, `pad_token_id`, `seed`, `dupe_factor`).

    Call arguments and returns: as `MaskedLMMasker`.

    Examples:

    >>> masker = SpanMasker(
    ...     vocabulary_size=300, mask_token_id=4,
    ...     special_token_ids=[0, 1, 2, 3], selection_rate=0.3, seed=2)
    >>> out = masker({"token_ids": [2] + list(range(120, 134)) + [3],
    ...               "example_ids": 0})
    >>> out["token_ids"].numpy().tolist()
    [2, 120, 121, 122, 123, 124, 4, 4, 127, 128, 4, 130, 131, 132, 4, 3]
    >>> out["mask_positions"].numpy().tolist()
    [6, 7, 10, 14, 0]

    Reference:
        - [Joshi et al., 2020](https://arxiv.org/abs/1907.10529)
    """

    def __init__(
        self,
        vocabulary_size,
        mask_token_id,
        special_token_ids,
        geometric_p=0.2,
        max_span_length=10,
        num_candidate_spans=None,
        **kwargs,
    ):
        super().__init__(vocabulary_size, mask_token_id, special_token_ids,
                         **kwargs)
        try:
            p = float(geometric_p)
        except (TypeError, ValueError):
            p = -1.0
        if not 0.0 < p <= 1.0:
            raise invalid("geometric_p", geometric_p, "a float in (0, 1]",
                          "SpanBERT uses 0.2")
        self.geometric_p = p
        self.max_span_length = check_int(
            "max_span_length", max_span_length, minimum=1)
        self.num_candidate_spans = check_int(
            "num_candidate_spans", num_candidate_spans, minimum=1,
            allow_none=True)

    def _may_exceed_ceil(self):
        # The last span is cut at the budget: only bernoulli can go above.
        return self.count_mode == "bernoulli"

    def candidate_spans(self, selection_length):
        """Spans drawn per row for a given number of output slots."""
        if self.num_candidate_spans is not None:
            return self.num_candidate_spans
        mean = masking.mean_span_length(self.geometric_p, self.max_span_length)
        return max(1, min(selection_length,
                          math.ceil(2 * selection_length / mean) + 4))

    def transform(self, features, keys):
        token_ids = features["token_ids"]
        size = self.selection_length(self._sequence_length(token_ids))
        outputs = masking.span_mask(
            token_ids,
            keys,
            mask_selection_length=size,
            num_candidate_spans=self.candidate_spans(size),
            geometric_p=self.geometric_p,
            max_span_length=self.max_span_length,
            padding_mask=features.get("padding_mask"),
            continuation_token_ids=(
                self.continuation_token_ids if self.whole_word else None),
            word_starts=self._word_starts(features),
            **self._options(),
        )
        return self.format(features, outputs)

    def get_config(self):
        return {
            **super().get_config(),
            "geometric_p": self.geometric_p,
            "max_span_length": self.max_span_length,
            "num_candidate_spans": self.num_candidate_spans,
        }
