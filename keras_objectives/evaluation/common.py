"""Shared plumbing of the instruments: tokenize, feed any model, pool.

Every instrument turns text into the same static-shape rows (`encode`),
feeds them to a model whatever inputs it declares (`model_feed`), and, for
the probes, reads the backbone alone (`backbone_states`) with the attention
each arm gets (`feature_attention_mode`):

| objective trained with | body can express   | features computed with |
|------------------------|--------------------|------------------------|
| `bidirectional`        | bidirectional      | bidirectional          |
| `prefix`               | prefix (all modes) | bidirectional (full prefix) |
| `causal`               | causal (or any)    | causal                 |
| encoder-decoder        | encoder + decoder  | the encoder's output   |

A body is never asked for attention its objective did not train, except
that a prefix body sees its whole input as the prefix.
"""

import weakref

import keras
import numpy as np
import tensorflow as tf

from keras_objectives.utils import invalid


def tokenize(tokenizer, texts):
    """Token ids of each text, as lists of Python ints.

    Args:
        tokenizer: a keras-hub tokenizer (or any callable) that maps a list
            of strings to unpadded ids: a list of lists, or a ragged tensor.
        texts: list of str.

    Returns:
        A list of lists of ints, one per text.

    Examples:

    >>> tokenize(lambda texts: [[len(w) for w in t.split()] for t in texts],
    ...          ["a bb", "ccc"])
    [[1, 2], [3]]
    """
    texts = list(texts)
    if not texts:
        return []
    out = tokenizer(texts)
    if isinstance(out, tf.RaggedTensor):
        out = out.to_list()
    elif hasattr(out, "numpy"):
        out = out.numpy().tolist()
    return [[int(i) for i in row] for row in out]


def start_id(special_tokens):
    """The token every row starts with: `[SEP]` (EOS), else `[CLS]`.

    Pre-training packs documents as `doc [SEP] doc [SEP] ...` with no
    `[CLS]`, so a document always follows `[SEP]`: starting each evaluated
    text with it puts the text where pre-training put every document, and
    never feeds a token whose embedding was not trained.
    """
    for name in ("eos_id", "bos_id"):
        value = getattr(special_tokens, name, None)
        if value is not None:
            return int(value)
    return int(special_tokens.pad_id or 0)


def encode(corpus, texts, sequence_length, add_end=True):
    """Tokenize `texts` into `[SEP] ids... [SEP]` rows padded to one length.

    Args:
        corpus: anything with `tokenizer` and `special_tokens` (a prepared
            `keras_objectives.data` corpus).
        texts: list of str.
        sequence_length: int, the static row length; longer rows are cut.
        add_end: bool, append EOS (`[SEP]`) when it fits.

    Returns:
        `(token_ids, padding_mask, truncated)`: int32 and bool arrays
        `[N, sequence_length]` and the number of rows that were cut.
    """
    from keras_objectives.evaluation.reuse import tokenize_cached

    special = corpus.special_tokens
    rows = tokenize_cached(corpus.tokenizer, texts)
    token_ids = np.full((len(rows), sequence_length),
                        special.pad_id or 0, np.int32)
    lengths = np.zeros(len(rows), np.int32)
    truncated = 0
    for i, ids in enumerate(rows):
        row = [start_id(special)] + ids
        if add_end:
            row.append(special.eos_id)
        if len(row) > sequence_length:
            truncated += 1
            row = row[:sequence_length]
        token_ids[i, : len(row)] = row
        lengths[i] = len(row)
    padding_mask = np.arange(sequence_length)[None, :] < lengths[:, None]
    return token_ids, padding_mask, truncated


def input_names(model):
    """The names of a Keras model's inputs (`token_ids` for a single one)."""
    inputs = model.input
    if isinstance(inputs, dict):
        return tuple(inputs)
    return ("token_ids",)


def model_feed(model, token_ids, padding_mask, prefix_mask=None,
               mask_positions=None, original_token_ids=None):
    """The input dict a model declares, filled from the given arrays.

    `prefix_mask` defaults to all false (causal), `document_ids` to one
    document per row, `segment_ids` to zeros, `mask_weights` to ones at the
    `mask_positions`, `original_token_ids` to `token_ids`; any other
    declared input is an error naming it.
    """
    token_ids = np.asarray(token_ids, np.int32)
    filled = {
        "token_ids": token_ids,
        "padding_mask": np.asarray(padding_mask).astype(np.int32),
        "prefix_mask": (np.zeros_like(token_ids) if prefix_mask is None
                        else np.asarray(prefix_mask).astype(np.int32)),
        "document_ids": np.zeros_like(token_ids),
        "segment_ids": np.zeros_like(token_ids),
    }
    if mask_positions is not None:
        filled["mask_positions"] = np.asarray(mask_positions, np.int32)
        filled["mask_weights"] = np.ones(filled["mask_positions"].shape,
                                         np.float32)
    filled["original_token_ids"] = (
        token_ids if original_token_ids is None
        else np.asarray(original_token_ids, np.int32))
    names = input_names(model)
    missing = [n for n in names if n not in filled]
    if missing:
        raise ValueError(
            f"Invalid value received for argument `model`: it declares the "
            f"inputs {missing}, which this instrument cannot fill. Received:"
            f" model inputs={list(names)}. Pass a model whose inputs are "
            "among token_ids, padding_mask, prefix_mask, document_ids, "
            "segment_ids and mask_positions."
        )
    if not isinstance(model.input, dict):
        return filled["token_ids"]
    return {n: filled[n] for n in names}


def batches(arrays, batch_size):
    """Yield `(count, batch)` slices of equal-length arrays.

    The last batch is padded by repeating its last row, so every batch has
    the same static shape (one trace); `count` is the number of real rows.
    """
    n = len(next(iter(arrays.values())))
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        index = np.minimum(np.arange(start, start + batch_size), stop - 1)
        yield stop - start, {k: np.asarray(v)[index]
                             for k, v in arrays.items()}


_CACHE = weakref.WeakKeyDictionary()


def cached(model, key, factory):
    """`factory()`, computed once per `(model, key)`.

    Traced functions and helper models live here, not as attributes of the
    model, so that evaluating a model never adds anything Keras would track
    (weights, layers) or save.
    """
    entries = _CACHE.setdefault(model, {})
    if key not in entries:
        entries[key] = factory()
    return entries[key]


def compiled_call(model):
    """A traced `model(x, training=False)`, cached per model."""
    return cached(model, "call", lambda: tf.function(
        lambda x: model(x, training=False), reduce_retracing=True))


def feature_attention_mode(backbone, objective):
    """The attention the probes read the backbone with (table above).

    Examples:

    >>> from keras_objectives.models import TransformerBody
    >>> body = TransformerBody(
    ...     vocabulary_size=20, num_layers=1, num_heads=1, hidden_dim=4,
    ...     intermediate_dim=4, max_sequence_length=8,
    ...     attention_mode="prefix")
    >>> class Prefix: attention_mode = "prefix"
    >>> feature_attention_mode(body, Prefix())
    'bidirectional'
    """
    from keras_objectives.models.backbones import attention_modes

    modes = attention_modes(backbone)
    if "encoder_decoder" in modes:
        return "encoder"
    trained = getattr(objective, "attention_mode", "bidirectional")
    if trained in ("bidirectional", "prefix") and "bidirectional" in modes:
        return "bidirectional"
    if "causal" in modes:
        return "causal"
    if "bidirectional" in modes:
        return "bidirectional"
    raise ValueError(
        f"Invalid value received for argument `model`: the backbone "
        f"`{type(backbone).__name__}` supports none of the attention modes "
        f"the probes use. Received: attention modes={sorted(modes)}. Use a "
        "TransformerBody, a BERT-like or a GPT-2-like backbone."
    )


def sequence_output(backbone, inputs, mode):
    """The backbone's sequence output for `feature_attention_mode` `mode`.

    Works on symbolic and eager inputs (`token_ids`, `padding_mask`). For
    an encoder-decoder backbone (`mode="encoder"`) it is the encoder's
    output (the decoder reads a two-token dummy input).
    """
    from keras_objectives.models.backbones import backbone_outputs

    if mode == "encoder":
        feed = {
            "encoder_token_ids": inputs["token_ids"],
            "encoder_padding_mask": inputs["padding_mask"],
            "decoder_token_ids": inputs["token_ids"][:, :2],
            "decoder_padding_mask": inputs["padding_mask"][:, :2],
        }
        return backbone(feed)["encoder_sequence_output"]
    return backbone_outputs(backbone, inputs, mode)


def backbone_states(model, objective, token_ids, padding_mask,
                    batch_size=32):
    """Yield `(start, count, hidden)` backbone sequence outputs in batches.

    `model` is a pre-trainer with a `.backbone` (or a backbone itself);
    `hidden` is a float32 NumPy array `[count, L, hidden_dim]`.
    """
    backbone = getattr(model, "backbone", model)
    mode = feature_attention_mode(backbone, objective)

    def call(x):
        return sequence_output(backbone, x, mode)

    fn = cached(backbone, ("states", mode), lambda: tf.function(
        call, reduce_retracing=True))
    arrays = {"token_ids": np.asarray(token_ids, np.int32),
              "padding_mask": np.asarray(padding_mask).astype(np.int32)}
    start = 0
    for count, batch in batches(arrays, batch_size):
        hidden = keras.ops.convert_to_numpy(fn(batch))
        yield start, count, hidden[:count].astype(np.float32)
        start += count


def token_embeddings(model):
    """The backbone's input token-embedding matrix, `[vocabulary, d]`.

    The no-context control reads these rows in place of the body's
    output: what the embeddings alone know about each token, with no
    Transformer layer and no position.
    """
    backbone = getattr(model, "backbone", model)
    layer = getattr(backbone, "token_embedding", None)
    if layer is None:
        raise invalid("model", type(backbone).__name__, "a backbone with a "
                      "`token_embedding` layer (TransformerBody or a "
                      "keras-hub Backbone)")
    return keras.ops.convert_to_numpy(layer.embeddings).astype(np.float32)


def mean_pooled_embeddings(model, token_ids, padding_mask):
    """The no-context features: mean token embedding over real tokens."""
    table = token_embeddings(model)
    mask = np.asarray(padding_mask).astype(np.float32)[:, :, None]
    vectors = table[np.asarray(token_ids)]
    return (vectors * mask).sum(1) / np.maximum(mask.sum(1), 1.0)


def mean_pooled_features(model, objective, token_ids, padding_mask,
                         batch_size=32):
    """Mean over real tokens of the backbone sequence output, `[N, d]`.

    Computed once per checkpoint for the same rows inside
    `reuse.shared_features()` (several tasks on the same texts).
    """
    from keras_objectives.evaluation import reuse

    return reuse.memoized(
        ("pooled", id(model), feature_attention_mode(
            getattr(model, "backbone", model), objective),
         reuse.array_digest(token_ids, padding_mask), batch_size),
        lambda: _mean_pooled(model, objective, token_ids, padding_mask,
                             batch_size))


def _mean_pooled(model, objective, token_ids, padding_mask, batch_size):
    pooled = []
    mask = np.asarray(padding_mask).astype(np.float32)
    for start, count, hidden in backbone_states(
        model, objective, token_ids, padding_mask, batch_size
    ):
        m = mask[start:start + count, :, None]
        pooled.append((hidden * m).sum(1) / np.maximum(m.sum(1), 1.0))
    return np.concatenate(pooled, 0)


def check_sequence_length(sequence_length, model, objective):
    """The evaluation row length: the given one, else the objective's."""
    if sequence_length is None:
        sequence_length = getattr(objective, "sequence_length", 128)
    backbone = getattr(model, "backbone", model)
    limit = getattr(backbone, "max_sequence_length", None)
    if limit is not None and sequence_length > limit:
        raise invalid(
            "sequence_length", sequence_length,
            f"at most the backbone's max_sequence_length={limit}",
            "Pass a shorter `sequence_length`",
        )
    if sequence_length < 4:
        raise invalid("sequence_length", sequence_length, "an int >= 4")
    return int(sequence_length)


def skipped(reason, keys):
    """A result whose metrics `keys` are `None`, with the reason why."""
    return {**{k: None for k in keys}, "reason": reason}


def validation_texts(corpus):
    """The held-out documents of a corpus, as a list of str.

    In order of preference: `corpus.validation_texts` (or
    `validation_documents`, str or dicts with a `"text"`); for the embedded
    corpus, its validation books re-read from the package (checked against
    the corpus' token ids); else the validation token ids detokenized
    (lowercased by the tokenizer, punctuation spaced out).
    """
    for name in ("validation_texts", "validation_documents"):
        docs = getattr(corpus, name, None)
        if docs is not None:
            docs = [d["text"] if isinstance(d, dict) else d for d in docs]
            if docs:
                return [str(d) for d in docs]
    ids = getattr(corpus, "validation_documents_token_ids", None)
    if getattr(corpus, "source", None) == "embedded" and ids is not None:
        from keras_objectives.data.sources import embedded_corpus

        docs = embedded_corpus("validation")
        if len(docs) == len(ids) and tokenize(
                corpus.tokenizer, docs[:1])[0] == [int(i) for i in ids[0]]:
            return docs
    if ids is not None and len(ids):
        texts = corpus.tokenizer.detokenize([list(map(int, d)) for d in ids])
        if hasattr(texts, "numpy"):
            texts = [t.decode("utf-8") for t in texts.numpy().tolist()]
        return [str(t) for t in texts]
    raise ValueError(
        "Invalid value received for argument `corpus`: it exposes no "
        "held-out text (`validation_texts`). Received: corpus="
        f"{type(corpus).__name__}. Pass `texts=[...]` with held-out "
        "documents, or prepare the corpus with a validation split."
    )
