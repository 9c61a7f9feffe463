r"""Fill-in-the-middle causal LM on the shared body (causal attention).

Half of the documents are cut at two uniform points and rearranged as
`[PRE] prefix [SUF] suffix [MID] middle` (PSM) or, half of those, as
`[PRE] [SUF] suffix [MID] prefix middle` (SPM); the rest stay plain text.
The body is trained as a causal LM on every real token. At length 128 a
row consumes 126 raw tokens (3 positions are kept for the FIM tokens); the
loss is on about 127 of the 128 positions.

Launch (CPU smoke run, about 2 minutes on 2 cores):

    keras-objectives train recipes/fill_in_the_middle.py:runlocal \
        --workdir runs/fim

Full run (4 layers x 256, length 128, 10k steps x 32 sequences = 41M
positions, about 1.4e15 training FLOPs, ~2.5 h on 2 CPU cores, minutes on
one GPU):

    keras-objectives train recipes/fill_in_the_middle.py --workdir runs/fim

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
        "class_name": "fill_in_the_middle",
        "config": {
            "fim_rate": 0.5,  # FIM paper's main rate; <= 0.9 is free.
            "spm_rate": 0.5,  # FIM paper: train PSM and SPM jointly.
            "fim_level": "document",  # The paper's main setting.
        },
    }
    config["training"]["steps"] = 10_000
    config["training"]["steps_per_checkpoint"] = 500
    return apply_run_type(config, args)
