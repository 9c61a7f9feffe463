"""Objective x attention mask on the shared body (T5 Table 2: denoising vs
LM is 74.70 vs 73.78 GLUE on a causal decoder but 83.28 vs 79.56 on an
encoder-decoder, so the pairing matters).

Pairings (each arm's mask is its objective's):

| arm | objective | attention |
|---|---|---|
| causal_lm | next-token LM | causal |
| prefix_lm-decoder | LM with a bidirectional prefix | prefix |
| masked_lm | BERT denoising | bidirectional |
| span_corruption-decoder | T5 denoising, decoder-only | prefix |

The span corruption arm is included when that objective is registered.

Launch (12 runs of the 4 x 256 body at 2e8 tokens
(~5e15 FLOPs) each: about 1-2 h per run on one GPU, weeks on 2 CPU
cores):

    keras-objectives compare recipes/compare_objective_attention.py

CPU smoke run (tiny body, 2 seeds: about 2 CPU-minutes per run, 10-25
minutes on 2 cores):

    keras-objectives compare recipes/compare_objective_attention.py:runlocal

Recipe arguments (`RECIPE.py:key=value,...`; an unknown key lists them):

    runlocal   CPU smoke run: tiny body, length 64 (default off)
    seeds      pre-training seeds 0..n-1 (default 3; 2 with runlocal)
    budget     tokens per run (default 2e8; 3e5 with runlocal)
"""

from keras_objectives import objectives
from keras_objectives.compare import sweeps
from keras_objectives.compare.recipe import apply_comparison_args
from keras_objectives.compare.recipe import comparison_args
from keras_objectives.compare.recipe import comparison_base


def get_config(arg=None):
    args = comparison_args(arg)
    base, local = comparison_base(args)
    pairs = [("causal_lm", None), ("prefix_lm", "decoder"),
             ("masked_lm", None)]
    if "span_corruption" in objectives.names():
        pairs.append(("span_corruption", "decoder"))
    return apply_comparison_args({
        "name": "objective_attention",
        "description": "Objective x attention mask at equal tokens.",
        "seeds": [0, 1] if local else [0, 1, 2],
        "budget": {"tokens": 3e5 if local else 2e8},
        "base": base,
        "arms": sweeps.objective_by_attention(pairs),
        "evaluations": [
            {"name": "linear_probe", "task": "book_attribution"},
            "minimal_pairs",
            "held_out_lm",
        ],
        "checkpoints_for_curves": 0 if local else 3,
    }, args)
