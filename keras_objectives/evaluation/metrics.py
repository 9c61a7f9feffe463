"""Classification and chunking metrics, and seed summaries.

Chunks follow `conlleval` (the CoNLL-2000 shared-task script): tags are
`B-X`, `I-X`, `E-X`, `S-X` or `O`, and an `I-X` after `O` or after another
type starts a new chunk. Chunk F1 is over exact `(type, start, end)`
matches, per sentence.
"""

import math

import numpy as np

from keras_objectives.api_export import keras_objectives_export


@keras_objectives_export("keras_objectives.evaluation.accuracy")
def accuracy(y_true, y_pred):
    """The share of equal labels.

    >>> accuracy([0, 1, 1, 2], [0, 1, 2, 2])
    0.75
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    return float((y_true == y_pred).mean()) if len(y_true) else 0.0


@keras_objectives_export("keras_objectives.evaluation.macro_f1")
def macro_f1(y_true, y_pred):
    """The unweighted mean of per-class F1 over classes seen in either.

    >>> round(macro_f1([0, 0, 1, 1], [0, 1, 1, 1]), 4)
    0.7333
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    scores = []
    for c in np.union1d(y_true, y_pred):
        tp = np.sum((y_true == c) & (y_pred == c))
        denominator = np.sum(y_true == c) + np.sum(y_pred == c)
        scores.append(2.0 * tp / denominator if denominator else 0.0)
    return float(np.mean(scores)) if scores else 0.0


def _parts(tag):
    if tag == "O" or tag is None:
        return "O", ""
    prefix, _, kind = tag.partition("-")
    if not kind:
        return "I", prefix  # A bare type counts as inside that type.
    return prefix, kind


def _ends(prev_tag, tag, prev_type, kind):
    return (
        prev_tag in ("E", "S")
        or (prev_tag in ("B", "I") and tag in ("B", "S", "O"))
        or (prev_tag != "O" and prev_type != kind)
    )


def _starts(prev_tag, tag, prev_type, kind):
    return (
        tag in ("B", "S")
        or (prev_tag in ("E", "S", "O") and tag in ("E", "I"))
        or (tag != "O" and prev_type != kind)
    )


@keras_objectives_export("keras_objectives.evaluation.bio_chunks")
def bio_chunks(tags):
    """The chunks of one sentence's tags, as `(type, start, end)` (end excl.).

    >>> bio_chunks(["B-NP", "I-NP", "O", "I-VP", "B-NP", "B-NP"])
    [('NP', 0, 2), ('VP', 3, 4), ('NP', 4, 5), ('NP', 5, 6)]
    """
    chunks, start, prev_tag, prev_type = [], None, "O", ""
    for i, tag in enumerate(list(tags) + ["O"]):
        tag, kind = _parts(tag)
        if start is not None and _ends(prev_tag, tag, prev_type, kind):
            chunks.append((prev_type, start, i))
            start = None
        if _starts(prev_tag, tag, prev_type, kind):
            start = i
        prev_tag, prev_type = tag, kind
    return chunks


@keras_objectives_export("keras_objectives.evaluation.chunk_f1")
def chunk_f1(true_sentences, predicted_sentences):
    """Precision, recall and F1 of exact chunks, over sentences of tags.

    Args:
        true_sentences: list of lists of tag strings.
        predicted_sentences: the same shape.

    Returns:
        dict with `precision`, `recall`, `f1` (0 when undefined), `true`,
        `predicted` and `correct` chunk counts.

    >>> chunk_f1([["B-NP", "I-NP", "B-VP"]], [["B-NP", "I-NP", "B-NP"]])["f1"]
    0.5
    """
    found = correct = gold = 0
    for truth, guess in zip(true_sentences, predicted_sentences, strict=True):
        t, p = set(bio_chunks(truth)), set(bio_chunks(guess))
        gold += len(t)
        found += len(p)
        correct += len(t & p)
    precision = correct / found if found else 0.0
    recall = correct / gold if gold else 0.0
    f1 = (2 * precision * recall / (precision + recall)
          if precision + recall else 0.0)
    return {"precision": precision, "recall": recall, "f1": f1,
            "true": gold, "predicted": found, "correct": correct}


@keras_objectives_export("keras_objectives.evaluation.summarize_seeds")
def summarize_seeds(runs, keys):
    """Mean and sample SD (`ddof=1`, 0 for one run) of `keys` over runs.

    >>> summarize_seeds([{"a": 1.0}, {"a": 3.0}], ["a"])
    {'a': 2.0, 'a_sd': 1.4142135623730951}
    """
    out = {}
    for key in keys:
        values = [r[key] for r in runs if r.get(key) is not None]
        if not values:
            out[key], out[f"{key}_sd"] = None, None
            continue
        out[key] = float(np.mean(values))
        out[f"{key}_sd"] = (float(np.std(values, ddof=1))
                            if len(values) > 1 else 0.0)
        if math.isnan(out[f"{key}_sd"]):  # pragma: no cover
            out[f"{key}_sd"] = 0.0
    return out
