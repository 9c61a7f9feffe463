"""Directories written whole or not at all: write to a temp dir, rename."""

import contextlib
import os
import shutil
import tempfile

from keras_objectives.utils import check_local_dir
from keras_objectives.utils import invalid


def check_output_dir(argument, path, overwrite=False, flag="--overwrite"):
    """Raise unless `path` is absent, an empty directory, or `overwrite`.

    Examples:

    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> check_output_dir("output", folder) == folder
    True
    >>> _ = open(os.path.join(folder, "x"), "w").close()
    >>> check_output_dir("output", folder)
    Traceback (most recent call last):
    ...
    ValueError: Invalid value received for argument `output`. ...
    """
    check_local_dir(argument, path)
    path = os.fspath(path)
    if os.path.exists(path) and not os.path.isdir(path):
        raise invalid(argument, path, "a directory path (it is a file)",
                      "Choose another path")
    if os.path.isdir(path) and os.listdir(path) and not overwrite:
        raise invalid(
            argument, path, "a new or empty directory",
            f"It exists and is not empty; pass {flag} to replace it, or "
            "choose a new path")
    return path


@contextlib.contextmanager
def atomic_directory(path):
    """Yield a temp dir next to `path`; on success it replaces `path`.

    If the body raises, the temp dir is removed and `path` is untouched,
    so a reader sees the old directory or the complete new one, never a
    half-written one.

    Examples:

    >>> import tempfile
    >>> target = os.path.join(tempfile.mkdtemp(), "out")
    >>> with atomic_directory(target) as tmp:
    ...     _ = open(os.path.join(tmp, "a.txt"), "w").write("done")
    >>> os.listdir(target)
    ['a.txt']
    """
    path = os.path.abspath(os.fspath(path))
    parent = os.path.dirname(path)
    os.makedirs(parent, exist_ok=True)
    name = os.path.basename(path)
    tmp = tempfile.mkdtemp(dir=parent, prefix=f".tmp-{name}-")
    try:
        yield tmp
        old = None
        if os.path.exists(path):
            old = tempfile.mkdtemp(dir=parent, prefix=f".old-{name}-")
            os.replace(path, os.path.join(old, name))
        os.replace(tmp, path)
        if old:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if os.path.exists(tmp):
            shutil.rmtree(tmp, ignore_errors=True)


def atomic_save(path, write):
    """Call `write(tmp_path)`, then rename the result onto `path`.

    For single files another library writes (`model.save`, `png`).
    """
    path = os.fspath(path)
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    # The temp name ends with the file name: savers check the extension.
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-",
                               suffix="-" + os.path.basename(path))
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path
