"""Claim `electra_vs_mlm`: ELECTRA beats masked LM at equal training FLOPs.

ELECTRA (Clark et al. 2020), Table 1 and Figure 1; published at ELECTRA-
Small (12 x 256, 14M parameters), 1M steps x 128 x 128 tokens. Arms mlm,
electra (10 runs with 5 seeds), measured by linear_probe, tagging.

    keras-objectives compare recipes/claims/electra_vs_mlm.py:cpu

is the 2-core size (6e12 FLOPs a run); without `:cpu`, the one-GPU size
costs about 3.5 hours (10 x 1.4e+17 FLOPs at 1.1e14 FLOP/s).
"""

from keras_objectives.compare.claims_suite import claim_recipe


def get_config(arg=None):
    return claim_recipe("electra_vs_mlm", arg)
