"""ELECTRA vs MLM at equal training FLOPs, plus ELECTRA-15% (ELECTRA
Tables 1 and 5: 79.9 vs 75.1 GLUE for Small models at 1.4e18 FLOPs).

The budget is FLOPs, so the generator's FLOPs count against ELECTRA and
each arm gets its own step count. ELECTRA's gain is partly its 100%
loss-bearing positions (vs ~15% for MLM); ELECTRA-15% puts the
discriminator loss on the masked positions only and isolates that.

Launch (9 runs of the 4 x 256 body at 1e15 FLOPs each:
about 15-30 min per run on one GPU, days on 2 CPU cores):

    keras-objectives compare recipes/compare_electra_vs_mlm.py

CPU smoke run (tiny body, 2 seeds: about 2 CPU-minutes per run, 10-25
minutes on 2 cores):

    keras-objectives compare recipes/compare_electra_vs_mlm.py:runlocal

Recipe arguments (`RECIPE.py:key=value,...`; an unknown key lists them):

    runlocal   CPU smoke run: tiny body, length 64 (default off)
    seeds      pre-training seeds 0..n-1 (default 3; 2 with runlocal)
    budget     training FLOPs per run (default 1e15; 3e11 with runlocal)
"""

from keras_objectives.compare import sweeps
from keras_objectives.compare.recipe import apply_comparison_args
from keras_objectives.compare.recipe import comparison_args
from keras_objectives.compare.recipe import comparison_base


def get_config(arg=None):
    args = comparison_args(arg)
    base, local = comparison_base(args)
    return apply_comparison_args({
        "name": "electra_vs_mlm",
        "description": "Replaced token detection vs masked LM at equal "
                       "training FLOPs (generator included).",
        "seeds": [0, 1] if local else [0, 1, 2],
        "budget": {"flops": 3e11 if local else 1e15},
        "base": base,
        "arms": sweeps.electra_vs_mlm(include_electra_15=True),
        "evaluations": [
            {"name": "linear_probe", "task": "book_attribution"},
            {"name": "fine_tune", "task": "book_attribution", "epochs": 3},
            "minimal_pairs",
        ],
        "checkpoints_for_curves": 3,
    }, args)
