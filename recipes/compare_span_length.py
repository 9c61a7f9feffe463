"""T5 span corruption by mean span length: iid/2/3/5/10 at 15% noise
(T5 Table 7: GLUE 83.28 / 83.54 / 83.49 / 83.40 / 82.85, flat).

Needs the `span_corruption` objective (decoder-only form on the shared
body).

Launch (15 runs of the 4 x 256 body at 2e8 tokens
(~5e15 FLOPs) each: about 1-2 h per run on one GPU, weeks on 2 CPU
cores):

    keras-objectives compare recipes/compare_span_length.py

CPU smoke run (tiny body, 2 seeds: about 2 CPU-minutes per run, 10-25
minutes on 2 cores):

    keras-objectives compare recipes/compare_span_length.py:runlocal

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
    return apply_comparison_args({
        "name": "span_length",
        "description": "Span corruption mean span length at equal tokens.",
        "seeds": [0, 1] if local else [0, 1, 2],
        "budget": {"tokens": 3e5 if local else 2e8},
        "base": base,
        "arms": sweeps.span_length_sweep(["iid", 2, 3, 5, 10]),
        "evaluations": [
            {"name": "linear_probe", "task": "book_attribution"},
            "minimal_pairs",
        ],
    }, args)
