"""The CPU claims suite: the structural claims small bodies can show.

One comparison whose arms are the union of the claims' arms (an arm two
claims share trains once): masked LM, causal LM, prefix LM and BART
sentence shuffling, 5 pre-training seeds each, equal training FLOPs, the
untrained and no-context controls, evaluated with the book-attribution
probe, the punctuation-restoration tagger and held-out next-token
likelihood. The report opens with the claims table:

- sentence_corruption: sentence-level-only corruption is far worse than
  token masking;
- bidirectional_understanding: masked LM beats causal LM on
  understanding, most on the token-level task;
- causal_likelihood: causal LM gives the best next-token likelihood
  (against prefix LM).

    keras-objectives compare recipes/claims/suite.py:cpu --workdir runs/claims

runs 20 runs of 2 layers x 128 at 4.5e12 FLOPs each on 2 CPU cores:
about an hour (rerunning resumes). At this budget no arm beats its
untrained body on the understanding tasks, so the report marks those
claims "not tested"; docs/methodology.md has the measured run. Without
`:cpu` it is the one-GPU size: 20 runs x 5.5e16 FLOPs at 1.1e14 FLOP/s
is about 2.8 hours. Every other claim has its own recipe beside this
file.

Recipe arguments: `cpu`, `seeds=N`, `budget=FLOPS`.
"""

from keras_objectives.compare.claims_suite import SUITE
from keras_objectives.compare.claims_suite import claim_recipe


def get_config(arg=None):
    return claim_recipe(SUITE, arg, cpu_budget=4.5e12, gpu_budget=5.5e16)
