"""Claim `static_dynamic`: Static and dynamic masking perform alike.

RoBERTa (Liu et al. 2019), Table 1; published at BERT-base, 1M steps. Arms
dynamic, static-x10 (10 runs with 5 seeds), measured by linear_probe,
tagging.

    keras-objectives compare recipes/claims/static_dynamic.py:cpu

is the 2-core size (6e12 FLOPs a run); without `:cpu`, the one-GPU size
costs about 3.5 hours (10 x 1.4e+17 FLOPs at 1.1e14 FLOP/s).
"""

from keras_objectives.compare.claims_suite import claim_recipe


def get_config(arg=None):
    return claim_recipe("static_dynamic", arg)
