"""One decorator that exports a symbol and registers it with Keras.

`@keras_objectives_export("keras_objectives.layers.MaskedLMMasker")` records
the public path (a test imports every recorded path) and, for classes,
registers them for Keras serialization under `package="keras_objectives"`.
Anchor: `keras_hub/src/api_export.py`.
"""

import keras

# Public path -> exported object. Filled at import time.
EXPORTED = {}


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
