"""UL2 mixture of denoisers on the shared prefix-LM body.

Seven denoisers (R, X and S, with [NLU]/[NLG]/[S2S] mode tokens), sampled
uniformly per example, all in decoder form at one static length.

Launch (CPU smoke run, a few minutes on 2 cores):

    keras-objectives train recipes/ul2.py:runlocal --workdir runs/ul2

Full run (4 layers x 256, length 128, 10k steps x 32 sequences = 41M tokens,
about 1.4e15 training FLOPs; softmax at every position):

    keras-objectives train recipes/ul2.py --workdir runs/ul2

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
    config["objective"] = {"class_name": "ul2", "config": {}}
    config["training"]["steps"] = 10_000
    config["training"]["steps_per_checkpoint"] = 500
    return apply_run_type(config, args)
