"""keras-tuner over objectives and their hyperparameters, scored downstream.

`ObjectiveHyperModel` builds the shared body and an objective's head from
a trial's hyperparameters, pre-trains under a fixed budget and returns the
linear-probe dev accuracy (`probe_accuracy`), never pre-training loss
(docs/methodology.md). `run_search(recipe, workdir)` is `keras-objectives tune`:
a RandomSearch, Hyperband or BayesianOptimization that resumes, then a
report. See docs/tuning.md.

keras-tuner is an optional extra (`pip install keras-objectives[tuner]`);
the search spaces and the report import without it.
"""

from keras_objectives.tuner.spaces import SHARED_SPACE  # noqa: F401
from keras_objectives.tuner.spaces import search_spaces  # noqa: F401
from keras_objectives.tuner.spaces import tunable_hyperparameters  # noqa: F401

INSTALL_HINT = ("keras_objectives.tuner needs keras-tuner. Install it with "
                "`pip install keras-objectives[tuner]` (or `pip install "
                "keras-tuner`).")

_LAZY = {
    "ObjectiveHyperModel": "keras_objectives.tuner.hypermodel",
    "probe_objective": "keras_objectives.tuner.hypermodel",
    "run_search": "keras_objectives.tuner.search",
    "make_tuner": "keras_objectives.tuner.search",
    "load_tuning_recipe": "keras_objectives.tuner.recipe",
    "validate_tuning_recipe": "keras_objectives.tuner.recipe",
    "write_tuning_report": "keras_objectives.tuner.report",
}


def require_keras_tuner():
    """Import keras_tuner, or raise `ImportError` with the install hint."""
    try:
        import keras_tuner
    except ImportError as e:
        raise ImportError(INSTALL_HINT) from e
    return keras_tuner


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
