"""Base class of the objectives whose data side is BERT's token masking."""

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.layers.masked_lm_masker import MaskedLMMasker
from keras_objectives.objectives.objective import Objective

MASKING_ARGUMENTS = (
    "selection_rate", "mask_token_rate", "random_token_rate", "count_mode",
    "mask_selection_length", "whole_word", "continuation_token_ids",
    "dupe_factor", "replacement_unit", "ngram_probabilities",
)


def continuation_token_ids(vocabulary):
    """The ids of WordPiece `##` continuation pieces."""
    return [i for i, token in enumerate(vocabulary) if token.startswith("##")]


@keras_objectives_export("keras_objectives.objectives.TokenMasking")
class TokenMasking(Objective):
    """Base of masked LM, span masking and ELECTRA: one masker, built once.

    The transform is a `keras_objectives.layers.MaskedLMMasker` (or the
    subclass `make_layer` returns) built from the vocabulary's special
    tokens and the masking arguments below, in the form `masker_form`:
    `"masked_lm"` gives `x = {token_ids, padding_mask, mask_positions}`,
    `y = mask_ids`, `sample_weight = mask_weights`; `"electra"` adds the
    original row and the weights to `x`. The masking arguments are read
    back from the masker's config (`layer_arguments`).

    Args:
        special_tokens, sequence_length, seed: see `Objective`.
        selection_rate, mask_token_rate, random_token_rate, count_mode,
        mask_selection_length, whole_word, continuation_token_ids,
        dupe_factor, replacement_unit, ngram_probabilities: the masking,
        with `MaskedLM`'s defaults (see there).
    """

    attention_mode = "bidirectional"
    architecture = "encoder"
    layer_arguments = MASKING_ARGUMENTS
    #: The masking layer: `MaskedLMMasker` or a subclass.
    masker_class = MaskedLMMasker
    #: The masker's output form (`MaskedLMMasker.form`).
    masker_form = "masked_lm"

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
        self.set_preprocessor(self.make_layer(
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
        ))

    def make_layer(self, **masking):
        """The `masker_class` layer from the masking arguments."""
        return self.masker_class.from_special_tokens(
            self.special_tokens, form=self.masker_form,
            pad_token_id=self.special_tokens.pad_id or 0, seed=self.seed,
            **masking)

    @classmethod
    def bind_vocabulary(cls, config, vocabulary):
        """Whole-word masking gets the ids of the `##` pieces."""
        if cls.needs_words(config) and not config.get(
                "continuation_token_ids"):
            config["continuation_token_ids"] = continuation_token_ids(
                vocabulary)
        return config

    @classmethod
    def needs_words(cls, config):
        """Does an objective of this config need `##` piece ids?"""
        return bool(config.get("whole_word"))

    def selection_length(self):
        """The static number of gathered slots per row."""
        return self.preprocessor.selection_length(self.sequence_length)

    def expected_selected(self):
        """Expected selected positions per row (eligible ~ all tokens)."""
        return self.selection_rate * self.sequence_length
