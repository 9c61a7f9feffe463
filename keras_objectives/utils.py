"""Argument validation with Keras wording, and atomic file writes."""

import json
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
    """Raise unless `path` is a local directory path; return it.

    Run, comparison and search directories are written with local file
    operations (atomic renames, `os.makedirs`). A URL such as
    `gs://bucket/run` would otherwise become a local folder named `gs:`.
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
        shown = ", ".join(f"{a}={v}" for a, v in zip(arguments, values))
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


def atomic_write_text(path, text):
    """Write `text` to `path` atomically (temp file in the same dir, rename)."""
    path = os.fspath(path)
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def atomic_write_json(path, obj):
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")
