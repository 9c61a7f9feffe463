"""Claim `span_masking`: Span masking (mean span about 3) is at least as good
as i.i.d. token masking.

SpanBERT (Joshi et al. 2020), Table 6; T5, Table 7; published at T5-base;
SpanBERT-large. Arms mlm, span-masking (10 runs with 5 seeds), measured by
linear_probe, tagging.

    keras-objectives compare recipes/claims/span_masking.py:cpu

is the 2-core size (6e12 FLOPs a run); without `:cpu`, the one-GPU size
costs about 3.5 hours (10 x 1.4e+17 FLOPs at 1.1e14 FLOP/s).
"""

from keras_objectives.compare.claims_suite import claim_recipe


def get_config(arg=None):
    return claim_recipe("span_masking", arg)
