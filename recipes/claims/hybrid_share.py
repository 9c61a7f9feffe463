"""Claim `hybrid_share`: A masked LM with a small causal share is not worse
than pure masked LM.

GPT-BERT (Charpentier & Samuel 2024); published at BabyLM: 10M-100M words,
30M-120M parameters. Arms mlm, clm-0.0625 (10 runs with 5 seeds), measured
by linear_probe, tagging.

    keras-objectives compare recipes/claims/hybrid_share.py:cpu

is the 2-core size (6e12 FLOPs a run); without `:cpu`, the one-GPU size
costs about 3.5 hours (10 x 1.4e+17 FLOPs at 1.1e14 FLOP/s).
"""

from keras_objectives.compare.claims_suite import claim_recipe


def get_config(arg=None):
    return claim_recipe("hybrid_share", arg)
