"""Claim `mask_replacement`: 80/10/10 replacement is no better than
[MASK]-only.

Wettig et al. 2023, Table 3; published at Wettig: 124M parameters. Arms
mlm-80-10-10, mlm-mask-only (10 runs with 5 seeds), measured by
linear_probe, tagging.

    keras-objectives compare recipes/claims/mask_replacement.py:cpu

is the 2-core size (6e12 FLOPs a run); without `:cpu`, the one-GPU size
costs about 3.5 hours (10 x 1.4e+17 FLOPs at 1.1e14 FLOP/s).
"""

from keras_objectives.compare.claims_suite import claim_recipe


def get_config(arg=None):
    return claim_recipe("mask_replacement", arg)
