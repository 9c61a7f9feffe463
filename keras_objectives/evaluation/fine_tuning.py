"""Short fine-tuning with one global recipe: the second understanding measure.

Short fine-tuning with one global recipe (at most 5 epochs, one learning
rate) is the second understanding measure (docs/methodology.md). The
recipe, identical for every arm:

* a copy of the backbone (the loaded model is never changed), read with
  the same attention and inputs as the linear probe
  (`common.feature_attention_mode`);
* the same mean pooling over real tokens, dropout 0.1, a dense softmax
  layer (logits, `from_logits=True` cross-entropy);
* AdamW, `learning_rate` reached by a linear warmup over the first 10% of
  the steps and decayed linearly to 0, weight decay 0.01, gradient clip
  1.0, batch 32, `epochs` epochs (3 by default, at most 5);
* seeded: weight init of the head, dropout and the data order follow
  `seed`. The model after the last epoch is scored (no epoch selection).
"""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.evaluation import common
from keras_objectives.evaluation.linear_probe import seed_list
from keras_objectives.evaluation.linear_probe import split_metrics
from keras_objectives.evaluation.metrics import summarize_seeds
from keras_objectives.utils import check_int


def clone_backbone(backbone):
    """A fresh copy of a backbone with the same weights."""
    copy = type(backbone).from_config(backbone.get_config())
    copy.set_weights(backbone.get_weights())
    return copy


@keras_objectives_export("keras_objectives.evaluation.build_classifier")
def build_classifier(backbone, mode, num_classes, dropout=0.1, seed=0):
    """Backbone + mean pooling + dropout + dense logits, as a Keras model.

    A `BodyTextClassifier` without a preprocessor (inputs `token_ids` and
    `padding_mask`): the same head `keras-objectives finetune` trains.

    Args:
        backbone: the backbone to fine-tune (it is trained in place; pass
            a copy, see `clone_backbone`).
        mode: the attention, from `common.feature_attention_mode`.
        num_classes: int.
        dropout: float.
        seed: int, the head's initializer and dropout seed.
    """
    from keras_objectives.models.body_text_classifier import BodyTextClassifier

    return BodyTextClassifier(backbone, num_classes, dropout=dropout,
                              attention=mode, seed=seed, compile=False)


def _dataset(token_ids, padding_mask, labels, batch_size, seed=None):
    ds = tf.data.Dataset.from_tensor_slices(
        ({"token_ids": token_ids, "padding_mask": padding_mask.astype(
            np.int32)}, labels))
    if seed is not None:
        ds = ds.shuffle(len(labels), seed=seed,
                        reshuffle_each_iteration=True)
    return ds.batch(batch_size)


@keras_objectives_export("keras_objectives.evaluation.evaluate_fine_tuning")
def evaluate_fine_tuning(model, objective, corpus, task, seed=0, epochs=3,
                         learning_rate=1e-4, batch_size=32,
                         sequence_length=None, dropout=0.1,
                         weight_decay=0.01, jit_compile=False, verbose=0):
    """Dev (and test) accuracy and macro-F1 after short fine-tuning.

    Args:
        model: the pre-trainer (`load_run(...)[0]`) or a backbone; it is
            not modified.
        objective: its `Objective` (decides the attention).
        corpus: the prepared corpus (tokenizer and special tokens).
        task: a `ClassificationTask` with `train` and `dev` splits.
        seed: int or list of ints, one fine-tuning run per seed (at least
            3, docs/methodology.md); metrics are their mean with a `_sd`.
        epochs: int in [1, 5].
        learning_rate: float, the one peak learning rate of the recipe.
        batch_size, sequence_length, dropout, weight_decay: the recipe.
        jit_compile: bool, XLA for the fine-tuning steps (slower to
            compile than it saves on short CPU runs).
        verbose: Keras `fit` verbosity.

    Returns:
        A dict with `dev_accuracy`, `dev_macro_f1` (and `test_*`), their
        `_sd`, `per_seed`, `seeds`, `epochs`, `learning_rate`,
        `feature_attention` and `task`.
    """
    seeds = seed_list(seed)
    check_int("epochs", epochs, minimum=1, maximum=5)
    check_int("batch_size", batch_size, minimum=1)
    length = common.check_sequence_length(sequence_length, model, objective)
    backbone = getattr(model, "backbone", model)
    mode = common.feature_attention_mode(backbone, objective)
    encoded = {split: common.encode(corpus, texts, length)[:2] + (
        np.asarray(labels),) for split, (texts, labels) in
        task.splits.items()}
    steps = epochs * -(-len(encoded["train"][2]) // batch_size)
    runs = []
    for s in seeds:
        keras.utils.set_random_seed(s)
        classifier = build_classifier(clone_backbone(backbone), mode,
                                      task.num_classes, dropout, seed=s)
        warmup = max(1, steps // 10)
        schedule = WarmupLinearDecay(learning_rate, steps, warmup)
        classifier.compile(
            optimizer=keras.optimizers.AdamW(
                learning_rate=schedule, weight_decay=weight_decay,
                global_clipnorm=1.0),
            loss=keras.losses.SparseCategoricalCrossentropy(
                from_logits=True),
            jit_compile=jit_compile,
        )
        classifier.fit(_dataset(*encoded["train"], batch_size, seed=s),
                       epochs=epochs, verbose=verbose, shuffle=False)
        run = {"seed": s}
        for split in ("dev", "test"):
            if split in encoded:
                token_ids, padding_mask, labels = encoded[split]
                logits = classifier.predict(
                    _dataset(token_ids, padding_mask, labels, batch_size),
                    verbose=0)
                run.update(split_metrics(labels, logits.argmax(-1), split))
        runs.append(run)
    keys = [k for k in runs[0] if k.endswith(("accuracy", "macro_f1"))]
    return {
        **summarize_seeds(runs, keys),
        "per_seed": runs,
        "seeds": seeds,
        "task": task.name,
        "epochs": epochs,
        "learning_rate": learning_rate,
        "feature_attention": mode,
    }


@keras_objectives_export("keras_objectives.evaluation.WarmupLinearDecay")
class WarmupLinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warmup to `peak` over `warmup_steps`, then linear to 0.

    Args:
        peak: float, the learning rate reached after the warmup.
        total_steps: int, the step at which the rate reaches 0.
        warmup_steps: int, at least 1.

    Examples:

    >>> schedule = WarmupLinearDecay(1.0, total_steps=10, warmup_steps=2)
    >>> [round(float(schedule(s)), 3) for s in (0, 1, 2, 6, 10)]
    [0.0, 0.5, 1.0, 0.5, 0.0]
    """

    def __init__(self, peak, total_steps, warmup_steps):
        self.peak = float(peak)
        self.total_steps = int(total_steps)
        self.warmup_steps = max(1, int(warmup_steps))

    def __call__(self, step):
        step = ops.cast(step, "float32")
        up = self.peak * step / self.warmup_steps
        down = self.peak * ops.maximum(0.0, (self.total_steps - step) / max(
            1, self.total_steps - self.warmup_steps))
        return ops.where(step < self.warmup_steps, up, down)

    def get_config(self):
        return {"peak": self.peak, "total_steps": self.total_steps,
                "warmup_steps": self.warmup_steps}
