"""How each arm scores a sentence, and the sentence scores themselves.

Each objective declares it (`Objective.sentence_scoring`):

| `sentence_scoring`     | score                                   | arms |
|------------------------|-----------------------------------------|------|
| `"causal"`             | causal `log p(text [SEP])`              | causal LM, FIM, decoder-form prefix LM |
| `"masked_pll"`         | MLM PLL (Salazar et al.) of `scoring_model` | masked LM, span masking, ELECTRA (its generator) |
| `"denoising_pll"`      | T5-style PLL (both forms)               | span corruption, iid denoising, UL2 |
| `"reconstruction_pll"` | reconstruction PLL                      | BART denoising |
| `None`                 | none, with a reason                     | encoder-decoder prefix LM, hybrid mixtures |

The causal score reads the arm's `lm_context` first (an empty prefix for
prefix LM).
"""  # noqa: E501

import numpy as np

from keras_objectives.evaluation import common
from keras_objectives.evaluation import reuse
from keras_objectives.evaluation.language_model import causal_rows
from keras_objectives.evaluation.language_model import decoder_start_id
from keras_objectives.evaluation.language_model import next_token_reason
from keras_objectives.evaluation.language_model import token_log_probs
from keras_objectives.evaluation.pseudo_likelihood import (
    denoising_pseudo_log_likelihood,
)
from keras_objectives.evaluation.pseudo_likelihood import (
    masked_pseudo_log_likelihood,
)
from keras_objectives.evaluation.pseudo_likelihood import (
    reconstruction_pseudo_log_likelihood,
)

SCORINGS = ("causal", "masked_pll", "denoising_pll", "reconstruction_pll")


def _name(objective):
    return getattr(objective, "name", None) or type(objective).__name__


def declared_scoring(objective):
    """The objective's `sentence_scoring` (for objects without the hook:
    `"causal"` for a next-token model, else `None`)."""
    if hasattr(objective, "sentence_scoring"):
        return objective.sentence_scoring
    return "causal" if next_token_reason(objective) is None else None


def masked_lm_model(model, objective):
    """A Keras model giving MLM logits at `mask_positions`, or `None`.

    The objective's `scoring_model(model)`: the pre-trainer itself for a
    masked LM; for ELECTRA, a model around its `generator` layer (the
    discriminator has no MLM head).
    """
    hook = getattr(objective, "scoring_model", None)
    scorer = model if hook is None else common.cached(
        model, "scoring_model", lambda: hook(model))
    if scorer is None or "mask_positions" not in common.input_names(scorer):
        return None
    output = scorer.output
    if isinstance(output, dict) or len(output.shape) != 3:
        return None
    return scorer


def scoring_kind(model, objective):
    """`(kind, None)` with a kind of `SCORINGS`, or `(None, reason)`."""
    name = _name(objective)
    mode = getattr(objective, "attention_mode", None)
    kind = declared_scoring(objective)
    if kind == "denoising_pll" and not objective.special_tokens.sentinel_ids:
        return None, (f"The objective {name!r} is scored with sentinel "
                      "<extra_id_0>, which the vocabulary lacks.")
    if kind == "masked_pll":
        if masked_lm_model(model, objective) is None:
            return None, (
                f"The objective {name!r} trained no MLM head to score a "
                "sentence with (an ELECTRA discriminator without its "
                "generator has none), so minimal pairs are not defined "
                "for it."
            )
        if objective.special_tokens.mask_id is None:
            return None, "The vocabulary has no [MASK] token for a PLL."
    if kind is None:
        return None, (
            f"No sentence score is defined for the objective {name!r} "
            f"(attention_mode={mode!r}); set `sentence_scoring` on it."
        )
    if kind not in SCORINGS:
        raise ValueError(
            f"Invalid value received for `sentence_scoring` of the "
            f"objective {name!r}. Expected one of {list(SCORINGS)} or None. "
            f"Received: sentence_scoring={kind!r}"
        )
    return kind, None


def sentence_scores(model, objective, corpus, sentences, kind,
                    batch_size=64):
    """Float64 `[N]` scores of `sentences` (higher = more acceptable)."""
    special = corpus.special_tokens
    pad = special.pad_id or 0
    ids = reuse.tokenize_cached(corpus.tokenizer, sentences)
    backbone = getattr(model, "backbone", model)
    limit = getattr(backbone, "max_sequence_length", None) or 10**9
    if kind == "denoising_pll":
        ids = [row[:max(1, limit // 2 - 3)] for row in ids]
        return denoising_pseudo_log_likelihood(
            model, ids, special.sentinel_ids[0], special.eos_id,
            decoder_start_id=decoder_start_id(objective), pad_id=pad,
            batch_size=batch_size)
    if kind == "reconstruction_pll":
        ids = [row[:max(1, limit // 2 - 1)] for row in ids]
        return reconstruction_pseudo_log_likelihood(
            model, ids, special.require("mask_id"),
            decoder_start_id(objective), eos_id=special.eos_id, pad_id=pad,
            batch_size=batch_size)
    if kind == "causal":
        ids = [row + [special.eos_id] for row in ids]
        length = min(max(len(r) for r in ids) + 2, limit)
        inputs, targets, weights, prefix = causal_rows(objective, ids,
                                                       length)
        if len(inputs) != len(ids):
            raise ValueError(
                f"A sentence does not fit the backbone's max_sequence_length"
                f"={limit}. Received sentences of up to "
                f"{max(len(r) for r in ids)} tokens. Shorten them "
                "(`max_words`)."
            )
        logp, _ = token_log_probs(model, inputs, targets, weights,
                                  prefix_mask=prefix, batch_size=batch_size)
        return logp
    if kind == "masked_pll":
        rows = [[common.start_id(special)] + row + [special.eos_id]
                for row in ids]
        width = min(max(len(r) for r in rows), limit)
        token_ids = np.full((len(rows), width), pad, np.int32)
        for i, row in enumerate(rows):
            row = row[:width]
            token_ids[i, :len(row)] = row
        lengths = np.array([min(len(r), width) for r in rows])
        position = np.arange(width)[None, :]
        real = position < lengths[:, None]
        score_mask = real & (position > 0) & (position < lengths[:, None] - 1)
        return masked_pseudo_log_likelihood(
            masked_lm_model(model, objective), token_ids, real, score_mask,
            special.mask_id, batch_size=batch_size)
    raise ValueError(
        f"Invalid value received for argument `kind`. Expected one of "
        f"{list(SCORINGS)}. Received: kind={kind!r}"
    )
