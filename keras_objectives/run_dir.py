"""A run directory: checked and compared before a run, written at its start.

`RunDir.open` checks that the directory can hold the run and that a run
already in it has the same config, and writes nothing; `commit` writes
`config.json` once everything else has been validated, so a failed
attempt never leaves a `config.json` that blocks the corrected command.
`make_summary` builds the `summary.json` a finished run writes.
"""

import json
import os
import platform

import keras
import keras_hub
import tensorflow as tf

from keras_objectives import config as config_lib
from keras_objectives.utils import atomic_write_json
from keras_objectives.utils import check_writable_dir
from keras_objectives.utils import read_json
from keras_objectives.version import __version__


def flatten(config, prefix=""):
    """`{"a": {"b": 1}}` -> `{"a.b": 1}` (dict leaves only).

    >>> flatten({"a": {"b": 1, "c": [2]}, "d": 3})
    {'a.b': 1, 'a.c': [2], 'd': 3}
    """
    out = {}
    for key, value in config.items():
        if isinstance(value, dict) and value:
            out.update(flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _shown(flat, key):
    return repr(flat[key]) if key in flat else "unset"


def config_differences(saved, now):
    """`(field, "field: saved (saved) vs now (now)")` for each difference.

    >>> config_differences({"a": {"b": 8}}, {"a": {"b": 4}})
    [('a.b', 'a.b: 8 (saved) vs 4 (now)')]
    """
    old, new = flatten(_plain(saved)), flatten(_plain(now))
    return [(k, f"{k}: {_shown(old, k)} (saved) vs {_shown(new, k)} (now)")
            for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)
            or (k in old) != (k in new)]


def _plain(value):
    return json.loads(json.dumps(value, default=str))


def _override(flat, key):
    value = flat.get(key)
    return f"--config.{key}={value if isinstance(value, str) else value!r}"


class RunDir:
    """The run directory of one process (its worker's, in a multi-worker job).

    Attributes:
        path: the directory.
        resumed: whether it already holds this run's `config.json`.
    """

    def __init__(self, path, resumed):
        self.path = path
        self.resumed = resumed

    @classmethod
    def open(cls, path, config):
        """Check `path` for `config`; write nothing.

        Raises:
            ValueError: the path cannot be a directory we write, its
                `config.json` does not parse, or it holds a run whose config
                differs (listing each differing field and the fix).
        """
        check_writable_dir("workdir", path)
        config_path = os.path.join(path, "config.json")
        if not os.path.exists(config_path):
            return cls(path, resumed=False)
        way_out = ("Delete it (or the whole run directory) to start over, "
                   "or use a new --workdir.")
        previous = read_json(config_path, fix=way_out)
        try:
            # Fields added to the schema since that run default in.
            previous = config_lib.validate(previous)
        except ValueError as e:
            raise ValueError(f"The saved {config_path!r} is not a valid run "
                             f"config: {e} {way_out}") from None
        changed = config_differences(previous, config)
        if changed:
            saved = flatten(_plain(previous))
            hints = " ".join(_override(saved, key) for key, _ in changed[:3])
            raise ValueError(
                f"The workdir {path!r} holds a run with a different config: "
                f"{'; '.join(line for _, line in changed)}. Use a new "
                "--workdir, or resume the saved run with its values ("
                f"{hints})."
            )
        return cls(path, resumed=True)

    def commit(self, config):
        """Create the directory and write `config.json` (atomically)."""
        os.makedirs(self.path, exist_ok=True)
        atomic_write_json(os.path.join(self.path, "config.json"), config)


def make_summary(config, model, objective, corpus, strategy, accounting,
                 logger, held_out, start_step):
    """The `summary.json` dict (non-finite numbers are written as null)."""
    t = config["training"]
    final = logger.rows[-1] if logger.rows else {}
    done = final.get("step", start_step)
    tokens_per_second = (done * accounting["tokens_per_step"]
                         / max(logger.train_time, 1e-9))
    flops_per_second = tokens_per_second * (
        accounting["flops_per_step"] / accounting["tokens_per_step"])
    return {
        "objective": objective.name,
        "objective_config": _plain(objective.get_config()),
        "status": "diverged" if logger.diverged else "completed",
        "diverged": bool(logger.diverged),
        "failure": logger.diverged,
        "steps": done,
        "final_loss": final.get("loss"),
        "held_out_loss": held_out.get("loss"),
        "held_out": held_out,
        "tokens_seen": done * accounting["tokens_per_step"],
        "loss_positions_seen": done * accounting["loss_positions_per_step"],
        "training_flops": done * accounting["flops_per_step"],
        "flops_per_step": accounting["flops_per_step"],
        "tokens_per_second": tokens_per_second,
        "flops_per_second": flops_per_second,
        "mfu": (flops_per_second / t["peak_flops"]
                if t["peak_flops"] else None),
        "parameters": model.count_params(),
        "backbone_parameters": model.backbone.count_params(),
        "wall_time": logger.wall_time,
        "seed": config["seed"],
        "global_batch_size": t["global_batch_size"],
        "replicas": strategy.num_replicas_in_sync,
        "mixed_precision": t["mixed_precision"],
        "jit_compile": bool(model.jit_compile),
        "corpus": corpus.stats,
        "versions": {
            "keras_objectives": __version__,
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
            "keras_hub": keras_hub.__version__,
            "python": platform.python_version(),
        },
    }
