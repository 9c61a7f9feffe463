"""The frozen-feature linear probe: the primary understanding measure.

Every arm gets exactly the same treatment: a frozen-feature linear probe
(mean-pooled, the same for every objective) is the primary understanding
measure at small scale (docs/methodology.md):

1. each text becomes `[CLS] tokens [SEP]`, cut and padded to one static
   `sequence_length`, with the corpus tokenizer;
2. the **backbone alone** (`model.backbone`: no pre-training head) reads it
   with the attention of `common.feature_attention_mode` (bidirectional
   for bidirectional and prefix bodies, causal for causal bodies, the
   encoder for encoder-decoders);
3. the sequence output is averaged over the real tokens (`padding_mask`,
   `[CLS]` and `[SEP]` included);
4. a multinomial logistic regression (`LogisticRegression`: standardized
   features, L2, full-batch L-BFGS) is fit on train and scored on dev (and
   test, if the task has one). Select on dev; report test once.
"""

import numpy as np

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.evaluation import common
from keras_objectives.evaluation.logistic_regression import LogisticRegression
from keras_objectives.evaluation.metrics import accuracy
from keras_objectives.evaluation.metrics import macro_f1
from keras_objectives.evaluation.metrics import summarize_seeds
from keras_objectives.utils import check_rate


def seed_list(seed):
    """`[seed]` for an int, the list for a sequence of ints."""
    if isinstance(seed, (list, tuple)):
        if not seed:
            raise ValueError("Invalid value received for argument `seed`. "
                             "Expected an int or a non-empty list of ints. "
                             "Received: seed=[]")
        return [int(s) for s in seed]
    return [int(seed)]


def split_metrics(y_true, y_pred, prefix):
    return {f"{prefix}_accuracy": accuracy(y_true, y_pred),
            f"{prefix}_macro_f1": macro_f1(y_true, y_pred)}


@keras_objectives_export(
    "keras_objectives.evaluation.classification_features")
def classification_features(model, objective, corpus, task,
                            sequence_length=None, batch_size=32,
                            no_context=False):
    """Mean-pooled frozen features of every split of a task.

    Args:
        no_context: bool, also return the no-context control's features:
            the mean of the bare token embeddings (no Transformer layer).

    Returns:
        `(features, truncated)`: a dict from split name to
        `(float32 [N, hidden_dim], int labels [N])` (with a third array,
        the no-context features, when `no_context`), and the number of
        texts cut to `sequence_length`.
    """
    length = common.check_sequence_length(sequence_length, model, objective)
    features, truncated = {}, 0
    for split, (texts, labels) in task.splits.items():
        token_ids, padding_mask, cut = common.encode(corpus, texts, length)
        truncated += cut
        features[split] = (
            common.mean_pooled_features(model, objective, token_ids,
                                        padding_mask, batch_size),
            np.asarray(labels),
        )
        if no_context:
            features[split] += (common.mean_pooled_embeddings(
                model, token_ids, padding_mask),)
    return features, truncated


def majority_metrics(task, features):
    """The majority-class line: the train split's most frequent label."""
    labels = np.asarray(features["train"][1])
    majority = int(np.bincount(labels, minlength=task.num_classes).argmax())
    out = {}
    for split in ("dev", "test"):
        if split in features:
            y = features[split][1]
            out.update(split_metrics(y, np.full_like(y, majority),
                                     f"majority_{split}"))
    return out


@keras_objectives_export("keras_objectives.evaluation.evaluate_linear_probe")
def evaluate_linear_probe(model, objective, corpus, task, seed=0,
                          sequence_length=None, l2=1e-3,
                          max_iterations=500, train_fraction=1.0,
                          batch_size=32, features=None, controls=True):
    """Dev (and test) accuracy and macro-F1 of a linear probe.

    Args:
        model: the pre-trainer (`load_run(...)[0]`) or a backbone.
        objective: its `Objective` (decides the feature attention).
        corpus: the prepared corpus (tokenizer and special tokens).
        task: a `ClassificationTask` with `train` and `dev` splits.
        seed: int or list of ints, the probe seeds; with several, metrics
            are their mean with a `_sd` (sample SD) and `per_seed` lists
            each run. A seed sets the probe's starting point and, with
            `train_fraction < 1`, which training examples it sees.
        sequence_length: int, default the objective's.
        l2, max_iterations: the `LogisticRegression` recipe.
        train_fraction: float in (0, 1], the share of train used per seed.
        batch_size: int, for feature extraction.
        features: optional output of `classification_features` to reuse.
        controls: bool, also fit the same probe on the no-context control
            (mean-pooled bare token embeddings: what word identity alone
            gives) and report the majority-class line.

    Returns:
        A dict with `dev_accuracy`, `dev_macro_f1` (and `test_*`), with
        `no_context_` and `majority_` versions when `controls`, their
        `_sd`, `per_seed`, `seeds`, `train_examples`, `feature_dim`,
        `feature_attention`, `truncated` and `task`.
    """
    seeds = seed_list(seed)
    fraction = check_rate("train_fraction", train_fraction)
    if fraction == 0:
        raise ValueError("Invalid value received for argument "
                         "`train_fraction`. Expected a float in (0, 1]. "
                         "Received: train_fraction=0.0")
    truncated = None
    if features is None:
        features, truncated = classification_features(
            model, objective, corpus, task, sequence_length, batch_size,
            no_context=controls)
    x_train, y_train = features["train"][:2]
    kinds = {"": 0, "no_context_": 2} if controls and len(
        features["train"]) > 2 else {"": 0}
    runs = []
    for s in seeds:
        index = np.arange(len(y_train))
        if fraction < 1.0:
            keep = max(1, int(round(fraction * len(index))))
            index = np.sort(np.random.default_rng(s).permutation(
                len(index))[:keep])
        run = {"seed": s}
        for prefix, column in kinds.items():
            probe = LogisticRegression(l2=l2, max_iterations=max_iterations,
                                       seed=s)
            probe.fit(features["train"][column][index], y_train[index],
                      num_classes=task.num_classes)
            run.setdefault("iterations", probe.iterations_)
            for split in ("dev", "test"):
                if split in features:
                    x, y = features[split][column], features[split][1]
                    run.update(split_metrics(y, probe.predict(x),
                                             prefix + split))
        if controls:
            run.update(majority_metrics(task, features))
        runs.append(run)
    keys = [k for k in runs[0] if k.endswith(("accuracy", "macro_f1"))]
    backbone = getattr(model, "backbone", model)
    return {
        **summarize_seeds(runs, keys),
        "per_seed": runs,
        "seeds": seeds,
        "task": task.name,
        "classes": task.num_classes,
        "train_examples": int(round(fraction * len(y_train))),
        "feature_dim": int(x_train.shape[1]),
        "feature_attention": common.feature_attention_mode(backbone,
                                                           objective),
        "truncated": truncated,
    }
