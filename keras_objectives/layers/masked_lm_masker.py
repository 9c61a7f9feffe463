"""BERT-style masked-LM corruption as a seeded preprocessing layer."""

import math

import keras
import tensorflow as tf

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.layers.seeded_transform import SeededTransform
from keras_objectives.layers.seeded_transform import padding_mask_of
from keras_objectives.layers.seeded_transform import passthrough
from keras_objectives.ops import masking
from keras_objectives.ops import ngrams
from keras_objectives.ops.selection import COUNT_MODES
from keras_objectives.utils import check_choice
from keras_objectives.utils import check_int
from keras_objectives.utils import check_rate
from keras_objectives.utils import check_rates_sum
from keras_objectives.utils import invalid

FORMS = ("features", "masked_lm", "electra")


def _continuation_ids(vocabulary, continuation_token_ids, vocabulary_size):
    """The `##` piece ids: given, or derived from `vocabulary`, checked."""
    if vocabulary is not None:
        if continuation_token_ids is not None:
            raise ValueError(
                "Received both `vocabulary` and `continuation_token_ids`."
                " Pass only one: the `##` piece ids are derived from "
                "the vocabulary."
            )
        vocabulary = list(vocabulary)
        if len(vocabulary) != vocabulary_size:
            raise invalid(
                "vocabulary", f"<list of {len(vocabulary)} tokens>",
                f"vocabulary_size={vocabulary_size} tokens")
        continuation_token_ids = [
            i for i, t in enumerate(vocabulary) if t.startswith("##")]
    if continuation_token_ids is None:
        return None
    return _check_ids("continuation_token_ids", continuation_token_ids,
                      vocabulary_size)


def _check_ids(argument, ids, vocabulary_size):
    if ids is None or isinstance(ids, (str, bytes)):
        raise invalid(argument, ids, "a list of integer token ids")
    ids = list(ids)
    bad = [i for i in ids if isinstance(i, bool) or not isinstance(i, int)
           or not 0 <= i < vocabulary_size]
    if bad:
        raise invalid(
            argument, ids,
            f"integer ids in [0, vocabulary_size={vocabulary_size})",
            f"Out of range or not an int: {bad[:5]}",
        )
    return sorted(set(ids))


@keras_objectives_export("keras_objectives.layers.MaskedLMMasker")
class MaskedLMMasker(SeededTransform):
    """Select tokens (or whole words) and replace them 80/10/10, seeded.

    BERT's masked-LM corruption (Devlin et al., 2019), stateless and keyed
    per example. Of the eligible tokens (real, not special),
    `selection_rate` are selected; each selected token becomes
    `mask_token_id` with probability `mask_token_rate`, a random non-special
    id with probability `random_token_rate`, and stays otherwise.

    How many tokens a row gets is `count_mode` (`n` eligible tokens):
    `"prob_round"` (default, fairseq) `floor(rate * n + U)`, unbiased with a
    count that varies by at most one; `"exact_ceil"` (keras-hub)
    `ceil(rate * n)`; `"exact_round"` (BERT's original code)
    `min(mask_selection_length, max(1, round(rate * n)))`; `"bernoulli"`
    (HF) an independent draw per token. See `keras_objectives.ops.selection`.

    With `whole_word=True` (BERT's whole-word masking), words are the pieces
    that follow a non-`##` piece; a word is selected whole or not at all,
    and it takes one 80/10/10 decision (each piece of a randomly replaced
    word gets its own random id). Words are drawn in random order while the
    token budget allows, so exact modes give at most their count and
    `prob_round` gives `rate * n` on average (`ops.selection.select_words`).

    `mask_selection_length=None` sizes the outputs from the static sequence
    length `L` at trace time: `ceil(rate * L)`, which no row can exceed in
    the exact modes and token-level `prob_round`, and
    `ceil(rate * L + 4 sqrt(L rate (1 - rate)))` (capped at `L`) for
    `bernoulli` and whole-word `prob_round`, which can draw more. Rows that
    draw more than the slots keep a random subset that fits (about 3 rows
    in 100,000 at 4 sigma). Under `exact_round` it is BERT's
    `max_predictions_per_seq` cap, so it may be below `ceil(rate * L)`.

    Args:
        vocabulary_size: int, the number of token ids.
        mask_token_id: int, the id of `[MASK]`.
        special_token_ids: list of ids never selected nor inserted (padding,
            `[CLS]`, `[SEP]`, sentinels...). `mask_token_id` is added.
        selection_rate: float, share of eligible tokens selected.
        mask_token_rate: float, share of selected tokens set to `[MASK]`.
        random_token_rate: float, share set to a random id.
        count_mode: `"prob_round"`, `"exact_ceil"`, `"exact_round"` or
            `"bernoulli"`.
        mask_selection_length: int or `None`, the static number of slots of
            `mask_positions`/`mask_ids`/`mask_weights`.
        whole_word: bool, select whole words.
        continuation_token_ids: list of the ids of `##` pieces (whole
            words); `[]` when words come only from a `word_starts` feature.
        replacement_unit: `None`, `"word"` or `"token"`: one 80/10/10
            decision per selected word (n-gram) or per token. `None` is
            `"token"` for words from `word_starts` and for n-grams
            (BERT-wwm, MacBERT) and `"word"` for `##` words.
        ngram_probabilities: `None`, or the probabilities of masking 1, 2,
            ... words at once (MacBERT: `[0.4, 0.3, 0.2, 0.1]`).
        vocabulary: optional list of token strings, used only to derive
            `continuation_token_ids` (tokens starting with `##`); it is not
            stored in the config.
        form: what a call returns. `"features"` (default): the dict
            below. `"masked_lm"`: `(x, y, sample_weight)` as keras-hub's
            `MaskedLMPreprocessor`, `x = {token_ids, padding_mask,
            mask_positions}` (and `document_ids` when given), `y =
            mask_ids`, `sample_weight = mask_weights`. `"electra"`: the
            same, with `mask_weights`, `original_token_ids` (the clean
            row) and an int32 `padding_mask` in `x`, which ELECTRA's
            generator and discriminator read.
        pad_token_id: int, the padding id; it gives the `padding_mask` of
            `x` when the input has none (the `"masked_lm"` and
            `"electra"` forms).
        seed: int, the run seed (`None` draws one and stores it).
        dupe_factor: int or `None`, BERT's static masking (see
            `SeededTransform`).

    Call arguments:
        inputs: `token_ids` (`[L]` or `[B, L]`) or a dict with `token_ids`
            and optionally `padding_mask`, `example_ids`, `epoch`,
            `word_starts` (bool, words for `whole_word`) and any feature to
            pass through (`segment_ids`, `document_ids`...).

    Returns:
        With `form="features"`, a dict: `token_ids` (corrupted),
        `mask_positions` (int32, ascending, 0-padded), `mask_ids` (original
        ids, 0-padded), `mask_weights` (float32, 1 on used slots), and every
        input feature except `token_ids` and the stream bookkeeping
        (`example_ids`, `epoch`, `stream_index`). Otherwise `(x, y,
        sample_weight)` (see `form`).

    Examples:

    >>> masker = MaskedLMMasker(
    ...     vocabulary_size=300, mask_token_id=4,
    ...     special_token_ids=[0, 1, 2, 3], selection_rate=0.25, seed=7)
    >>> out = masker({"token_ids": [2, 120, 121, 122, 123, 124, 125, 3],
    ...               "example_ids": 0})
    >>> out["token_ids"].numpy().tolist()  # [MASK] at 3, random id at 4
    [2, 120, 121, 4, 212, 124, 125, 3]
    >>> out["mask_positions"].numpy().tolist()
    [3, 4]
    >>> out["mask_ids"].numpy().tolist()
    [122, 123]

    Reference:
        - [Devlin et al., 2019](https://arxiv.org/abs/1810.04805)
        - [Liu et al., 2019 (RoBERTa: dynamic masking)](
          https://arxiv.org/abs/1907.11692)
    """

    def __init__(
        self,
        vocabulary_size,
        mask_token_id,
        special_token_ids,
        selection_rate=0.15,
        mask_token_rate=0.8,
        random_token_rate=0.1,
        count_mode="prob_round",
        mask_selection_length=None,
        whole_word=False,
        continuation_token_ids=None,
        vocabulary=None,
        form="features",
        pad_token_id=0,
        seed=None,
        dupe_factor=None,
        replacement_unit=None,
        ngram_probabilities=None,
        **kwargs,
    ):
        super().__init__(seed=seed, dupe_factor=dupe_factor, **kwargs)
        self.form = check_choice("form", form, FORMS)
        self.pad_token_id = check_int("pad_token_id", pad_token_id, minimum=0)
        if replacement_unit is not None:
            check_choice("replacement_unit", replacement_unit,
                         ("word", "token"))
        self.replacement_unit = replacement_unit
        self.ngram_probabilities = None if ngram_probabilities is None else (
            list(ngrams.check_ngram_probabilities(ngram_probabilities)))
        self.vocabulary_size = check_int(
            "vocabulary_size", vocabulary_size, minimum=1)
        if mask_token_id is None:
            raise ValueError(
                "Invalid value received for argument `mask_token_id`. "
                "Received: mask_token_id=None: the vocabulary has no [MASK] "
                "token. Add `[MASK]` to the vocabulary (keras_objectives "
                "vocabularies reserve it at id 4) and pass its id."
            )
        self.mask_token_id = check_int(
            "mask_token_id", mask_token_id, minimum=0,
            maximum=self.vocabulary_size - 1)
        self.special_token_ids = _check_ids(
            "special_token_ids", special_token_ids, self.vocabulary_size)
        self.selection_rate = check_rate("selection_rate", selection_rate)
        self.mask_token_rate = check_rate("mask_token_rate", mask_token_rate)
        self.random_token_rate = check_rate(
            "random_token_rate", random_token_rate)
        check_rates_sum(("mask_token_rate", "random_token_rate"),
                        (self.mask_token_rate, self.random_token_rate))
        self.count_mode = check_choice("count_mode", count_mode, COUNT_MODES)
        self.mask_selection_length = check_int(
            "mask_selection_length", mask_selection_length, minimum=1,
            allow_none=True)
        if not isinstance(whole_word, bool):
            raise invalid("whole_word", whole_word, "a bool")
        self.whole_word = whole_word
        continuation_token_ids = _continuation_ids(
            vocabulary, continuation_token_ids, self.vocabulary_size)
        self.continuation_token_ids = continuation_token_ids
        if self.whole_word and continuation_token_ids is None:
            raise invalid(
                "continuation_token_ids", continuation_token_ids,
                "the ids of the `##` continuation pieces when "
                "whole_word=True",
                "Pass `continuation_token_ids` or `vocabulary` (or `[]` "
                "when every input carries a `word_starts` feature)",
            )
        self._special = sorted(set(self.special_token_ids)
                               | {self.mask_token_id})
        if self.random_token_rate > 0 and len(self._special) >= (
                self.vocabulary_size):
            raise invalid(
                "special_token_ids", special_token_ids,
                "at least one non-special id for random replacement",
                "Set random_token_rate=0 or shrink special_token_ids",
            )

    @classmethod
    def from_special_tokens(cls, special_tokens, **kwargs):
        """Build from a `keras_objectives.data.SpecialTokens`.

        Takes `vocabulary_size`, `mask_token_id` (raising if the vocabulary
        has no `[MASK]`) and `special_token_ids` from it; `kwargs` are the
        other constructor arguments.
        """
        return cls(
            vocabulary_size=special_tokens.vocabulary_size,
            mask_token_id=special_tokens.require("mask_id"),
            special_token_ids=special_tokens.special_ids,
            **kwargs,
        )

    def _may_exceed_ceil(self):
        """True when a row may draw more than `ceil(rate * n)` tokens."""
        return self.count_mode == "bernoulli" or (
            self.count_mode == "prob_round"
            and (self.whole_word or self.ngram_probabilities is not None))

    def selection_length(self, sequence_length):
        """The number of output slots for a static sequence length."""
        rate, length = self.selection_rate, int(sequence_length)
        needed = math.ceil(rate * length - 1e-9)
        if self.mask_selection_length is not None:
            if (self.count_mode != "exact_round"
                    and self.mask_selection_length < needed):
                raise ValueError(
                    "Invalid value received for argument "
                    "`mask_selection_length`: mask_selection_length too "
                    f"small for the rate. Expected at least ceil("
                    f"selection_rate * sequence_length) = ceil({rate} * "
                    f"{length}) = {needed}. Received: mask_selection_length="
                    f"{self.mask_selection_length}. Raise it, lower "
                    "`selection_rate`, or leave it None to size it "
                    "automatically."
                )
            return self.mask_selection_length
        if self._may_exceed_ceil():
            spread = 4.0 * math.sqrt(length * rate * (1.0 - rate))
            needed = math.ceil(rate * length + spread - 1e-9)
        return max(1, min(length, needed))

    def _sequence_length(self, token_ids):
        length = token_ids.shape[-1]
        if length is None:
            raise ValueError(
                f"{type(self).__name__} needs a static sequence length to "
                "size its outputs. Received: token_ids with shape "
                f"{token_ids.shape}. Pad or pack to a fixed length first."
            )
        return length

    def _options(self):
        return dict(
            vocabulary_size=self.vocabulary_size,
            mask_token_id=self.mask_token_id,
            special_token_ids=self._special,
            selection_rate=self.selection_rate,
            mask_token_rate=self.mask_token_rate,
            random_token_rate=self.random_token_rate,
            count_mode=self.count_mode,
        )

    def _word_starts(self, features):
        """The `word_starts` feature whole words come from, or `None`."""
        if not self.whole_word or "word_starts" not in features:
            if self.whole_word and not self.continuation_token_ids:
                raise ValueError(
                    f"{type(self).__name__}(whole_word=True) without "
                    "`continuation_token_ids` needs a `word_starts` feature "
                    "(a segmented corpus). Received features: "
                    f"{sorted(features)}. Prepare the corpus with a "
                    "segmenter (`pip install \"keras-objectives[zh]\"`, "
                    "`data.segmenter=\"auto\"`) or pass the `##` ids."
                )
            return None
        return features["word_starts"]

    def _replacement_unit(self, word_starts):
        if self.replacement_unit is not None:
            return self.replacement_unit
        if word_starts is not None or self.ngram_probabilities is not None:
            return "token"
        return "word"

    def transform(self, features, keys):
        token_ids = features["token_ids"]
        length = self._sequence_length(token_ids)
        word_starts = self._word_starts(features)
        outputs = masking.masked_lm_mask(
            token_ids,
            keys,
            mask_selection_length=self.selection_length(length),
            padding_mask=features.get("padding_mask"),
            continuation_token_ids=self.continuation_token_ids,
            whole_word=self.whole_word,
            word_starts=word_starts,
            replacement_unit=self._replacement_unit(word_starts),
            ngram_probabilities=self.ngram_probabilities,
            **self._options(),
        )
        return self.format(features, outputs)

    def format(self, features, outputs):
        """The call's return value (see `form`) from the ops' outputs."""
        if self.form == "features":
            return {**passthrough(features), **outputs}
        if "padding_mask" in features:
            padding_mask = features["padding_mask"]
        else:  # Unpacked input: padding by token value.
            padding_mask = outputs["token_ids"] != self.pad_token_id
        x = {"token_ids": outputs["token_ids"], "padding_mask": padding_mask,
             "mask_positions": outputs["mask_positions"]}
        if self.form == "electra":
            # int32, not bool: under a `tf.distribute` strategy Keras'
            # `fit` first averages a batch to build the model, and bool
            # tensors cannot be averaged.
            real = padding_mask_of(features, self.pad_token_id)
            x.update(padding_mask=tf.cast(real, tf.int32),
                     mask_weights=outputs["mask_weights"],
                     original_token_ids=features["token_ids"])
        if "document_ids" in features:
            x["document_ids"] = features["document_ids"]
        return keras.utils.pack_x_y_sample_weight(
            x, outputs["mask_ids"], outputs["mask_weights"])

    def get_config(self):
        return {
            **super().get_config(),
            "vocabulary_size": self.vocabulary_size,
            "mask_token_id": self.mask_token_id,
            "special_token_ids": self.special_token_ids,
            "selection_rate": self.selection_rate,
            "mask_token_rate": self.mask_token_rate,
            "random_token_rate": self.random_token_rate,
            "count_mode": self.count_mode,
            "mask_selection_length": self.mask_selection_length,
            "whole_word": self.whole_word,
            "continuation_token_ids": self.continuation_token_ids,
            "form": self.form,
            "pad_token_id": self.pad_token_id,
            "replacement_unit": self.replacement_unit,
            "ngram_probabilities": self.ngram_probabilities,
        }
