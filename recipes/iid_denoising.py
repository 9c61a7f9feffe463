"""T5 iid denoising on the shared body (decoder-only form, prefix attention).

Each token is noise with probability 0.15; runs of noise collapse into one
sentinel each. The number of runs is random, so a row consumes 87 raw
tokens at length 128 (the stream `n + 2 runs + 2` fits with the runs at
their mean + 3 sigma; rows beyond keep their trailing runs uncorrupted).
About 25 loss positions per sequence.

Launch (CPU smoke run, about 2 minutes on 2 cores):

    keras-objectives train recipes/iid_denoising.py:runlocal --workdir runs/iid

Full run (4 layers x 256, length 128, 10k steps x 32 sequences = 41M
positions, 28M raw tokens, about 1.4e15 training FLOPs, ~2.5 h on 2 CPU
cores, minutes on one GPU):

    keras-objectives train recipes/iid_denoising.py --workdir runs/iid

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
        "class_name": "iid_denoising",
        "config": {
            "form": "decoder",  # Shared body; "encoder_decoder": T5Backbone.
            "noise_density": 0.15,  # T5 Table 4's i.i.d. setting.
        },
    }
    config["training"]["steps"] = 10_000
    config["training"]["steps_per_checkpoint"] = 500
    return apply_run_type(config, args)
