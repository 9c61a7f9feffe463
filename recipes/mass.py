"""MASS (Song et al., 2019): mask one contiguous fragment, predict it.

Half of each row, one contiguous fragment, is replaced by `[MASK]`; the
model reads the masked row and generates the fragment. On the shared body
(decoder form): a 128-token stream holds an 85-token masked row and its
43-token fragment (43 loss positions per sequence).

Launch (CPU smoke run):

    keras-objectives train recipes/mass.py:runlocal --workdir runs/mass

Full run: 10k steps x 32 sequences of 128, as recipes/prefix_lm.py.

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
        "class_name": "mass",
        "config": {
            "form": "decoder",  # The shared body; "encoder_decoder": BART.
            "fragment_ratio": 0.5,  # MASS's k = m / 2.
        },
    }
    config["training"]["steps"] = 10_000
    config["training"]["steps_per_checkpoint"] = 500
    return apply_run_type(config, args)
