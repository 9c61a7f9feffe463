"""Tuning quickstart: masked LM vs causal LM, mask rate and learning rate.

A RandomSearch over {masked_lm, causal_lm} x mask rate (masked_lm only:
the rate is conditional on choosing it) x learning rate, on the tiny shared
body (2 layers x 64) and the embedded books. Every trial gets the same
training-FLOPs budget (so an MLM trial runs more steps than a causal LM
one) and is scored by the built-in book-attribution linear probe's dev
accuracy, never by pre-training loss (docs/methodology.md).

Launch (about 10 minutes on 2 CPU cores, then open report.html):

    keras-objectives tune recipes/tune_quickstart.py --workdir runs/tune

Rerun the same command to resume; add `--config.max_trials=10` to extend
the search. Smoke run (about 3 minutes):

    keras-objectives tune recipes/tune_quickstart.py:runlocal --workdir \
        runs/tune-smoke

Recipe arguments (`RECIPE.py:key=value,...`; an unknown key lists them):

    runlocal   the smoke run: 2 trials at 1e11 FLOPs (default off)
    trials     how many trials (default 5; 2 with runlocal)
"""

from keras_objectives.compare.recipe import comparison_base
from keras_objectives.config import recipe_args


def get_config(arg=None):
    args = recipe_args(arg, runlocal=False, trials=None)
    smoke = args["runlocal"]
    trials = args["trials"] or (2 if smoke else 5)
    # Tiny body, length 64.
    base, _ = comparison_base({"runlocal": True})
    # The vocabulary that ships with the package: a clean clone trains none.
    base["data"]["vocabulary_size"] = 8192
    return {
        "name": "tune_quickstart",
        "description": "MLM vs CLM x mask rate x learning rate on the "
                       "embedded books, tiny body, equal training FLOPs, "
                       "scored by the book-attribution probe.",
        "tuner": "RandomSearch",
        "max_trials": trials,
        "executions_per_trial": 1,
        "seed": 0,
        "objectives": ["masked_lm", "causal_lm"],
        "space": {
            "learning_rate": [5e-4, 1e-3, 2e-3],
            "masked_lm": {"selection_rate": [0.15, 0.25, 0.40]},
        },
        "budget": {"flops": 1e11 if smoke else 3e11},
        "base": base,
        "task": "book_attribution",
        "probe_seeds": [0, 1, 2],
    }
