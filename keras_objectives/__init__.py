"""keras_objectives: seeded pre-training objectives for Keras 3 and tf.data."""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

# Register the body, its tokenizer, preprocessors and tasks with Keras and
# keras-hub, so `keras_hub.models.Backbone.from_preset(DIR)`,
# `keras_hub.models.TextClassifier.from_preset(DIR, num_classes=k)` and
# `keras.saving.load_model("model.keras")` find them after
# `import keras_objectives`.
from keras_objectives.models import keras_hub_tasks  # noqa: E402,F401
from keras_objectives.version import __version__  # noqa: E402,F401
