"""Evaluation cost: 4 arms x 3 seeds with three probe tasks and held-out LM.

The comparison `docs/performance.md` ("Evaluation cost") measures the
share of wall time spent training on: causal LM, prefix LM (decoder),
masked LM and T5 span corruption (decoder) on a 3 x 128 body, evaluated
with every probe the English package ships (book attribution and author
attribution, two linear probes on the same held-out passages, and
punctuation restoration, a tagging probe), plus held-out LM and the
untrained reference of each attention mode. Only shipped data is used.

At the default budget (5e12 FLOPs per run, as in the grid that motivated
the measurement), on 2 idle CPU cores, each run's training loop took
66-72 s and the grid 17 minutes, 79.6% of it training
(docs/performance.md, "Evaluation cost"):

    keras-objectives compare recipes/compare_eval_cost.py --workdir runs/cost

The share of wall time spent training is printed at the end of the run
log (`compare: time: ...`) and in the report's setup section.

Recipe arguments (`RECIPE.py:key=value,...`; an unknown key lists them):

    runlocal   a smoke run: the 2 x 64 body at 1e11 FLOPs (default off)
    seeds      pre-training seeds 0..n-1 (default 3)
    budget     training FLOPs per run (default 5e12; 1e11 with runlocal)
"""

from keras_objectives.compare import sweeps
from keras_objectives.compare.recipe import apply_comparison_args
from keras_objectives.compare.recipe import comparison_args
from keras_objectives.compare.recipe import comparison_base


def get_config(arg=None):
    args = comparison_args(arg)
    smoke = args["runlocal"]
    # The shipped vocabulary and length 64; a 3 x 128 body unless smoke.
    base, _ = comparison_base({"runlocal": True})
    if not smoke:
        base["model"].update(num_layers=3, num_heads=4, hidden_dim=128,
                             intermediate_dim=512)
    base["training"]["learning_rate"] = 2e-3
    pairs = [("causal_lm", None), ("prefix_lm", "decoder"),
             ("masked_lm", None), ("span_corruption", "decoder")]
    return apply_comparison_args({
        "name": "eval_cost",
        "description": "Four objectives, three probe tasks and held-out "
                       "LM: where a comparison's wall time goes.",
        "seeds": [0, 1, 2],
        "budget": {"flops": 1e11 if smoke else 5e12},
        "base": base,
        "arms": sweeps.objective_by_attention(pairs),
        "evaluations": [
            {"name": "linear_probe", "task": "book_attribution"},
            {"name": "linear_probe", "task": "author_attribution"},
            {"name": "tagging", "task": "punctuation",
             "max_train_words": 10_000},
            "held_out_lm",
        ],
        "checkpoints_for_curves": 0,
    }, args)
