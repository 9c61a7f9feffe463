"""Atomic checkpoints of model and optimizer state, and resume.

A checkpoint is a directory `checkpoints/ckpt-00000100/` holding
`model.weights.h5` (model *and* optimizer variables, Keras 3 format) and
`state.json` (step, wall time, the weights' SHA-256, ...). It is written
under a temporary name and renamed into place, so a process killed
mid-write leaves either the previous checkpoint or the new one, never half
of one. A checkpoint corrupted later
(a truncated copy, a full disk) is detected on resume (`check`) and
skipped for the one before it. Resume never restores iterator state: the
caller rebuilds the data stream to start at `step * batch`.
"""

import hashlib
import json
import os
import re
import shutil
import tempfile

from keras_objectives.utils import atomic_write_json
from keras_objectives.utils import share_like_umask

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


def _digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check(path):
    """`(problem, state)` of checkpoint `path`; `problem` is None if good.

    Good means: `state.json` parses to a dict, `model.weights.h5` opens as
    HDF5, and its SHA-256 matches the digest written at save time
    (checkpoints written before digests existed pass without it).
    """
    try:
        with open(os.path.join(path, "state.json"), encoding="utf-8") as f:
            state = json.load(f)
    except (OSError, ValueError) as e:
        return f"state.json does not parse: {e}", None
    if not isinstance(state, dict):
        return "state.json does not hold a dict", None
    weights = os.path.join(path, "model.weights.h5")
    try:
        import h5py

        with h5py.File(weights, "r"):
            pass
    except OSError as e:
        return f"model.weights.h5 does not open: {e}", None
    expected = state.get("weights_sha256")
    if expected and _digest(weights) != expected:
        return ("model.weights.h5 does not match the digest written when "
                "it was saved"), None
    return None, state


def latest_good(workdir, log=None):
    """`(step, path, state)` of the newest good checkpoint, or `None`.

    A corrupt checkpoint (see `check`) is reported through `log` with its
    path and skipped for the one before it.

    Raises:
        ValueError: checkpoints exist but none is good, naming the
            directory and the way out.
    """
    found = list_checkpoints(workdir)
    problems = []
    for step, path in reversed(found):
        problem, state = check(path)
        if problem is None:
            if problems and log:
                log(f"resuming from step {step} ({path}).")
            return step, path, state
        problems.append(f"{path}: {problem}")
        if log:
            log(f"checkpoint {path} is corrupt ({problem}); falling back "
                "to the previous one.")
    if problems:
        raise ValueError(
            f"No usable checkpoint in {checkpoint_dir(workdir)!r}: "
            f"{'; '.join(problems)}. Delete that folder to train again from "
            "step 0, or use a new --workdir."
        )
    return None


def latest(workdir):
    """`(step, path, state)` of the newest good checkpoint, or `None`."""
    return latest_good(workdir)


def latest_step(workdir):
    """The step of the newest complete checkpoint, or 0."""
    checkpoints = list_checkpoints(workdir)
    return checkpoints[-1][0] if checkpoints else 0


def at_step(workdir, step):
    """`(step, path, state)` of checkpoint `step`; `None` for step 0.

    Raises:
        ValueError: if there is no good checkpoint at `step` (a worker of a
            multi-worker job that lost the checkpoint the others agreed to
            resume from).
    """
    if step == 0:
        return None
    problem = "missing"
    for found, path in list_checkpoints(workdir):
        if found == step:
            problem, state = check(path)
            if problem is None:
                return step, path, state
    raise ValueError(
        f"No good checkpoint at step {step} in {checkpoint_dir(workdir)!r} "
        f"({problem}; found steps "
        f"{[s for s, _ in list_checkpoints(workdir)]}). The workers of a "
        "job resume from the newest step all of them have; raise "
        "`training.keep_checkpoints`, or restart every worker from an "
        "empty workdir."
    )


def save(model, workdir, step, state, keep=3):
    """Write checkpoint `step` atomically and keep the newest `keep`."""
    root = checkpoint_dir(workdir)
    os.makedirs(root, exist_ok=True)
    final = os.path.join(root, f"ckpt-{step:08d}")
    tmp = tempfile.mkdtemp(dir=root, prefix=".tmp-ckpt-")
    try:
        weights = os.path.join(tmp, "model.weights.h5")
        model.save_weights(weights)
        atomic_write_json(os.path.join(tmp, "state.json"), {
            **state, "step": step, "weights_sha256": _digest(weights)})
        share_like_umask(weights)
        share_like_umask(tmp, directory=True)
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
    `keep_checkpoints` never touch them. `train` calls it once, on a
    fresh start, after the run's config is committed.
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
