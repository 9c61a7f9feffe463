"""The body's keras-hub tokenizer, preprocessors and tasks, registered.

Importing this module (`import keras_objectives` does) registers them with
Keras serialization and so with keras-hub's preset machinery, which finds
the task class of a preset by its backbone class.
"""

# ruff: noqa: F401
from keras_objectives.models.body_text_classifier import BodyTextClassifier
from keras_objectives.models.body_text_classifier_preprocessor import (
    BodyTextClassifierPreprocessor,
)
from keras_objectives.models.body_token_classifier import BodyTokenClassifier
from keras_objectives.models.body_token_classifier_preprocessor import (
    BodyTokenClassifierPreprocessor,
)
from keras_objectives.models.body_tokenizer import BodyTokenizer
