"""Claim `mask_rate_flat`: The masked-LM curve is flat from 15% to 40% masking.

Wettig et al. 2023, Figure 2; T5, Table 5; published at Wettig: 124M-354M
parameters; T5-base. Arms mlm-15%, mlm-40% (10 runs with 5 seeds), measured
by linear_probe, tagging.

    keras-objectives compare recipes/claims/mask_rate_flat.py:cpu

is the 2-core size (6e12 FLOPs a run); without `:cpu`, the one-GPU size
costs about 3.5 hours (10 x 1.4e+17 FLOPs at 1.1e14 FLOP/s).
"""

from keras_objectives.compare.claims_suite import claim_recipe


def get_config(arg=None):
    return claim_recipe("mask_rate_flat", arg)
