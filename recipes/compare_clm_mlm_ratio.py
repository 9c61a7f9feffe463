"""Hybrid CLM:MLM ratios 0, 1/16, 1/4, 1/2, 1 at equal tokens: how much
causal training an encoder can take, and how much masked training a
generator can take. Every arm is a `mixture` of `causal_lm` and
`masked_lm` (GPT-BERT style: one prefix-mode body, one tied LM head, MLM
predicted in place), so only the share of causal examples changes.

Launch (3 seeds, 4 x 256 body: about 15 h on 2 CPU cores):

    keras-objectives compare recipes/compare_clm_mlm_ratio.py --workdir runs/clm_mlm_ratio

CPU smoke run:

    keras-objectives compare recipes/compare_clm_mlm_ratio.py:runlocal
"""

from keras_objectives.compare import sweeps
from keras_objectives.compare.recipe import comparison_base


def get_config(arg=None):
    base, local = comparison_base(arg)
    ratios = [0.0, 1 / 16, 1 / 4, 1 / 2, 1.0]
    return {
        "name": "clm_mlm_ratio",
        "description": "Share of causal LM training in a CLM/MLM hybrid.",
        "seeds": [0, 1] if local else [0, 1, 2],
        "budget": {"tokens": 2e6 if local else 2e8},
        "base": base,
        "arms": sweeps.clm_mlm_ratio(ratios),
        "evaluations": [
            {"name": "linear_probe", "task": "book_attribution"},
            "minimal_pairs",
            "held_out_lm",
        ],
    }
