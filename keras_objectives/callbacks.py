"""Callbacks that write a run directory's artifacts."""

import csv
import io
import math
import os
import time

import keras

from keras_objectives import checkpointing
from keras_objectives.utils import atomic_write_text

# metrics.csv starts with these columns, in this order; metrics follow.
LEADING_COLUMNS = ("step", "tokens", "flops", "wall_time",
                   "tokens_per_second")


class RunLogger(keras.callbacks.Callback):
    """Checkpoints, `metrics.csv` and throughput at every Keras epoch end.

    One Keras "epoch" here is `steps_per_checkpoint` optimizer steps (not a
    pass over the data). At its end this callback saves an atomic
    checkpoint, then rewrites `metrics.csv` atomically with one row per
    interval: step, tokens seen, training FLOPs, wall time, tokens/s and
    every logged metric. A non-finite loss stops training and is recorded
    as `diverged`.

    Args:
        workdir: the run directory.
        steps_per_epoch: optimizer steps per Keras epoch.
        accounting: the objective's per-step accounting dict.
        start_state: state of the checkpoint training resumed from, or `{}`.
        keep: how many checkpoints to keep.
    """

    def __init__(self, workdir, steps_per_epoch, accounting, start_state,
                 keep=3):
        super().__init__()
        self.workdir = workdir
        self.steps_per_epoch = steps_per_epoch
        self.accounting = accounting
        self.keep = keep
        self.rows = list(start_state.get("rows", []))
        self.wall_time = float(start_state.get("wall_time", 0.0))
        self.train_time = float(start_state.get("train_time", 0.0))
        self.diverged = None
        self._t0 = None
        self._train_end = None

    def on_epoch_begin(self, epoch, logs=None):
        self._t0 = time.perf_counter()
        self._train_end = None

    def on_test_begin(self, logs=None):
        # Validation runs inside the epoch; keep it out of tokens/s.
        if self._t0 is not None and self._train_end is None:
            self._train_end = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        now = time.perf_counter()
        train_seconds = (self._train_end or now) - self._t0
        self.wall_time += now - self._t0
        self.train_time += train_seconds
        step = (epoch + 1) * self.steps_per_epoch
        tokens = self.accounting["tokens_per_step"] * self.steps_per_epoch
        row = {
            "step": step,
            "tokens": step * self.accounting["tokens_per_step"],
            "flops": step * self.accounting["flops_per_step"],
            "wall_time": round(self.wall_time, 3),
            "tokens_per_second": round(tokens / max(train_seconds, 1e-9), 1),
        }
        row.update({k: float(v) for k, v in sorted(logs.items())})
        loss = row.get("loss", 0.0)
        if not math.isfinite(loss):
            self.diverged = f"non-finite loss ({loss}) at step {step}"
            self.model.stop_training = True
        self.rows.append(row)
        self._write_metrics()
        if self.diverged is None:
            checkpointing.save(
                self.model,
                self.workdir,
                step,
                {
                    "wall_time": self.wall_time,
                    "train_time": self.train_time,
                    "rows": self.rows,
                },
                keep=self.keep,
            )

    def _write_metrics(self):
        # A fixed order: the leading columns, then every metric sorted (rows
        # restored from a checkpoint's state.json come back key-sorted).
        names = {k for row in self.rows for k in row}
        fields = [k for k in LEADING_COLUMNS if k in names] + sorted(
            names - set(LEADING_COLUMNS))
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=fields, restval="")
        writer.writeheader()
        writer.writerows(self.rows)
        atomic_write_text(
            os.path.join(self.workdir, "metrics.csv"), buffer.getvalue()
        )
