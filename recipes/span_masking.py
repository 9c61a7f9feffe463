"""SpanBERT span masking (geometric spans of whole words) on the shared body.

Launch (CPU smoke run):

    keras-objectives train recipes/span_masking.py:runlocal \
        --workdir runs/spanbert

Full run: as recipes/masked_lm.py (same head and compute).

Recipe arguments (`RECIPE.py:key=value,...`; an unknown key lists them):

    runlocal   CPU smoke run: tiny model, 200 steps (default off)
"""

from keras_objectives.config import apply_run_type
from keras_objectives.config import base_config
from keras_objectives.config import recipe_args


def get_config(arg=None):
    args = recipe_args(arg, runlocal=False)
    config = base_config()
    config["seed"] = 0
    config["objective"] = {
        "class_name": "span_masking",
        "config": {
            "geometric_p": 0.2,  # Mean ~3.8 words per span.
            "max_span_length": 10,
            "count_mode": "exact_ceil",  # SpanBERT's budget.
        },
    }
    config["training"]["steps"] = 10_000
    config["training"]["steps_per_checkpoint"] = 500
    return apply_run_type(config, args)
