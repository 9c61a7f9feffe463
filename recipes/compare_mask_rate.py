"""MLM mask-rate sweep: 10/15/25/40/60% at equal FLOPs (T5 Table 5;
Wettig et al. 2023: the best rate grows with model size).

Losses are not comparable across mask rates (Wettig: 80% masking had
validation perplexity 1141 yet kept 95% of fine-tuning quality), so the
verdict uses the probe and minimal pairs only.

Launch (15 runs of the 4 x 256 body at 1e15 FLOPs each:
about 15-30 min per run on one GPU, days on 2 CPU cores):

    keras-objectives compare recipes/compare_mask_rate.py

CPU smoke run (tiny body, 2 seeds: about 2 CPU-minutes per run, 10-25
minutes on 2 cores):

    keras-objectives compare recipes/compare_mask_rate.py:runlocal

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
        "name": "mask_rate",
        "description": "MLM selection rate sweep at equal training FLOPs.",
        "seeds": [0, 1] if local else [0, 1, 2],
        "budget": {"flops": 3e11 if local else 1e15},
        "base": base,
        "arms": sweeps.mask_rate_sweep([0.10, 0.15, 0.25, 0.40, 0.60]),
        "evaluations": [
            {"name": "linear_probe", "task": "book_attribution"},
            {"name": "minimal_pairs", "num_pairs": 200 if local else 300},
        ],
        "checkpoints_for_curves": 0 if local else 3,
    }, args)
