"""Claim `electra_all_tokens`: ELECTRA's gain comes from the loss on all
tokens: ELECTRA-15% falls back toward masked LM.

ELECTRA, Table 5; published at ELECTRA-Base size, 1M steps. Arms electra,
electra-15% (10 runs with 5 seeds), measured by linear_probe, tagging.

    keras-objectives compare recipes/claims/electra_all_tokens.py:cpu

is the 2-core size (6e12 FLOPs a run); without `:cpu`, the one-GPU size
costs about 3.5 hours (10 x 1.4e+17 FLOPs at 1.1e14 FLOP/s).
"""

from keras_objectives.compare.claims_suite import claim_recipe


def get_config(arg=None):
    return claim_recipe("electra_all_tokens", arg)
