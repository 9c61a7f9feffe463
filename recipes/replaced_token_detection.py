"""ELECTRA replaced-token detection on the shared body (bidirectional).

A generator a quarter of the body's width (same depth, shared token and
position embeddings) fills the 15% masked positions with samples; the body
learns to tell replaced tokens from original ones at every position. The
generator's FLOPs count: here they are 15% of a step, which costs ~1.1x an
MLM step of the same body (MLM pays its softmax only at the masked slots).

Launch (CPU smoke run, a few minutes on 2 cores):

    keras-objectives train recipes/replaced_token_detection.py:runlocal \
        --workdir runs/electra

Full run (4 layers x 256, length 128, 10k steps x 32 sequences = 41M tokens,
about 1.0e15 training FLOPs with the generator, ~3 h on 2 CPU cores,
minutes on one GPU):

    keras-objectives train recipes/replaced_token_detection.py \
        --workdir runs/electra

ELECTRA-Small as published (Clark et al., 2020, Table 6), for reference:
12 layers x 256 hidden, 4 heads, FFN 1024, embedding 128 (the shared body
ties its embedding width to `hidden_dim`, so here it is 256), length 128,
batch 128, learning rate 5e-4 with 10k warmup steps, Adam epsilon 1e-6,
weight decay 0.01, dropout 0.1, generator 1/4, disc weight 50, 1M steps
(1.4e18 FLOPs). Override the fields above to get closer, for example
`--config.model.num_layers=12 --config.training.global_batch_size=128`.

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
        "class_name": "replaced_token_detection",
        "config": {
            "selection_rate": 0.15,  # ELECTRA's mask_prob.
            "mask_token_rate": 0.85,  # ELECTRA: 85% [MASK], 15% kept,
            "random_token_rate": 0.0,  # and no random tokens.
            "count_mode": "exact_round",  # ELECTRA's round(0.15 * n).
            "generator_size_ratio": 0.25,  # Table 6: 1/4 for Small.
            "temperature": 1.0,  # Sample from the generator as is.
            "gen_weight": 1.0,
            "disc_weight": 50.0,  # The binary loss is ~50x smaller.
            "disc_loss_on": "all",  # "masked": the ELECTRA-15% ablation.
            "replace_mlm": False,  # True: the Replace-MLM ablation.
        },
    }
    config["training"]["steps"] = 10_000
    config["training"]["steps_per_checkpoint"] = 500
    return apply_run_type(config, args)
