"""The `:arg` of comparison recipes and the base run config they share.

`comparison_args` parses `runlocal`, `seeds=N` and `budget=X` (plus a
recipe's own keys), `apply_comparison_args` sets them on a recipe, and
`comparison_base` is the run config of the `recipes/compare_*.py` files.
`keras_objectives.compare.recipe` re-exports all three.
"""

from keras_objectives import config as config_lib
from keras_objectives.utils import is_finite_number


def _error(field, value, expected, fix=""):
    return ValueError(
        f"Invalid value received for recipe field `{field}`. Expected "
        f"{expected}. Received: {field}={value!r}" + (f". {fix}" if fix
                                                      else "")
    )


def comparison_args(arg, **extra):
    """Parse a comparison recipe's `:arg` (`config.recipe_args`).

    Every comparison recipe takes `runlocal` (the CPU smoke run), `seeds`
    (how many pre-training seeds: 0, 1, ... seeds - 1) and `budget` (the
    amount on the recipe's budget axis); `None` keeps the recipe's value.
    `extra` adds the recipe's own keys with their defaults.

    Examples:

    >>> comparison_args("runlocal,seeds=5,budget=1e13")
    {'runlocal': True, 'seeds': 5, 'budget': 10000000000000.0}
    """
    args = config_lib.recipe_args(arg, runlocal=False, seeds=None,
                                  budget=None, **extra)
    seeds, budget = args["seeds"], args["budget"]
    if seeds is not None and (isinstance(seeds, bool) or not isinstance(
            seeds, int) or seeds < 1):
        raise _error("seeds", seeds, "an integer >= 1 (the number of "
                     "pre-training seeds)", "For example `:seeds=5`")
    if budget is not None and (not is_finite_number(budget) or budget <= 0):
        raise _error("budget", budget, "a positive number (the amount on "
                     "the recipe's budget axis)", "For example `:budget=1e13`")
    return args


def apply_comparison_args(recipe, args):
    """Set `recipe`'s seeds and budget amount from `comparison_args`.

    >>> r = {"seeds": [0, 1], "budget": {"flops": 1e11}}
    >>> apply_comparison_args(r, comparison_args("seeds=3,budget=2e11"))
    {'seeds': [0, 1, 2], 'budget': {'flops': 200000000000.0}}
    """
    if args.get("seeds") is not None:
        recipe["seeds"] = list(range(args["seeds"]))
    if args.get("budget") is not None:
        axis = next(iter(recipe["budget"]))
        recipe["budget"] = {axis: args["budget"]}
    return recipe


def comparison_base(arg=None, size="mini"):
    """The shared run config of the `recipes/compare_*.py` files.

    Args:
        arg: the recipe's `:arg` string (parsed by `comparison_args`) or
            the dict it returned; `runlocal` shrinks the base to a CPU
            smoke run (tiny body, the shipped 8k vocabulary, length 64).
            No argument is the full run.
        size: the `config.MODEL_SIZES` entry of the full run.

    Returns:
        `(base_run_config, is_runlocal)`.

    Examples:

    >>> base, local = comparison_base("runlocal")
    >>> base["model"]["hidden_dim"], base["sequence_length"], local
    (64, 64, True)
    """
    args = arg if isinstance(arg, dict) else comparison_args(arg)
    base = config_lib.base_config()
    if args.get("runlocal"):
        config_lib.set_model_size(base, "tiny")
        base["sequence_length"] = 64
        base["model"]["max_sequence_length"] = 128
        base["training"].update(eval_batches=4, global_batch_size=16)
        return base, True
    config_lib.set_model_size(base, size)
    return base, False
