"""Claim `bidirectional_understanding`: Bidirectional masked LM beats causal LM
on understanding, most on token-level tasks that need right context.

BERT (Devlin et al. 2019), Table 5; BART, Table 1; published at BERT-base
(12 x 768, 110M parameters), 1M steps x 256 x 512 tokens. Arms mlm, clm (10
runs with 5 seeds), measured by linear_probe, tagging.

    keras-objectives compare recipes/claims/bidirectional_understanding.py:cpu

is the 2-core size (6e12 FLOPs a run); without `:cpu`, the one-GPU size
costs about 3.5 hours (10 x 1.4e+17 FLOPs at 1.1e14 FLOP/s).
"""

from keras_objectives.compare.claims_suite import claim_recipe


def get_config(arg=None):
    return claim_recipe("bidirectional_understanding", arg)
