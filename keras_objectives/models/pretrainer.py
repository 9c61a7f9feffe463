"""The pre-trainer: a backbone plus the head and loss of one objective."""

import keras

from keras_objectives.api_export import deserialize
from keras_objectives.api_export import keras_objectives_export
from keras_objectives.models.transformer_body import select_inputs


@keras_objectives_export("keras_objectives.models.Pretrainer")
class Pretrainer(keras.Model):
    """A functional model joining a backbone and an objective's head.

    Like a keras-hub `Task`, it is assembled from parts: the objective's
    `build_graph(backbone)` returns the functional `(inputs, outputs)` (the
    head on top of the backbone, for example tied logits at the masked
    positions), and the model serializes the backbone and the objective
    rather than its layer graph, so `from_config` rebuilds the same graph
    and `.keras` files round trip.

    Compile it with the objective's loss and metrics:
    `model.compile(optimizer, loss=objective.loss(),
    weighted_metrics=objective.metrics())`. If the objective overrides
    `compute_loss` (multi-loss objectives such as ELECTRA), its loss is used
    instead of the compiled one.

    Args:
        backbone: a `keras_hub.models.Backbone` (for example a
            `keras_objectives.models.TransformerBody`).
        objective: a `keras_objectives.objectives.Objective`, or its
            `keras.saving.serialize_keras_object` config.
        **kwargs: `keras.Model` arguments (`name`, ...).

    Examples:

    >>> import numpy as np
    >>> import keras_objectives.objectives as objectives
    >>> from keras_objectives.data.special_tokens import SpecialTokens
    >>> from keras_objectives.data.special_tokens import reserved_tokens
    >>> from keras_objectives.models import make_backbone
    >>> special_tokens = SpecialTokens.from_vocabulary(
    ...     reserved_tokens() + ["a", "b", "c"])
    >>> objective = objectives.get(
    ...     "causal_lm", special_tokens=special_tokens, sequence_length=8)
    >>> backbone = make_backbone(
    ...     "body", special_tokens.vocabulary_size, objective.attention_mode,
    ...     num_layers=1, num_heads=1, hidden_dim=8, intermediate_dim=8,
    ...     max_sequence_length=8)
    >>> model = Pretrainer(backbone, objective)
    >>> model.compile("adam", loss=objective.loss(),
    ...               weighted_metrics=objective.metrics())
    >>> x = {"token_ids": np.full((1, 8), 112),
    ...      "padding_mask": np.ones((1, 8), bool)}
    >>> model.predict(x, verbose=0).shape
    (1, 8, 114)

    In a run, `model.fit(dataset.map(objective))` trains it.
    """

    def __init__(self, backbone, objective, **kwargs):
        if isinstance(objective, dict):
            objective = deserialize(objective)
        inputs, outputs = objective.build_graph(backbone)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.backbone = backbone
        # A plain Python object: not tracked, not part of the weights.
        self._objective = objective

    def __call__(self, inputs, *args, **kwargs):
        # `x` may carry features the head does not read; Keras would match
        # a dict with extra keys by position, so select them by name.
        return super().__call__(select_inputs(self, inputs), *args, **kwargs)

    @property
    def objective(self):
        """The `Objective` that built the head and owns the loss."""
        return self._objective

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        """The objective's loss if it defines one, else the compiled loss.

        An objective's `compute_loss` returns the per-replica loss in Keras'
        convention, i.e. already divided by the number of replicas, which
        `keras.losses.Loss.__call__` does; regularization losses of the
        model (`self.losses`) are added here.
        """
        loss = self._objective.compute_loss(self, x, y, y_pred, sample_weight)
        if loss is None:
            return super().compute_loss(
                x=x,
                y=y,
                y_pred=y_pred,
                sample_weight=sample_weight,
                training=training,
            )
        for extra in self.losses:
            loss = loss + self._aggregate_additional_loss(extra)
        return loss

    def train_step(self, data):
        return _multi_worker_logs(super().train_step(data))

    def test_step(self, data):
        return _multi_worker_logs(super().test_step(data))

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # Under a `tf.distribute` strategy, Keras 3 builds the model from a
        # batch it pulls from a throwaway iterator over the training data
        # and averages across replicas. That reads (and, with an audit log,
        # records) batches that are never trained on, and the average fails
        # for nested inputs under MultiWorkerMirroredStrategy. Shapes and
        # dtypes are all the build needs: take them from the dataset spec.
        if iterator is not None and data_batch is None:
            spec = _local_element_spec(iterator)
            if spec is not None:
                iterator, data_batch = None, spec
        return super()._maybe_symbolic_build(iterator=iterator,
                                             data_batch=data_batch)

    def get_config(self):
        # Not the functional graph: the parts it is rebuilt from.
        return {
            "backbone": keras.layers.serialize(self.backbone),
            "objective": keras.saving.serialize_keras_object(
                self._objective),
            "name": self.name,
            "trainable": self.trainable,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config["backbone"], dict):
            config["backbone"] = keras.layers.deserialize(config["backbone"])
        return cls(**config)


def _local_element_spec(epoch_iterator):
    """One replica's `TensorSpec` structure of a Keras epoch iterator."""
    import tensorflow as tf

    dataset = getattr(epoch_iterator, "_distributed_dataset", None)
    spec = getattr(dataset, "element_spec", None)
    if spec is None:
        return None

    def local(s):
        if isinstance(s, tf.TypeSpec) and hasattr(s, "_value_specs"):
            return s._value_specs[0]  # PerReplicaSpec: replicas alike.
        return s

    spec = tf.nest.map_structure(
        local, spec, expand_composites=False
    )
    if not all(isinstance(s, tf.TensorSpec) for s in tf.nest.flatten(spec)):
        return None
    return spec


def _multi_worker_logs(logs):
    """Scalar step logs as `[1]` vectors under multi-worker collectives.

    Keras 3 averages each step's logs across workers with
    `strategy.reduce("MEAN", value, axis=0)`, which fails on the scalars a
    train step returns. A length-1 vector reduces to the same scalar mean.
    (The epoch logs Keras reports are read from the all-reduced metric
    variables and are unaffected.)
    """
    import tensorflow as tf

    strategy = tf.distribute.get_strategy()
    if not (
        isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
        and strategy.extended._in_multi_worker_mode()
    ):
        return logs
    return tf.nest.map_structure(
        lambda v: tf.reshape(v, [1]) if v.shape.rank == 0 else v, logs
    )
