"""Trial executions: keras-tuner's callbacks and the execution records.

`ObjectiveHyperModel.fit` finds its trial through keras-tuner's
`TunerCallback`, writes one `execution-<k>.json` per finished execution in
the trial directory, reads it back on a resumed search, and hands the
probe score to keras-tuner's own callbacks (`SaveBestEpoch` keeps the best
execution's weights for `get_best_models` and Hyperband).
"""

import json
import os

METRIC = "probe_accuracy"


def tuner_and_trial(callbacks):
    """The tuner and trial behind keras-tuner's `TunerCallback`, if any."""
    for callback in callbacks or []:
        if hasattr(callback, "tuner") and hasattr(callback, "trial"):
            return callback.tuner, callback.trial
    return None, None


def is_tuner_callback(callback):
    return type(callback).__module__.startswith("keras_tuner")


def notify(callbacks, model, epochs, score, cached):
    """Hand the probe score to keras-tuner's callbacks (the best
    execution's weights are saved for `get_best_models` and
    Hyperband)."""
    for callback in callbacks or []:
        if not is_tuner_callback(callback):
            continue
        if cached:
            # The weights of a reused execution are already on disk.
            path = getattr(callback, "filepath", None)
            if path and os.path.exists(path) and score > getattr(
                    callback, "best_value", score):
                callback.best_value = score
            continue
        callback.set_model(model)
        callback.on_epoch_end(epochs - 1, logs={METRIC: score})


def read_record(path, key):
    """A finished execution's record if it matches `key`, else `None`."""
    if not path or not os.path.isfile(path):
        return None
    try:
        with open(path) as f:
            record = json.load(f)
    except (OSError, ValueError):
        return None
    if all(record.get(k) == v for k, v in key.items()):
        return record
    return None
