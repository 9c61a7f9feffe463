"""`predict`: labels (or word tags) for raw texts, as JSON-ready records.

A model is a `keras-objectives finetune` workdir (its `model.keras`), a
`.keras` file (label names from the `labels.json` beside it), or a
`saved_model/` directory (called through its serving signature).
"""

import json
import os
import warnings

import numpy as np
import tensorflow as tf

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.utils import invalid

BATCH = 64


def _labels(folder):
    path = os.path.join(folder, "labels.json")
    if not os.path.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)["label_names"]


def _keras_signature(path):
    """The serving function of a `.keras` task, and its label names."""
    import keras

    from keras_objectives.deploy.heads import classification_signature
    from keras_objectives.deploy.heads import tagging_signature
    from keras_objectives.models.body_token_classifier import (
        BodyTokenClassifier,
    )

    with warnings.catch_warnings():
        # Keras warns that the custom compile and optimizer are not
        # restored; prediction needs neither.
        warnings.simplefilter("ignore")
        model = keras.saving.load_model(path, compile=False)
    names = _labels(os.path.dirname(os.path.abspath(path)))
    if names is None:
        names = [str(i) for i in range(model.num_classes)]
    make = (tagging_signature if isinstance(model, BodyTokenClassifier)
            else classification_signature)
    fn = tf.function(make(model, names), input_signature=[
        tf.TensorSpec([None], tf.string)])
    return lambda texts: fn(tf.constant(texts, tf.string))


@keras_objectives_export("keras_objectives.deploy.load_predictor")
def load_predictor(model):
    """A function from a list of texts to a list of prediction records.

    Args:
        model: a finetune workdir, a `.keras` file or a SavedModel dir.

    Returns:
        `predict(texts)`. A classifier's record is `{"text", "label",
        "probabilities": {label: p}, "truncated"}`; a tagger's is `{"text",
        "tags": [[word, tag], ...], "truncated_words"}` (a word cut off by
        the sequence length has the tag `None`).
    """
    from keras_objectives.deploy.serving import load_signature

    model = os.fspath(model)
    if os.path.isfile(os.path.join(model, "model.keras")):
        model = os.path.join(model, "model.keras")
    if model.endswith(".keras") and os.path.isfile(model):
        call = _keras_signature(model)
    elif os.path.isfile(os.path.join(model, "saved_model.pb")):
        call = load_signature(model)
    else:
        raise invalid(
            "model", model,
            "a `keras-objectives finetune` workdir, a .keras file or a "
            "SavedModel directory", "Nothing of the kind there")

    def predict(texts):
        records = []
        for i in range(0, len(texts), BATCH):
            chunk = list(texts[i:i + BATCH])
            out = {k: np.asarray(v) for k, v in call(chunk).items()}
            records += _records(chunk, out)
        return records

    return predict


def _text(value):
    return value.decode("utf-8") if isinstance(value, bytes) else value


def _records(texts, out):
    if "label" in out:
        names = [_text(c) for c in out["classes"][0]] if len(texts) else []
        return [{"text": t, "label": _text(out["label"][i]),
                 "probabilities": {n: float(p) for n, p in zip(
                     names, out["probabilities"][i], strict=True)},
                 "truncated": bool(out["truncated"][i])}
                for i, t in enumerate(texts)]
    records = []
    for i, t in enumerate(texts):
        words = [_text(w) for w in out["words"][i] if _text(w)]
        tags = [_text(g) or None for g in out["tags"][i][:len(words)]]
        records.append({"text": t, "tags": [[w, g] for w, g in zip(
            words, tags, strict=True)],
            "truncated_words": int(out["truncated_words"][i])})
    return records


def truncation_warning(records):
    """The stderr line for texts cut to the sequence length, or `None`.

    >>> truncation_warning([{"truncated": True}, {"truncated": False}])
    '1 of 2 texts were longer than the sequence length and were truncated.'
    """
    texts = sum(bool(r.get("truncated")) for r in records)
    words = sum(r.get("truncated_words", 0) for r in records)
    if not texts and not words:
        return None
    if words:
        return (f"{words} words in {len(records)} sentences were past the "
                "sequence length: they have no tag (null).")
    return (f"{texts} of {len(records)} texts were longer than the "
            "sequence length and were truncated.")


def read_texts(texts, input_path=None, overrides=()):
    """The texts of `predict`: arguments, or one per line of a file.

    >>> read_texts(["a film", ""])
    ['a film', '']
    """
    import sys

    if overrides:
        raise ValueError(
            "`keras-objectives predict` takes no --config overrides. "
            f"Received: {list(overrides)}")
    if texts and input_path:
        raise ValueError(
            "Invalid value received for argument `--input`: pass texts as "
            "arguments or with --input FILE, not both. Received: "
            f"{len(texts)} texts and --input={input_path!r}")
    if input_path is None:
        if not texts:
            raise ValueError(
                "`keras-objectives predict` needs texts: pass them as "
                "arguments, or --input FILE (one text per line; - for "
                "stdin).")
        return list(texts)
    if input_path == "-":
        return [line.rstrip("\n") for line in sys.stdin]
    if not os.path.isfile(input_path):
        raise invalid("input", input_path, "an existing text file")
    with open(input_path, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f]
