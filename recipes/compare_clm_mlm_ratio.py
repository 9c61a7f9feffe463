"""Hybrid CLM:MLM ratios 0, 1/16, 1/4, 1/2, 1 at equal tokens: how much
causal training an encoder can take, and how much masked training a
generator can take. Every arm is a `mixture` of `causal_lm` and
`masked_lm` (GPT-BERT style: one prefix-mode body, one tied LM head, MLM
predicted in place), so only the share of causal examples changes.

Launch (15 runs of the 4 x 256 body at 2e8 tokens
(~5e15 FLOPs) each: about 1-2 h per run on one GPU, weeks on 2 CPU
cores):

    keras-objectives compare recipes/compare_clm_mlm_ratio.py

CPU smoke run (tiny body, 2 seeds: about 2 CPU-minutes per run, 10-25
minutes on 2 cores):

    keras-objectives compare recipes/compare_clm_mlm_ratio.py:runlocal

Recipe arguments (`RECIPE.py:key=value,...`; an unknown key lists them):

    runlocal   CPU smoke run: tiny body, length 64 (default off)
    seeds      pre-training seeds 0..n-1 (default 3; 2 with runlocal)
    budget     tokens per run (default 2e8; 3e5 with runlocal)
"""

from keras_objectives.compare import sweeps
from keras_objectives.compare.recipe import apply_comparison_args
from keras_objectives.compare.recipe import comparison_args
from keras_objectives.compare.recipe import comparison_base


def get_config(arg=None):
    args = comparison_args(arg)
    base, local = comparison_base(args)
    ratios = [0.0, 1 / 16, 1 / 4, 1 / 2, 1.0]
    return apply_comparison_args({
        "name": "clm_mlm_ratio",
        "description": "Share of causal LM training in a CLM/MLM hybrid.",
        "seeds": [0, 1] if local else [0, 1, 2],
        "budget": {"tokens": 3e5 if local else 2e8},
        "base": base,
        "arms": sweeps.clm_mlm_ratio(ratios),
        "evaluations": [
            {"name": "linear_probe", "task": "book_attribution"},
            "minimal_pairs",
            "held_out_lm",
        ],
    }, args)
