"""Argument validation with Keras wording, and atomic file writes."""

import json
import math
import os
import tempfile


def invalid(argument, value, expected, fix=None):
    """A `ValueError` in Keras wording that names argument, value and fix."""
    message = (
        f"Invalid value received for argument `{argument}`. Expected "
        f"{expected}. Received: {argument}={value!r}"
    )
    if fix:
        message += f". {fix}"
    return ValueError(message)


def check_local_dir(argument, path):
    """Raise unless `path` is, or can become, a local directory; return it.

    Run, comparison and search directories are written with local file
    operations (atomic renames, `os.makedirs`). A URL such as
    `gs://bucket/run` would otherwise become a local folder named `gs:`;
    an existing file, or a path under one, fails here instead of as an
    `os.makedirs` traceback. Nothing is created.
    """
    if not isinstance(path, (str, os.PathLike)) or not str(path):
        raise invalid(argument, path, "a local directory path")
    if "://" in str(path):
        raise invalid(
            argument, path, "a local directory path",
            "Run directories are written with local file operations; use a "
            "path on this machine's disk (on a TPU VM, then copy it to "
            "Cloud Storage with tpu/collect.sh; see docs/tpu.md)",
        )
    full = os.path.abspath(os.fspath(path))
    if os.path.exists(full) and not os.path.isdir(full):
        raise invalid(argument, path, "a directory",
                      "It is a file: pass a directory path (a new one is "
                      "created)")
    parent = full
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        raise invalid(argument, path, "a directory path",
                      f"{parent!r} is a file, so nothing can be created "
                      "under it: choose another path")
    return path


def check_rate(argument, value):
    """Raise unless `0 <= value <= 1`; return `float(value)`."""
    try:
        rate = float(value)
    except (TypeError, ValueError):
        raise invalid(argument, value, "a float in [0, 1]") from None
    if not 0.0 <= rate <= 1.0:
        raise invalid(argument, value, "a float in [0, 1]")
    return rate


def check_rates_sum(arguments, values, total=1.0):
    """Raise if rates sum above `total` (with a small float tolerance)."""
    s = sum(values)
    if s > total + 1e-6:
        names = " + ".join(f"`{a}`" for a in arguments)
        shown = ", ".join(f"{a}={v}" for a, v in zip(arguments, values,
                                                     strict=True))
        raise ValueError(
            f"Invalid values received for arguments {names}. Expected them "
            f"to sum to at most {total}. Received: {shown} (sum {s:g}). "
            "Lower one of them."
        )


def check_int(argument, value, minimum=None, maximum=None, allow_none=False):
    """Raise unless `value` is an int in `[minimum, maximum]`."""
    if value is None and allow_none:
        return None
    bounds = []
    if minimum is not None:
        bounds.append(f">= {minimum}")
    if maximum is not None:
        bounds.append(f"<= {maximum}")
    expected = "an integer" + (" " + " and ".join(bounds) if bounds else "")
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            if int(value) != value:
                raise ValueError
            value = int(value)
        except (TypeError, ValueError):
            raise invalid(argument, value, expected) from None
    if (minimum is not None and value < minimum) or (
        maximum is not None and value > maximum
    ):
        raise invalid(argument, value, expected)
    return value


def check_choice(argument, value, choices):
    if value not in choices:
        raise invalid(argument, value, f"one of {sorted(choices)}")
    return value


def _umask():
    """The process umask, read without changing it where Linux allows."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)  # Elsewhere: set it back at once.
    os.umask(mask)
    return mask


def share_like_umask(path, directory=False):
    """Give `path` the mode `open`/`mkdir` would (0644/0755 by default).

    `tempfile.mkstemp`/`mkdtemp` create 0600/0700 whatever the umask; a file
    written through them and renamed into place keeps that mode, so a run
    directory could not be read by anyone else on a shared machine.
    """
    os.chmod(path, (0o777 if directory else 0o666) & ~_umask())


def atomic_write_text(path, text):
    """Write `text` to `path` atomically (temp file in the same dir, rename).

    The file gets the mode a plain `open(path, "w")` would (the umask's).
    """
    path = os.fspath(path)
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        share_like_umask(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def is_finite_number(value):
    """An int or float (not a bool) that is finite as a float.

    >>> [is_finite_number(v) for v in (1e3, float("nan"), 10**400, True)]
    [True, False, False, False]
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def finite_or_none(value):
    """`value` with every non-finite float (NaN, inf) replaced by `None`.

    >>> finite_or_none({"loss": float("nan"), "steps": [1, float("inf")]})
    {'loss': None, 'steps': [1, None]}
    """
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite_or_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_none(v) for v in value]
    return value


def atomic_write_json(path, obj):
    """Write strict JSON atomically: NaN and infinities become `null`."""
    text = json.dumps(finite_or_none(obj), indent=2, sort_keys=True,
                      allow_nan=False)
    atomic_write_text(path, text + "\n")


def read_json(path, fix=None):
    """Parse the JSON file `path`; a clear error names it and the fix.

    Args:
        path: the file.
        fix: what the user can do about a file that does not parse (for
            example "Delete it, or use a new --workdir").

    Raises:
        ValueError: the file is not valid JSON (or not UTF-8), naming the
            file, where it fails and `fix`.
    """
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (ValueError, UnicodeDecodeError) as e:
        raise ValueError(
            f"Cannot read {os.fspath(path)!r}: it is not valid JSON ({e})."
            + (f" {fix}" if fix else "")
        ) from None


def check_writable_dir(argument, path):
    """`check_local_dir`, and the nearest existing folder is writable."""
    check_local_dir(argument, path)
    parent = os.path.abspath(os.fspath(path))
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.access(parent, os.W_OK | os.X_OK):
        raise invalid(argument, path, "a directory path you can write",
                      f"{parent!r} is not writable")
    return path
