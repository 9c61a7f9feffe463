"""80/10/10 vs [MASK]-only replacement: an expected null result (Wettig et
al. 2023: 80/10/10 is no better), tested for equivalence with a margin of
2 accuracy points rather than by failing to find a difference.

Launch (10 runs of the 4 x 256 body at 1e15 FLOPs each:
about 15-30 min per run on one GPU, days on 2 CPU cores):

    keras-objectives compare recipes/compare_mask_replacement.py

CPU smoke run (tiny body, 2 seeds: about 2 CPU-minutes per run, 10-25
minutes on 2 cores):

    keras-objectives compare recipes/compare_mask_replacement.py:runlocal

Recipe arguments (`RECIPE.py:key=value,...`; an unknown key lists them):

    runlocal   CPU smoke run: tiny body, length 64 (default off)
    seeds      pre-training seeds 0..n-1 (default 5; 3 with runlocal)
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
        "name": "mask_replacement",
        "description": "80/10/10 vs [MASK]-only at equal FLOPs.",
        "seeds": [0, 1, 2] if local else [0, 1, 2, 3, 4],
        "budget": {"flops": 3e11 if local else 1e15},
        "base": base,
        "arms": sweeps.mask_replacement(),
        "evaluations": [
            {"name": "linear_probe", "task": "book_attribution"},
            "minimal_pairs",
        ],
        "expected_null": [{"arms": ["mlm-80-10-10", "mlm-mask-only"],
                           "margin": 0.02}],
    }, args)
