"""Claim `span_masking`: Span masking (mean span about 3) is at least as good as i.i.d. token masking.

Source: SpanBERT (Joshi et al. 2020), Table 6; T5, Table 7.
Published at: T5-base; SpanBERT-large.

Arms: mlm, span-masking; 5 pre-training seeds;
evaluations: linear_probe, tagging.
The report's claims table says whether this scale reproduces the claim,
contradicts it, or cannot tell (with the smallest effect it could detect
and the seeds that would settle it).

Sizes (`keras_objectives.compare.claims_suite`):

    keras-objectives compare recipes/claims/span_masking.py:cpu

runs 2 layers x 128 on 2 CPU cores at 6e12 training FLOPs per run:
10 runs, at most 40% of the CPU suite's grid (`suite.py:cpu`, whose
measured time docs/methodology.md gives).

    keras-objectives compare recipes/claims/span_masking.py

is the one-GPU size: 6 layers x 512, length 128, batch 128, bf16,
1.4e+17 FLOPs per run; 10 runs x 1.4e+17 FLOPs at
1.1e14 FLOP/s sustained (an A100 at 35% of its bf16 peak) is about
3.5 hours of training.

Recipe arguments: `cpu`, `seeds=N`, `budget=FLOPS`.
"""

from keras_objectives.compare.claims_suite import claim_recipe


def get_config(arg=None):
    return claim_recipe("span_masking", arg)
