"""Claim `sentence_corruption`: Sentence-level-only corruption is far worse
than token masking.

BART (Lewis et al. 2020), Table 1; T5 (Raffel et al. 2020), Table 4
(deshuffling); published at BART-base size (6+6 layers x 768), 1M steps on
books and Wikipedia. Arms mlm, bart-shuffle (10 runs with 5 seeds), measured
by linear_probe, tagging.

    keras-objectives compare recipes/claims/sentence_corruption.py:cpu

is the 2-core size (6e12 FLOPs a run); without `:cpu`, the one-GPU size
costs about 3.5 hours (10 x 1.4e+17 FLOPs at 1.1e14 FLOP/s).
"""

from keras_objectives.compare.claims_suite import claim_recipe


def get_config(arg=None):
    return claim_recipe("sentence_corruption", arg)
