"""One decorator that exports a symbol and registers it with Keras.

`@keras_objectives_export("keras_objectives.layers.MaskedLMMasker")` records
the public path (a test imports every recorded path) and, for classes,
registers them for Keras serialization under `package="keras_objectives"`.
Anchor: `keras_hub/src/api_export.py`.

A package's public names are exactly the paths recorded under it: its
`__init__` calls `export_package(__name__, __path__)`, so a new module that
decorates a new class needs no hand edit anywhere else.
"""

import importlib
import importlib.util
import pkgutil

import keras

# Public path -> exported object. Filled at import time.
EXPORTED = {}

_LOADED = set()


def keras_objectives_export(path):
    """Record `path` as the public name of the decorated object.

    Args:
        path: str or list of str, the public dotted path(s), for example
            `"keras_objectives.layers.MaskedLMMasker"`.
    """
    paths = [path] if isinstance(path, str) else list(path)
    for p in paths:
        if not p.startswith("keras_objectives."):
            raise ValueError(
                "Invalid value received for argument `path`. Expected a "
                f"dotted path under `keras_objectives.`. Received: path={p}"
            )

    def decorator(symbol):
        for p in paths:
            EXPORTED[p] = symbol
        if isinstance(symbol, type):
            keras.saving.register_keras_serializable(
                package="keras_objectives"
            )(symbol)
        return symbol

    return decorator


def load_package(name):
    """Import every module of package `name` once; importing registers.

    Returns:
        The package module.
    """
    package = importlib.import_module(name)
    if name not in _LOADED:
        _LOADED.add(name)
        for info in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{name}.{info.name}")
    return package


def export_package(name):
    """`(__getattr__, __dir__)` for a package whose exports are recorded.

    `from keras_objectives.layers import MaskedLMMasker` looks the name up
    in `EXPORTED`, importing the package's modules on first use.

    Args:
        name: the package's `__name__`.
    """
    prefix = f"{name}."

    def exported():
        load_package(name)
        return {
            p[len(prefix):]: symbol for p, symbol in EXPORTED.items()
            if p.startswith(prefix) and "." not in p[len(prefix):]
        }

    def __getattr__(attribute):
        symbol = EXPORTED.get(prefix + attribute)
        private = attribute.startswith("__")
        if symbol is None and not private and importlib.util.find_spec(
                prefix + attribute):
            # A submodule (`from package import module`): import just it,
            # so a module imported first never loads its whole package.
            return importlib.import_module(prefix + attribute)
        if symbol is None and not private:
            symbol = exported().get(attribute)
        if symbol is None:
            raise AttributeError(
                f"module {name!r} has no attribute {attribute!r}"
            )
        return symbol

    def __dir__():
        return sorted(exported())

    return __getattr__, __dir__


def deserialize(config):
    """`keras.saving.deserialize_keras_object`, importing the module first.

    A config from `keras.saving.serialize_keras_object` names the module
    that defines its class; when the class is not registered yet (a fresh
    process that never imported it), that module is imported, which
    registers it. So a saved `Pretrainer` or `MixtureTransform` loads
    whatever objective or layer it holds, the package's or a user's.
    """
    if isinstance(config, dict) and config.get("registered_name"):
        known = keras.saving.get_registered_object(config["registered_name"])
        if known is None and config.get("module"):
            importlib.import_module(config["module"])
    return keras.saving.deserialize_keras_object(config)
