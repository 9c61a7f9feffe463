"""What differs between fine-tuning a classifier and a tagger.

Each problem builds its keras-hub task on a backbone, turns a split into
static arrays `(x, y, sample_weight)`, scores a split, and writes the
graph a SavedModel serves (raw strings in, label names out).
"""

from collections import Counter

import keras
import numpy as np
import tensorflow as tf

from keras_objectives.evaluation.metrics import accuracy
from keras_objectives.evaluation.metrics import chunk_f1
from keras_objectives.evaluation.metrics import macro_f1
from keras_objectives.models.body_text_classifier import BodyTextClassifier
from keras_objectives.models.body_text_classifier_preprocessor import (
    BodyTextClassifierPreprocessor,
)
from keras_objectives.models.body_token_classifier import BodyTokenClassifier
from keras_objectives.models.body_token_classifier_preprocessor import (
    BodyTokenClassifierPreprocessor,
)

_ENCODE_BATCH = 256


def _preprocess(preprocessor, texts):
    """`token_ids` and `padding_mask` as int32 NumPy arrays, in batches."""
    parts = [preprocessor(texts[i:i + _ENCODE_BATCH])
             for i in range(0, len(texts), _ENCODE_BATCH)]
    return {k: np.concatenate([np.asarray(p[k]) for p in parts]).astype(
        np.int32) for k in ("token_ids", "padding_mask")}


def logits(model, x, batch_size=64):
    """The model's float32 logits on preprocessed arrays, in batches."""
    call = tf.function(lambda b: model(b, training=False),
                       reduce_retracing=True)
    n = len(x["token_ids"])
    out = [np.asarray(call({k: v[i:i + batch_size] for k, v in x.items()}),
                      np.float32) for i in range(0, n, batch_size)]
    return np.concatenate(out) if out else np.zeros((0,), np.float32)


class Classification:
    """One label per text: `BodyTextClassifier`."""

    kind = "classification"

    def __init__(self, task):
        self.task = task
        self.label_names = list(task.label_names)

    def build(self, backbone, tokenizer, sequence_length, config):
        preprocessor = BodyTextClassifierPreprocessor(
            tokenizer, sequence_length=sequence_length)
        return BodyTextClassifier(
            backbone, len(self.label_names), preprocessor=preprocessor,
            dropout=config["dropout"], seed=config["seed"], compile=False)

    def metrics(self):
        return {"metrics": [keras.metrics.SparseCategoricalAccuracy(
            name="accuracy")]}

    def texts(self, split):
        return list(self.task.split(split)[0])

    def encode(self, model, split):
        """`(x, y, sample_weight, truncated texts)` of a split."""
        texts, labels = self.task.split(split)
        x = _preprocess(model.preprocessor, list(texts))
        cut = int(np.sum(model.preprocessor.truncated(list(texts))))
        return x, np.asarray(labels, np.int32), None, cut

    def score(self, model, split, encoded, train_labels):
        """Metrics of one split, and its confusion matrix."""
        x, y, _, cut = encoded
        predicted = logits(model, x).argmax(-1)
        k = len(self.label_names)
        confusion = np.zeros((k, k), np.int64)
        np.add.at(confusion, (y, predicted), 1)
        majority = Counter(np.asarray(train_labels).tolist()).most_common(
            1)[0][0]
        return {
            f"{split}_accuracy": accuracy(y, predicted),
            f"{split}_macro_f1": macro_f1(y, predicted),
            f"{split}_majority_class_accuracy": accuracy(
                y, np.full_like(y, majority)),
            f"{split}_examples": int(len(y)),
            f"{split}_truncated_texts": cut,
        }, confusion

    def serve(self, model, label_names):
        return classification_signature(model, label_names)


class Tagging:
    """One tag per word (CoNLL columns): `BodyTokenClassifier`."""

    kind = "tagging"

    def __init__(self, task):
        self.task = task
        self.label_names = list(task.label_names)
        self._index = {t: i for i, t in enumerate(self.label_names)}

    def build(self, backbone, tokenizer, sequence_length, config):
        preprocessor = BodyTokenClassifierPreprocessor(
            tokenizer, sequence_length=sequence_length)
        return BodyTokenClassifier(
            backbone, len(self.label_names), preprocessor=preprocessor,
            dropout=config["dropout"], seed=config["seed"], compile=False)

    def metrics(self):
        return {"weighted_metrics": [keras.metrics.SparseCategoricalAccuracy(
            name="accuracy")]}

    def texts(self, split):
        return [" ".join(words) for words in self.task.split(split)[0]]

    def encode(self, model, split):
        """`(x, y, sample_weight, cut words)`: a tag at each first piece."""
        sentences, tags = self.task.split(split)
        texts = self.texts(split)
        x = _preprocess(model.preprocessor, texts)
        _, positions = model.preprocessor.word_positions(texts)
        positions = np.asarray(positions)
        y = np.zeros(x["token_ids"].shape, np.int32)
        weight = np.zeros(x["token_ids"].shape, np.float32)
        cut = 0
        for i, row in enumerate(tags):
            for w, tag in enumerate(row):
                p = positions[i, w]
                if p < 0:
                    cut += 1
                elif tag in self._index:  # Unseen tags: never predicted.
                    y[i, p], weight[i, p] = self._index[tag], 1.0
        return x, y, weight, cut

    def score(self, model, split, encoded, train_labels):
        """Token accuracy and chunk F1 (a cut word gets the majority tag)."""
        x, _, _, cut = encoded
        sentences, tags = self.task.split(split)
        _, positions = model.preprocessor.word_positions(self.texts(split))
        positions = np.asarray(positions)
        predicted_ids = logits(model, x).argmax(-1)
        majority = Counter(t for row in train_labels for t in row
                           ).most_common(1)[0][0]
        predicted = [[self.label_names[predicted_ids[i, p]] if p >= 0
                      else majority for p in positions[i, :len(row)]]
                     for i, row in enumerate(tags)]
        flat_true = [t for row in tags for t in row]
        flat_pred = [t for row in predicted for t in row]
        chunks = chunk_f1(tags, predicted)
        return {
            f"{split}_token_accuracy": accuracy(flat_true, flat_pred),
            f"{split}_chunk_f1": chunks["f1"],
            f"{split}_chunk_precision": chunks["precision"],
            f"{split}_chunk_recall": chunks["recall"],
            f"{split}_majority_tag_accuracy": accuracy(
                flat_true, [majority] * len(flat_true)),
            f"{split}_sentences": len(tags),
            f"{split}_truncated_words": cut,
        }, None

    def serve(self, model, label_names):
        return tagging_signature(model, label_names)


def make_problem(task):
    """`Classification` or `Tagging` for a loaded task."""
    from keras_objectives.evaluation.task import TaggingTask

    return Tagging(task) if isinstance(task, TaggingTask) else (
        Classification(task))


def classification_signature(model, label_names):
    """The SavedModel signature: strings to labels and probabilities."""
    preprocessor = model.preprocessor
    names = tf.constant(label_names)

    def serve(text):
        x = preprocessor.in_graph(preprocessor._pack, text)
        probabilities = tf.nn.softmax(tf.cast(model(x, training=False),
                                              tf.float32))
        batch = tf.shape(text)[0]
        return {
            "label": tf.gather(names, tf.argmax(probabilities, -1)),
            "probabilities": probabilities,
            "classes": tf.tile(names[None], [batch, 1]),
            "truncated": preprocessor.in_graph(
                preprocessor._truncated, text),
        }

    return serve


def tagging_signature(model, label_names):
    """The signature: sentences to words, their tags and probabilities."""
    preprocessor = model.preprocessor
    names = tf.constant(label_names)

    def serve(text):
        x = preprocessor.in_graph(preprocessor._pack, text)
        words, positions = preprocessor.in_graph(
            preprocessor._positions, text)
        probabilities = tf.nn.softmax(tf.cast(model(x, training=False),
                                              tf.float32))
        at = tf.gather(probabilities, tf.maximum(positions, 0),
                       batch_dims=1)
        kept = positions >= 0
        tags = tf.where(kept, tf.gather(names, tf.argmax(at, -1)), "")
        cut = tf.logical_and(tf.logical_not(kept), words != "")
        return {
            "words": words,
            "tags": tags,
            "probabilities": at * tf.cast(kept, at.dtype)[..., None],
            "truncated_words": tf.reduce_sum(tf.cast(cut, tf.int32), 1),
        }

    return serve
