"""Held-out next-token loss, perplexity and bits per byte.

For arms that define a next-token distribution over plain text (causal LM,
prefix LM scored with an empty prefix, FIM and other causal hybrids). The
loss is summed over every scored token and divided once, perplexity is
`exp` of that (never a mean of per-sequence perplexities), and bits per
byte divide the same total by `ln 2` and by the UTF-8 bytes of exactly the
text that was scored (docs/methodology.md, "Perplexity").
"""

import math

import numpy as np
import tensorflow as tf

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.evaluation import common
from keras_objectives.utils import check_int

LM_KEYS = ("loss", "perplexity", "bits_per_byte", "bits_per_character",
           "tokens", "bytes", "characters", "total_nll")


def next_token_reason(objective):
    """`None` if the arm defines p(next token | past), else the reason.

    Reads the objective's `defines_next_token` (objects without it: causal
    attention defines one).
    """
    name = getattr(objective, "name", type(objective).__name__)
    mode = getattr(objective, "attention_mode", None)
    flag = getattr(objective, "defines_next_token", mode == "causal")
    if flag:
        return None
    if mode == "encoder_decoder":
        return (
            f"The objective {name!r} runs on an encoder-decoder backbone; "
            "held-out LM loss is measured on decoder-only next-token arms."
        )
    return (
        f"The objective {name!r} (attention_mode={mode!r}) does not train "
        "a next-token distribution over plain text, so a held-out LM loss "
        "is not defined for it; compare it with minimal pairs and probes "
        "(docs/methodology.md: losses are not comparable across "
        "objectives)."
    )


def decoder_start_id(objective):
    """The decoder start token of an inputs-to-targets arm (T5: pad)."""
    for owner in (objective, getattr(objective, "preprocessor", None)):
        value = getattr(owner, "decoder_start_token_id", None)
        if value is not None:
            return int(value)
    return int(objective.special_tokens.pad_id or 0)


def lm_context(objective):
    """`(tokens, prefix_positions)` put before a text to score it causally.

    A causal arm reads `[SEP]` (every packed document follows one). A
    prefix-attention decoder (prefix LM and other inputs-to-targets arms in
    decoder form) reads its decoder start token, then an empty input that
    is only its EOS, both bidirectional (`prefix_mask`), as its training
    stream `start inputs [SEP] targets` would be with an empty prefix.
    """
    eos = common.start_id(objective.special_tokens)
    if getattr(objective, "attention_mode", None) == "prefix":
        return [decoder_start_id(objective), eos], 2
    return [eos], 0


def causal_rows(objective, documents, length):
    """Rows scoring every token of `documents` once, in windows.

    Each window is `context + up to length + 1 - len(context) tokens`;
    returns `(inputs, targets, weights, prefix_mask)` arrays `[N, length]`.
    """
    context, prefix = lm_context(objective)
    chunk = length + 1 - len(context)
    pad = objective.special_tokens.pad_id or 0
    rows = [(context + ids[k:k + chunk], len(ids[k:k + chunk]))
            for ids in documents for k in range(0, len(ids), chunk)]
    inputs = np.full((len(rows), length), pad, np.int32)
    targets = np.full_like(inputs, pad)
    weights = np.zeros(inputs.shape, np.float64)
    for i, (row, count) in enumerate(rows):
        inputs[i, :len(row) - 1] = row[:-1]
        targets[i, :len(row) - 1] = row[1:]
        weights[i, len(row) - 1 - count:len(row) - 1] = 1.0
    prefix_mask = np.zeros(inputs.shape, bool)
    prefix_mask[:, :prefix] = True
    return inputs, targets, weights, prefix_mask


def _scored_head(model):
    """`(hidden_model, head)` when the logits are an `lm_head` on top of
    per-position states (the causal, prefix and decoder-only pre-trainers),
    else `None`: then only the scored positions need the vocabulary
    projection, which dominates a small body's forward pass."""
    def make():
        try:
            head = model.get_layer("lm_head")
            if len(model.outputs) != 1 or head.output is not model.outputs[0]:
                return None
            import keras

            return keras.Model(model.inputs, head.input), head
        except (ValueError, AttributeError):
            return None

    return common.cached(model, "scored_head", make)


def _gathered_score_function(model):
    def make():
        hidden_model, head = _scored_head(model)

        @tf.function(reduce_retracing=True)
        def fn(x, positions, targets):
            hidden = hidden_model(x, training=False)
            hidden = tf.gather(hidden, positions, batch_dims=1)
            logits = tf.cast(head(hidden), tf.float32)
            return -tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=targets, logits=logits)

        return fn

    return common.cached(model, "gathered_token_log_probs", make)


def _scored_positions(weights):
    """`(positions [N, P], valid [N, P])`: each row's weighted positions,
    in order, padded with position 0 (`valid` false) to the widest row."""
    scored = weights > 0
    width = max(1, int(scored.sum(1).max(initial=0)))
    order = np.argsort(~scored, axis=1, kind="stable")[:, :width]
    valid = np.take_along_axis(scored, order, 1)
    return np.where(valid, order, 0).astype(np.int32), valid


def _score_function(model):
    def make():
        @tf.function(reduce_retracing=True)
        def fn(x, targets):
            logits = tf.cast(model(x, training=False), tf.float32)
            tf.debugging.assert_rank(
                logits, 3, "the model must emit logits [batch, length, "
                "vocabulary] at every position")
            return -tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=targets, logits=logits)

        return fn

    return common.cached(model, "token_log_probs", make)


@keras_objectives_export("keras_objectives.evaluation.token_log_probs")
def token_log_probs(model, inputs, targets, weights, prefix_mask=None,
                    padding_mask=None, batch_size=16):
    """Per-row sums of `log p(targets[t] | inputs[<= t])` where weighted.

    The model must emit logits at every input position, `logits[:, t]`
    predicting the token that follows `inputs[:, t]` (a causal LM
    pre-trainer, or a prefix/decoder-only pre-trainer fed `prefix_mask`).

    Args:
        model: a Keras model with (some of) the inputs `token_ids`,
            `padding_mask`, `prefix_mask`, `document_ids`.
        inputs: int `[N, L]` input rows (padding anywhere after the end).
        targets: int `[N, L]`, the token to score at each position.
        weights: `[N, L]`, 1 where a target is scored, 0 elsewhere.
        prefix_mask: optional `[N, L]`, true where attention is
            bidirectional; default all false (causal).
        padding_mask: optional `[N, L]`, true on real inputs; default true
            up to the last weighted position.
        batch_size: int.

    Returns:
        `(log_probs, counts)`: float64 `[N]` sums of natural-log
        probabilities and int `[N]` numbers of scored targets.

    Examples:

    A model that is uniform over 4 tokens gives `log(1/4)` per target:

    >>> import keras
    >>> x = keras.Input((None,), dtype="int32", name="token_ids")
    >>> logits = keras.layers.Lambda(lambda t: keras.ops.zeros(
    ...     (keras.ops.shape(t)[0], keras.ops.shape(t)[1], 4)))(x)
    >>> uniform = keras.Model(x, logits)
    >>> lp, n = token_log_probs(uniform, [[1, 2, 3]], [[2, 3, 0]],
    ...                         [[1, 1, 0]])
    >>> round(float(lp[0]), 4), int(n[0]), round(2 * math.log(1 / 4), 4)
    (-2.7726, 2, -2.7726)
    """
    inputs = np.asarray(inputs, np.int32)
    targets = np.asarray(targets, np.int32)
    weights = np.asarray(weights, np.float64)
    if padding_mask is None:
        last = np.where(weights.any(1), weights.shape[1]
                        - np.argmax(weights[:, ::-1] > 0, 1), 1)
        padding_mask = np.arange(inputs.shape[1])[None, :] < last[:, None]
    padding = np.asarray(padding_mask, bool)
    arrays = {"inputs": inputs, "targets": targets, "padding": padding}
    if prefix_mask is not None:
        arrays["prefix"] = np.asarray(prefix_mask)
    # Few scored positions per row (a pseudo-likelihood scores one to a
    # few targets of a long stream): project only those onto the
    # vocabulary.
    gathered = (_scored_head(model) is not None
                and 2 * (weights > 0).sum(1).max(initial=0)
                <= inputs.shape[1])
    if gathered:
        positions, valid = _scored_positions(weights)
        arrays["positions"] = positions
        arrays["targets"] = np.take_along_axis(targets, positions, 1)
        weights = np.take_along_axis(weights, positions, 1) * valid
        score = _gathered_score_function(model)
    else:
        score = _score_function(model)
    out = []
    for count, batch in common.batches(arrays, batch_size):
        feed = common.model_feed(model, batch["inputs"], batch["padding"],
                                 prefix_mask=batch.get("prefix"))
        extra = (tf.constant(batch["positions"]),) if gathered else ()
        logp = score(feed, *extra, tf.constant(batch["targets"]))
        out.append(np.asarray(logp, np.float64)[:count])
    logp = (np.concatenate(out, 0) if out
            else np.zeros((0,) + weights.shape[1:]))
    return (logp * weights).sum(1), (weights > 0).sum(1)


def _budget_texts(texts, max_characters):
    """Documents in order, the last one cut at a space to fit the budget."""
    chosen, left = [], max_characters
    for text in texts:
        if left is not None and left <= 0:
            break
        if left is not None and len(text) > left:
            cut = text.rfind(" ", 0, left)
            text = text[: cut if cut > 0 else left]
        text = text.strip()
        if text:
            chosen.append(text)
            if left is not None:
                left -= len(text)
    return chosen


@keras_objectives_export("keras_objectives.evaluation.evaluate_language_model")
def evaluate_language_model(model, objective, corpus, seed=0, texts=None,
                            sequence_length=None, max_characters=None,
                            batch_size=16):
    """Held-out next-token loss, perplexity and bits per byte.

    Each held-out document is scored on its own in non-overlapping windows
    of `sequence_length` inputs; every window starts with the arm's context
    (`lm_context`: `[SEP]`, as every packed document follows one; for a
    prefix LM its start token and an empty input), and every text token is
    predicted exactly once (the end `[SEP]` is not scored, so the bytes and
    the tokens cover the same text). A prefix-LM arm is thus scored with an
    empty prefix, i.e. causally.

    By default the whole validation split is scored from the corpus' token
    ids, with the UTF-8 bytes the data package counted for it
    (`corpus.stats["validation"]["bytes"]`). With `texts` or
    `max_characters`, the given (or held-out) text is tokenized and its
    bytes counted here.

    Args:
        model: the pre-trainer (`load_run(...)[0]`) emitting logits at every
            position.
        objective: its `Objective`.
        corpus: the prepared corpus (tokenizer, special tokens, held-out
            `validation_texts`).
        seed: int, unused (the instrument is deterministic); kept so every
            instrument has the same signature.
        texts: optional list of held-out documents instead of the corpus'.
        sequence_length: int, window length; default the objective's.
        max_characters: int or `None` (everything), budget of characters
            scored (the documents in order, the last one cut at a space).
        batch_size: int.

    Returns:
        A dict: `loss` (mean NLL in nats per token), `perplexity`,
        `bits_per_byte`, `bits_per_character` (the same total over the
        characters; for Chinese), `tokens`, `bytes`, `characters`,
        `total_nll`, `documents`. For an
        arm without a next-token distribution the metrics are `None` and
        `reason` says why.
    """
    del seed
    reason = next_token_reason(objective)
    if reason:
        return common.skipped(reason, LM_KEYS)
    length = common.check_sequence_length(sequence_length, model, objective)
    check_int("batch_size", batch_size, minimum=1)
    check_int("max_characters", max_characters, minimum=1, allow_none=True)
    documents = getattr(corpus, "validation_documents_token_ids", None)
    stats = getattr(corpus, "stats", {}).get("validation", {})
    if (texts is None and max_characters is None and documents is not None
            and stats.get("bytes")):
        documents = [[int(i) for i in d] for d in documents]
        num_bytes, count = int(stats["bytes"]), len(documents)
        num_characters = int(stats.get("characters") or 0)
    else:
        texts = _budget_texts(
            texts if texts is not None else common.validation_texts(corpus),
            max_characters)
        if not texts:
            raise ValueError(
                "Invalid value received for argument `texts`. Expected at "
                "least one non-empty held-out document. Received: texts=[]."
            )
        documents = common.tokenize(corpus.tokenizer, texts)
        num_bytes = sum(len(t.encode("utf-8")) for t in texts)
        num_characters = sum(len(t) for t in texts)
        count = len(texts)
    inputs, targets, weights, prefix_mask = causal_rows(
        objective, documents, length)
    logp, counts = token_log_probs(model, inputs, targets, weights,
                                   prefix_mask=prefix_mask,
                                   batch_size=batch_size)
    total = -float(logp.sum())
    tokens = int(counts.sum())
    loss = total / max(tokens, 1)
    return {
        "loss": loss,
        "perplexity": math.exp(min(loss, 700.0)),
        "bits_per_byte": total / math.log(2) / num_bytes,
        # Chinese: a character is 3 UTF-8 bytes, and usually one token.
        "bits_per_character": (total / math.log(2) / num_characters
                               if num_characters else None),
        "tokens": tokens,
        "bytes": num_bytes,
        "characters": num_characters,
        "total_nll": total,
        "documents": count,
        "scoring": "causal",
    }
