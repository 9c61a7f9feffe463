"""Prefix LM on the shared body (T5 `prefix_lm`, decoder-only form).

Each 128-token row is split at a point uniform on [1, n - 1]: the body
attends bidirectionally over the start token and the prefix, causally
after it, and predicts the suffix (on average half the row, 64 loss
positions per sequence; causal LM has 128).

Launch (CPU smoke run, about 2 minutes on 2 cores):

    keras-objectives train recipes/prefix_lm.py:runlocal --workdir runs/plm

Full run (4 layers x 256, length 128, 10k steps x 32 sequences = 41M
tokens, about 1.4e15 training FLOPs, ~2.5 h on 2 CPU cores, minutes on one
GPU):

    keras-objectives train recipes/prefix_lm.py --workdir runs/plm

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
        "class_name": "prefix_lm",
        "config": {
            "form": "decoder",  # seqio's PrefixLMFeatureConverter.
        },
    }
    config["training"]["steps"] = 10_000
    config["training"]["steps_per_checkpoint"] = 500
    return apply_run_type(config, args)
