"""Pseudo-log-likelihoods for bidirectional and denoising arms.

* `masked_pseudo_log_likelihood`: Salazar et al. (2020). Each scored token
  is replaced by `[MASK]` on its own copy of the row and predicted from the
  rest; the PLL is the sum of those log-probabilities. All copies of all
  rows are batched together, one masked position per copy.
* `denoising_pseudo_log_likelihood`: the same idea in T5's span-corruption
  format. For each token, the inputs are the sequence with that token
  replaced by the sentinel `<extra_id_0>` (then EOS), the targets are
  `<extra_id_0> token EOS`, and the score is `log p(targets | inputs)`,
  in the decoder-only form (one stream, bidirectional over the inputs) or
  on an encoder-decoder backbone.
* `reconstruction_pseudo_log_likelihood`: the same idea in BART's format:
  the token is replaced by `[MASK]`, the whole original is the target, and
  only the masked token's reconstruction is scored.

None is a likelihood: a pseudo-perplexity is not comparable with a
causal perplexity (docs/methodology.md). They rank two sentences for one
model.
"""

import numpy as np
import tensorflow as tf

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.evaluation import common
from keras_objectives.evaluation.language_model import token_log_probs


def _masked_score_function(model, gathered):
    def make():
        @tf.function(reduce_retracing=True)
        def fn(x, positions, targets):
            logits = tf.cast(model(x, training=False), tf.float32)
            if gathered:
                logits = logits[:, 0]
            else:
                logits = tf.gather(logits, positions, batch_dims=1)
            return -tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=targets, logits=logits)

        return fn

    return common.cached(model, ("masked_pll", gathered), make)


@keras_objectives_export(
    "keras_objectives.evaluation.masked_pseudo_log_likelihood")
def masked_pseudo_log_likelihood(model, token_ids, padding_mask, score_mask,
                                 mask_id, batch_size=64):
    """Salazar et al. (2020) PLL: mask one position at a time.

    Args:
        model: a masked LM with inputs `token_ids`, `padding_mask` and
            `mask_positions` (logits `[B, P, V]` at those positions), or one
            emitting logits `[B, L, V]` at every position.
        token_ids: int `[N, L]` rows.
        padding_mask: `[N, L]`, true on real tokens.
        score_mask: `[N, L]`, true on the positions to score (the text, not
            `[CLS]`/`[SEP]`).
        mask_id: int, the `[MASK]` id.
        batch_size: int, masked copies per forward pass.

    Returns:
        float64 `[N]`, the sum over scored positions of
        `log p(token | row with that token masked)`.

    Examples:

    A model that ignores its input and predicts token 1 with probability
    1/2 of 4 gives `2 * log(1/2)` for a row scoring two 1s:

    >>> import keras, math
    >>> x = keras.Input((None,), dtype="int32", name="token_ids")
    >>> logits = keras.layers.Lambda(lambda t: keras.ops.zeros(
    ...     (keras.ops.shape(t)[0], keras.ops.shape(t)[1], 4))
    ...     + keras.ops.array([0.0, math.log(3.0), 0.0, 0.0]))(x)
    >>> model = keras.Model(x, logits)
    >>> pll = masked_pseudo_log_likelihood(
    ...     model, [[2, 1, 1, 3]], [[1, 1, 1, 1]], [[0, 1, 1, 0]], mask_id=0)
    >>> round(float(pll[0]), 4) == round(2 * math.log(0.5), 4)
    True
    """
    token_ids = np.asarray(token_ids, np.int32)
    padding_mask = np.asarray(padding_mask, bool)
    where = np.argwhere(np.asarray(score_mask, bool) & padding_mask)
    rows, positions = where[:, 0], where[:, 1].astype(np.int32)
    copies = token_ids[rows].copy()
    targets = copies[np.arange(len(rows)), positions].copy()
    copies[np.arange(len(rows)), positions] = mask_id
    gathered = "mask_positions" in common.input_names(model)
    score = _masked_score_function(model, gathered)
    arrays = {"token_ids": copies, "padding_mask": padding_mask[rows],
              "positions": positions, "targets": targets,
              "original": token_ids[rows]}
    out = []
    for count, batch in common.batches(arrays, batch_size):
        feed = common.model_feed(
            model, batch["token_ids"], batch["padding_mask"],
            mask_positions=batch["positions"][:, None] if gathered else None,
            original_token_ids=batch["original"],
        )
        logp = score(feed, tf.constant(batch["positions"]),
                     tf.constant(batch["targets"]))
        out.append(np.asarray(logp, np.float64)[:count])
    pll = np.zeros(len(token_ids), np.float64)
    if out:
        np.add.at(pll, rows, np.concatenate(out))
    return pll


def _denoising_examples(sequences, sentinel_id, eos_id):
    """One `(inputs, targets, scored, row)` per token of every sequence."""
    for row, seq in enumerate(sequences):
        for i, token in enumerate(seq):
            inputs = list(seq[:i]) + [sentinel_id] + list(seq[i + 1:])
            yield inputs + [eos_id], [sentinel_id, token, eos_id], None, row


def _reconstruction_examples(sequences, mask_id, end):
    """One `(corrupted, original, scored position, row)` per token."""
    for row, seq in enumerate(sequences):
        for i in range(len(seq)):
            inputs = list(seq[:i]) + [mask_id] + list(seq[i + 1:])
            yield inputs + end, list(seq) + end, i, row


@keras_objectives_export(
    "keras_objectives.evaluation.denoising_pseudo_log_likelihood")
def denoising_pseudo_log_likelihood(model, sequences, sentinel_id, eos_id,
                                    decoder_start_id=0, pad_id=0,
                                    batch_size=64):
    """T5-style PLL: each token in turn is a one-token noise span.

    Decoder-only form (inputs `token_ids`, `padding_mask`, `prefix_mask`),
    as `keras_objectives.ops.prefix_lm.decoder_example` builds it: the
    stream `inputs ++ targets` shifted right behind `decoder_start_id`,
    bidirectional over the start token and the inputs, the targets scored.
    Encoder-decoder form (inputs `encoder_token_ids`, ...): the encoder
    reads the inputs, the decoder the targets shifted right.

    Args:
        model: a decoder-only or encoder-decoder denoising pre-trainer
            emitting logits at every (decoder) position.
        sequences: list of lists of token ids (the text, no specials).
        sentinel_id: int, the id of `<extra_id_0>`.
        eos_id: int, the EOS id that ends inputs and targets.
        decoder_start_id: int, the token in front of the shifted stream.
        pad_id: int.
        batch_size: int.

    Returns:
        float64 `[len(sequences)]`, the summed target log-probabilities.
    """
    examples = list(_denoising_examples(sequences, sentinel_id, eos_id))
    return _inputs_to_targets_scores(model, examples, len(sequences),
                                     decoder_start_id, pad_id, batch_size)


@keras_objectives_export(
    "keras_objectives.evaluation.reconstruction_pseudo_log_likelihood")
def reconstruction_pseudo_log_likelihood(model, sequences, mask_id,
                                         decoder_start_id, eos_id=None,
                                         pad_id=0, batch_size=64):
    """BART-style PLL: mask one token, score it in the reconstruction.

    For each token `i`, the inputs are the sequence with token `i` replaced
    by `[MASK]` (BART's text infilling of a one-token span), the targets
    the whole original sequence, and the score is `log p(token i | inputs,
    targets before i)`: everything else in the sentence is visible, as in
    Salazar et al.'s PLL. Same two model forms as
    `denoising_pseudo_log_likelihood`; `eos_id`, if given, ends both the
    inputs and the targets (as a document end in a packed row) and is not
    scored.

    Returns:
        float64 `[len(sequences)]`, the summed log-probabilities.
    """
    end = [] if eos_id is None else [eos_id]
    examples = list(_reconstruction_examples(sequences, mask_id, end))
    return _inputs_to_targets_scores(model, examples, len(sequences),
                                     decoder_start_id, pad_id, batch_size)


def _inputs_to_targets_scores(model, examples, count, start_id, pad_id,
                              batch_size):
    """Summed log p(targets) per row; `scored` picks one target or all."""
    pll = np.zeros(count, np.float64)
    if not examples:
        return pll
    rows = np.array([e[3] for e in examples])
    if "encoder_token_ids" in common.input_names(model):
        logp = _encoder_decoder_scores(model, examples, start_id, pad_id,
                                       batch_size)
    else:
        x, targets, weights = decoder_rows(examples, start_id, pad_id)
        logp, _ = token_log_probs(model, x["token_ids"], targets, weights,
                                  prefix_mask=x["prefix_mask"],
                                  padding_mask=x["padding_mask"],
                                  batch_size=batch_size)
    np.add.at(pll, rows, logp)
    return pll


def decoder_rows(examples, start_id, pad_id):
    """The decoder-only `(x, y, weights)` of `(inputs, targets, scored, _)`.

    The layout of `keras_objectives.ops.prefix_lm.decoder_example`: the
    stream `inputs ++ targets` shifted right behind `start_id`, true
    `prefix_mask` on the start token and the inputs, weights on the targets
    (or on the one `scored` target).
    """
    width = max(len(a) + len(b) for a, b, _, _ in examples)
    n = len(examples)
    x = {"token_ids": np.full((n, width), pad_id, np.int32),
         "padding_mask": np.zeros((n, width), bool),
         "prefix_mask": np.zeros((n, width), bool)}
    targets = np.full((n, width), pad_id, np.int32)
    weights = np.zeros((n, width))
    for k, (a, b, scored, _) in enumerate(examples):
        stream = a + b
        x["token_ids"][k, :len(stream)] = [start_id] + stream[:-1]
        x["padding_mask"][k, :len(stream)] = True
        x["prefix_mask"][k, :len(a) + 1] = True
        targets[k, :len(stream)] = stream
        if scored is None:
            weights[k, len(a):len(stream)] = 1.0
        else:
            weights[k, len(a) + scored] = 1.0
    return x, targets, weights


def _encoder_decoder_scores(model, examples, start_id, pad_id, batch_size):
    width = max(len(a) for a, _, _, _ in examples)
    length = max(len(b) for _, b, _, _ in examples)
    n = len(examples)
    encoder = np.full((n, width), pad_id, np.int32)
    decoder = np.full((n, length), pad_id, np.int32)
    targets = np.full((n, length), pad_id, np.int32)
    weights = np.zeros((n, length))
    for k, (a, b, scored, _) in enumerate(examples):
        encoder[k, :len(a)] = a
        decoder[k, :len(b)] = [start_id] + b[:-1]
        targets[k, :len(b)] = b
        if scored is None:
            weights[k, :len(b)] = 1.0
        else:
            weights[k, scored] = 1.0
    arrays = {
        "encoder_token_ids": encoder,
        "encoder_padding_mask": np.arange(width)[None, :] < np.array(
            [len(a) for a, _, _, _ in examples])[:, None],
        "decoder_token_ids": decoder,
        "decoder_padding_mask": np.arange(length)[None, :] < np.array(
            [len(b) for _, b, _, _ in examples])[:, None],
        "targets": targets,
        "weights": weights,
    }
    call = common.compiled_call(model)
    out = []
    for count, batch in common.batches(arrays, batch_size):
        targets_batch, weights_batch = batch.pop("targets"), batch.pop(
            "weights")
        logits = tf.cast(call(batch), tf.float32)
        logp = -tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=targets_batch, logits=logits)
        out.append((np.asarray(logp, np.float64) * weights_batch)[
            :count].sum(1))
    return np.concatenate(out)
