"""Every recorded public path imports, and registered classes serialize."""

import importlib
import pkgutil

import keras

import keras_objectives
from keras_objectives.api_export import EXPORTED


def _import_everything():
    for info in pkgutil.walk_packages(keras_objectives.__path__,
                                      "keras_objectives."):
        importlib.import_module(info.name)


def test_every_exported_path_is_importable_and_registered():
    _import_everything()
    assert len(EXPORTED) >= 5
    for path, symbol in EXPORTED.items():
        module, _, name = path.rpartition(".")
        public = importlib.import_module(module)
        assert getattr(public, name) is symbol, path
        if isinstance(symbol, type):
            registered = keras.saving.get_registered_name(symbol)
            assert registered == f"keras_objectives>{symbol.__name__}"
