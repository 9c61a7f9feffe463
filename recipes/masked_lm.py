"""BERT-style masked LM (dynamic 80/10/10) on the shared body.

Launch (CPU smoke run, about 2 minutes on 2 cores):

    keras-objectives train recipes/masked_lm.py:runlocal --workdir runs/mlm

Full run (4 layers x 256, length 128, 10k steps x 32 sequences = 41M tokens,
about 1.3e15 training FLOPs, ~2.5 h on 2 CPU cores, minutes on one GPU):

    keras-objectives train recipes/masked_lm.py --workdir runs/mlm

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
        "class_name": "masked_lm",
        "config": {
            "selection_rate": 0.15,  # BERT; Wettig et al.: 0.4 at 354M.
            "mask_token_rate": 0.8,
            "random_token_rate": 0.1,
        },
    }
    config["training"]["steps"] = 10_000
    config["training"]["steps_per_checkpoint"] = 500
    return apply_run_type(config, args)
