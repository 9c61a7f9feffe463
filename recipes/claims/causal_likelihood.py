"""Claim `causal_likelihood`: Causal LM gives the best held-out next-token
likelihood.

BART, Table 1 (ELI5, XSum, ConvAI2, CNN/DM perplexity); published at BART-
base size, 1M steps. Arms clm, prefix-lm (10 runs with 5 seeds), measured by
held_out_lm.

    keras-objectives compare recipes/claims/causal_likelihood.py:cpu

is the 2-core size (6e12 FLOPs a run); without `:cpu`, the one-GPU size
costs about 3.5 hours (10 x 1.4e+17 FLOPs at 1.1e14 FLOP/s).
"""

from keras_objectives.compare.claims_suite import claim_recipe


def get_config(arg=None):
    return claim_recipe("causal_likelihood", arg)
