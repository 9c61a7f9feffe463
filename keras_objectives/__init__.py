"""keras_objectives: seeded pre-training objectives for Keras 3 and tf.data."""

import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

if sys.argv[:1] == ["-m"] or (
        sys.argv and os.path.basename(sys.argv[0]) == "keras-objectives"):
    # The CLI (`keras-objectives ...` or `python -m keras_objectives.x`):
    # the registration below imports TensorFlow, so import it the CLI's
    # way first (its C++ start-up lines hidden unless --debug).
    from keras_objectives import cli as _cli

    _cli._setup_environment(_cli._debug(sys.argv[1:]))
    # `python -m keras_objectives.cli` runs the module afresh as __main__.
    del sys.modules["keras_objectives.cli"], _cli

# Register the body, its tokenizer, preprocessors and tasks with Keras and
# keras-hub, so `keras_hub.models.Backbone.from_preset(DIR)`,
# `keras_hub.models.TextClassifier.from_preset(DIR, num_classes=k)` and
# `keras.saving.load_model("model.keras")` find them after
# `import keras_objectives`.
from keras_objectives.models import keras_hub_tasks  # noqa: E402,F401
from keras_objectives.version import __version__  # noqa: E402,F401
