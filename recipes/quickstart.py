"""Quickstart comparison: masked LM vs causal LM vs T5 span corruption.

Three objectives on one tiny shared body (2 layers x 64), one tokenizer,
one data order per seed, one FLOPs budget (so each objective gets its own
step count), 3 pre-training seeds (the fewest that can make a win).
Evaluated with the built-in book attribution probe (held-out tails of
the embedded books), the built-in punctuation-restoration tagger (a
token-level task that needs context on both sides), minimal pairs and,
for the arms that define it, held-out next-token bits per byte. Every
evaluation also runs on the untrained body of each attention mode and on
the no-context token embeddings, and the report checks the published
claim these arms can test (`bidirectional_understanding`). At this size
expect most arms not to beat their untrained body: the report says so,
and how many seeds would settle each difference (docs/methodology.md).

The README's main command, `:runlocal` (8e11 FLOPs per run), took
5-8 minutes on 2 idle cores, about two thirds of it training
(docs/comparing.md, "The quickstart, as run"); then open
runs/quickstart/report.html:

    keras-objectives compare recipes/quickstart.py:runlocal --workdir runs/quickstart

Without `:runlocal` the budget is 2e12 FLOPs per run (2.5x the
training) and every run is also evaluated at two earlier checkpoints for
the learning curves:

    keras-objectives compare recipes/quickstart.py --workdir runs/quickstart

Recipe arguments (`RECIPE.py:key=value,...`; an unknown key lists them):

    runlocal   the smaller smoke run (default off)
    seeds      pre-training seeds 0..n-1 (default 3)
    budget     training FLOPs per run (default 2e12; 8e11 with runlocal)
"""

from keras_objectives import objectives
from keras_objectives.compare.recipe import apply_comparison_args
from keras_objectives.compare.recipe import comparison_args
from keras_objectives.compare.recipe import comparison_base


def get_config(arg=None):
    args = comparison_args(arg)
    smoke = args["runlocal"]
    # Tiny body and the shipped vocabulary, either way.
    base, _ = comparison_base({"runlocal": True})
    # A 2 x 64 body learns little in a few hundred steps at the 5e-4 of
    # the 4 x 256 recipes: 2e-3 for every arm (held fixed).
    base["training"]["learning_rate"] = 2e-3
    arms = [
        {"name": "mlm", "objective": "masked_lm"},
        {"name": "clm", "objective": "causal_lm"},
    ]
    if "span_corruption" in objectives.names():
        arms.append({"name": "t5-span", "objective": {
            "class_name": "span_corruption",
            "config": {"form": "decoder", "noise_density": 0.15,
                       "mean_noise_span_length": 3.0}}})
    return apply_comparison_args({
        "name": "quickstart",
        "description": "MLM vs CLM vs span corruption on the embedded "
                       "books, tiny body, equal training FLOPs.",
        "seeds": [0, 1, 2],
        "budget": {"flops": 8e11 if smoke else 2e12},
        "base": base,
        "arms": arms,
        "evaluations": [
            {"name": "linear_probe", "task": "book_attribution"},
            {"name": "tagging", "task": "punctuation",
             "max_train_words": 10_000, "along_training": False},
            {"name": "minimal_pairs", "num_pairs": 200,
             "along_training": False},
            "held_out_lm",
        ],
        "claims": ["bidirectional_understanding"],
        "checkpoints_for_curves": 0 if smoke else 2,
        "log_intervals": 5 if smoke else 10,
    }, args)
