"""Atomic checkpoints of model and optimizer state, and resume.

A checkpoint is a directory `checkpoints/ckpt-00000100/` holding
`model.weights.h5` (model *and* optimizer variables, Keras 3 format) and
`state.json` (step, wall time, ...). It is written under a temporary name and
renamed into place, so a process killed mid-write leaves either the previous
checkpoint or the new one, never half of one. Resume never restores iterator
state: the caller rebuilds the data stream to start at `step * batch`.
"""

import json
import os
import re
import shutil
import tempfile

from keras_objectives.utils import atomic_write_json

_PATTERN = re.compile(r"^ckpt-(\d{8})$")


def checkpoint_dir(workdir):
    return os.path.join(workdir, "checkpoints")


def list_checkpoints(workdir):
    """Complete checkpoints as `[(step, path)]`, oldest first."""
    root = checkpoint_dir(workdir)
    if not os.path.isdir(root):
        return []
    found = []
    for name in os.listdir(root):
        match = _PATTERN.match(name)
        path = os.path.join(root, name)
        if match and os.path.isfile(os.path.join(path, "state.json")):
            found.append((int(match.group(1)), path))
    return sorted(found)


def latest(workdir):
    """`(step, path, state)` of the newest complete checkpoint, or `None`."""
    checkpoints = list_checkpoints(workdir)
    if not checkpoints:
        return None
    step, path = checkpoints[-1]
    with open(os.path.join(path, "state.json")) as f:
        return step, path, json.load(f)


def latest_step(workdir):
    """The step of the newest complete checkpoint, or 0."""
    checkpoints = list_checkpoints(workdir)
    return checkpoints[-1][0] if checkpoints else 0


def at_step(workdir, step):
    """`(step, path, state)` of checkpoint `step`; `None` for step 0.

    Raises:
        ValueError: if there is no complete checkpoint at `step` (a worker
            of a multi-worker job that lost the checkpoint the others
            agreed to resume from).
    """
    if step == 0:
        return None
    for found, path in list_checkpoints(workdir):
        if found == step:
            with open(os.path.join(path, "state.json")) as f:
                return step, path, json.load(f)
    raise ValueError(
        f"No complete checkpoint at step {step} in {checkpoint_dir(workdir)}"
        f" (found steps {[s for s, _ in list_checkpoints(workdir)]}). The "
        "workers of a job resume from the newest step all of them have; "
        "raise `training.keep_checkpoints`, or restart every worker from "
        "an empty workdir."
    )


def save(model, workdir, step, state, keep=3):
    """Write checkpoint `step` atomically and keep the newest `keep`."""
    root = checkpoint_dir(workdir)
    os.makedirs(root, exist_ok=True)
    final = os.path.join(root, f"ckpt-{step:08d}")
    tmp = tempfile.mkdtemp(dir=root, prefix=".tmp-ckpt-")
    try:
        model.save_weights(os.path.join(tmp, "model.weights.h5"))
        atomic_write_json(os.path.join(tmp, "state.json"),
                          {**state, "step": step})
        if os.path.exists(final):
            shutil.rmtree(final)
        os.replace(tmp, final)
    finally:
        if os.path.exists(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
    for _, old in list_checkpoints(workdir)[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    # Leftovers of writes that were killed.
    for name in os.listdir(root):
        if name.startswith(".tmp-ckpt-"):
            shutil.rmtree(os.path.join(root, name), ignore_errors=True)
    return final


INITIAL = "initial"


def initial_weights_path(workdir):
    """Where `save_initial` keeps a run's weights before any step."""
    return os.path.join(checkpoint_dir(workdir), INITIAL, "model.weights.h5")


def save_initial(model, workdir):
    """Write the model's weights before training, once, atomically.

    They sit outside the `ckpt-*` rotation, so resuming and
    `keep_checkpoints` never touch them. A resumed run rebuilds the same
    initial weights from its seed before restoring, so calling this after
    `build_model` and before `restore` is right on every start.
    """
    path = initial_weights_path(workdir)
    if os.path.isfile(path):
        return path
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp.weights.h5"
    model.save_weights(tmp)
    os.replace(tmp, path)
    return path


def restore(model, path):
    """Load model and optimizer variables from checkpoint `path`.

    The optimizer is built first so its slots exist to receive the saved
    values (Keras skips unbuilt optimizers silently otherwise).
    """
    if model.optimizer is not None and not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    model.load_weights(os.path.join(path, "model.weights.h5"))
