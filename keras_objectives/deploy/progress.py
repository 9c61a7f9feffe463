"""Per-epoch checkpoints, dev-based early stopping and `metrics.csv`."""

import csv
import io
import math
import os
import time

import keras

from keras_objectives import checkpointing
from keras_objectives.deploy.files import atomic_save
from keras_objectives.utils import atomic_write_text

BEST_WEIGHTS = "best.weights.h5"


def best_epoch(history, monitor="val_accuracy"):
    """The epoch (1-based) with the highest `monitor`; ties: the earliest.

    >>> best_epoch([{"epoch": 1, "val_accuracy": 0.5},
    ...             {"epoch": 2, "val_accuracy": 0.7},
    ...             {"epoch": 3, "val_accuracy": 0.7}])
    2
    """
    scored = [(row.get(monitor, -math.inf), -row["epoch"]) for row in history]
    return -max(scored)[1] if scored else 0


def _seed_generators(model):
    found = []
    for layer in model._flatten_layers(include_self=True):
        found += list(getattr(layer, "_seed_generators", []))
    return found


def seed_states(model):
    """The states of the model's seed generators (dropout), as lists.

    `save_weights` leaves them out; a resumed fit restores them with
    `restore_seed_states` so dropout draws the masks it would have drawn.
    """
    return [keras.ops.convert_to_numpy(g.state).tolist()
            for g in _seed_generators(model)]


def restore_seed_states(model, states):
    generators = _seed_generators(model)
    if len(generators) != len(states or []):
        raise ValueError(
            f"The checkpoint holds {len(states or [])} seed generator "
            f"states but the model has {len(generators)}: it was written by "
            "a different model. Use a new --workdir.")
    for generator, state in zip(generators, states, strict=True):
        generator.state.assign(state)


class FineTuneLogger(keras.callbacks.Callback):
    """At each epoch end: log, keep the best weights, checkpoint, stop.

    The state that decides what happens next (the per-epoch history) is
    saved with the checkpoint, so a run killed and restarted from the same
    workdir makes the same early-stopping decisions and ends with the same
    weights. The best epoch's weights are written to `best.weights.h5`
    before the checkpoint (atomically), so a checkpoint never refers to a
    best epoch whose weights are missing.

    Args:
        workdir: the fine-tuning directory.
        patience: int, epochs without a better dev score before stopping.
        history: rows of the epochs already done (resume), or `[]`.
        keep: int, the epoch checkpoints kept.
        monitor: the dev metric to maximize.
    """

    def __init__(self, workdir, patience, history, keep=2,
                 monitor="val_accuracy"):
        super().__init__()
        self.workdir = workdir
        self.patience = patience
        self.history = list(history)
        self.keep = keep
        self.monitor = monitor

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        row = {"epoch": epoch + 1,
               "seconds": round(time.perf_counter() - self._started, 3)}
        row.update({k: float(v) for k, v in sorted((logs or {}).items())})
        self.history.append(row)
        best = best_epoch(self.history, self.monitor)
        if best == epoch + 1:
            atomic_save(os.path.join(self.workdir, BEST_WEIGHTS),
                        self.model.save_weights)
        stopped = epoch + 1 - best >= self.patience
        self._write_metrics()
        checkpointing.save(self.model, self.workdir, epoch + 1,
                           {"history": self.history, "stopped": stopped,
                            "best_epoch": best,
                            "seed_states": seed_states(self.model)},
                           keep=self.keep)
        if stopped:
            self.model.stop_training = True

    def _write_metrics(self):
        fields = []
        for row in self.history:
            fields += [k for k in row if k not in fields]
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=fields, restval="")
        writer.writeheader()
        writer.writerows(self.history)
        atomic_write_text(os.path.join(self.workdir, "metrics.csv"),
                          buffer.getvalue())
