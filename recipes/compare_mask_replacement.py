"""80/10/10 vs [MASK]-only replacement: an expected null result (Wettig et
al. 2023: 80/10/10 is no better), tested for equivalence with a margin of
2 accuracy points rather than by failing to find a difference.

Launch (5 seeds, 4 x 256 body: about 8 h on 2 CPU cores):

    keras-objectives compare recipes/compare_mask_replacement.py --workdir runs/mask_replacement

CPU smoke run:

    keras-objectives compare recipes/compare_mask_replacement.py:runlocal
"""

from keras_objectives.compare import sweeps
from keras_objectives.compare.recipe import comparison_base


def get_config(arg=None):
    base, local = comparison_base(arg)
    return {
        "name": "mask_replacement",
        "description": "80/10/10 vs [MASK]-only at equal FLOPs.",
        "seeds": [0, 1, 2] if local else [0, 1, 2, 3, 4],
        "budget": {"flops": 2e12 if local else 1e15},
        "base": base,
        "arms": sweeps.mask_replacement(),
        "evaluations": [
            {"name": "linear_probe", "task": "book_attribution"},
            "minimal_pairs",
        ],
        "expected_null": [{"arms": ["mlm-80-10-10", "mlm-mask-only"],
                           "margin": 0.02}],
    }
