"""keras_objectives: seeded pre-training objectives for Keras 3 and tf.data."""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from keras_objectives.version import __version__  # noqa: E402,F401
