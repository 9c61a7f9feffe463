"""Hybrid causal + masked LM (GPT-BERT style) on one prefix-LM body.

A `Mixture` of causal LM and masked LM; `mlm_share` is the fraction of
examples trained with masked LM (`compare_clm_mlm_ratio.py` sweeps 0,
1/16, 1/4, 1/2, 1).

Launch (CPU smoke run):

    keras-objectives train recipes/hybrid_clm_mlm.py:runlocal \\
        --workdir runs/hybrid

Change the share from the command line:

    keras-objectives train recipes/hybrid_clm_mlm.py:runlocal \\
        --config.objective.config.rates="[0.5, 0.5]"

Recipe arguments (`RECIPE.py:key=value,...`; an unknown key lists them):

    runlocal   CPU smoke run: tiny model, 200 steps (default off)
"""

from keras_objectives.config import apply_run_type
from keras_objectives.config import base_config
from keras_objectives.config import recipe_args

MLM_SHARE = 1 / 16  # GPT-BERT's best small-scale share.


def get_config(arg=None):
    args = recipe_args(arg, runlocal=False)
    config = base_config()
    config["seed"] = 0
    config["objective"] = {
        "class_name": "mixture",
        "config": {
            "members": ["causal_lm", "masked_lm"],
            "rates": [1 - MLM_SHARE, MLM_SHARE],
        },
    }
    config["training"]["steps"] = 10_000
    config["training"]["steps_per_checkpoint"] = 500
    return apply_run_type(config, args)
