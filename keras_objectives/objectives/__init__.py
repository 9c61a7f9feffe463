"""Pre-training objectives: one file per objective, looked up by name."""

from keras_objectives.objectives.objective import Objective  # noqa: F401
from keras_objectives.objectives.registry import get  # noqa: F401
from keras_objectives.objectives.registry import names  # noqa: F401
from keras_objectives.objectives.registry import register  # noqa: F401
