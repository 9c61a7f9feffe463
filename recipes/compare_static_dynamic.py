"""Static (BERT `dupe_factor`) vs dynamic (RoBERTa) masking, crossed with
the number of epochs over the corpus (RoBERTa Table 1: SQuAD 2.0 78.3 vs
78.7, MNLI 84.3 vs 84.0: no real difference at 40 epochs).

Static masking repeats each example's noise every `dupe_factor` epochs, so
the contrast is crossed with the number of epochs over the corpus: run the
recipe at several token budgets, one workdir each. The embedded corpus is
about 2.3M tokens, so the default 2e8 tokens is ~85 epochs and
`:ten_epochs` (2.3e7 tokens) about 10; the report shows each arm's
epochs.

Launch (6 runs of the 4 x 256 body at 2e8 tokens
(~5e15 FLOPs) each: about 1-2 h per run on one GPU, weeks on 2 CPU
cores):

    keras-objectives compare recipes/compare_static_dynamic.py
    keras-objectives compare recipes/compare_static_dynamic.py:ten_epochs

CPU smoke run (tiny body, 2 seeds: about 2 CPU-minutes per run, 10-25
minutes on 2 cores):

    keras-objectives compare recipes/compare_static_dynamic.py:runlocal

Recipe arguments (`RECIPE.py:key=value,...`; an unknown key lists them):

    runlocal     CPU smoke run: tiny body, length 64 (default off)
    ten_epochs   the full body at 2.3e7 tokens, ~10 epochs (default off)
    seeds        pre-training seeds 0..n-1 (default 3; 2 with runlocal)
    budget       tokens per run (default 2e8; 3e5 with runlocal)
"""

from keras_objectives.compare import sweeps
from keras_objectives.compare.recipe import apply_comparison_args
from keras_objectives.compare.recipe import comparison_args
from keras_objectives.compare.recipe import comparison_base


def get_config(arg=None):
    args = comparison_args(arg, ten_epochs=False)
    base, local = comparison_base(args)
    tokens = 2.3e7 if args["ten_epochs"] else (3e5 if local else 2e8)
    return apply_comparison_args({
        "name": "static_vs_dynamic",
        "description": "Static vs dynamic MLM masking at equal tokens.",
        "seeds": [0, 1] if local else [0, 1, 2],
        "budget": {"tokens": tokens},
        "base": base,
        "arms": sweeps.static_vs_dynamic(dupe_factors=(10,)),
        "evaluations": [
            {"name": "linear_probe", "task": "book_attribution"},
            "minimal_pairs",
        ],
        "expected_null": [
            {"arms": ["dynamic", "static-x10"], "margin": 0.02},
        ],
    }, args)
