"""Claim `causal_likelihood_vs_denoising`: Causal LM beats a span-corruption
decoder on held-out next-token likelihood.

BART, Table 1; UL2 (Tay et al. 2023), Table 3; published at BART-base; UL2
at 167M-20B parameters. Arms clm, t5-decoder (10 runs with 5 seeds),
measured by held_out_lm.

    keras-objectives compare recipes/claims/causal_likelihood_vs_denoising.py:cpu

is the 2-core size (6e12 FLOPs a run); without `:cpu`, the one-GPU size
costs about 3.5 hours (10 x 1.4e+17 FLOPs at 1.1e14 FLOP/s).
"""

from keras_objectives.compare.claims_suite import claim_recipe


def get_config(arg=None):
    return claim_recipe("causal_likelihood_vs_denoising", arg)
