"""Tuning recipes: which tuner, which objectives, which space, one budget.

A tuning recipe is a Python file whose `get_config(arg=None)` returns:

| field | meaning |
|---|---|
| `name` | the search's name (report title) |
| `objectives` | names (or `{"class_name", "config"}`) to choose from |
| `budget` | `{"flops": x}`, `{"tokens": x}` or `{"steps": x}` per run |
| `base` | the run config every trial shares (`config.base_config()`) |
| `tuner` | `RandomSearch` (default), `Hyperband` or `BayesianOptimization` |
| `max_trials` | trials to run (RandomSearch, BayesianOptimization) |
| `executions_per_trial` | pre-training seeds per trial: `base.seed + k` |
| `tuner_options` | extra tuner arguments (Hyperband: `max_epochs`, `factor`) |
| `space` | search-space restrictions (`keras_objectives.tuner.spaces`) |
| `task` | the probe task (default `book_attribution`, built in) |
| `probe_seeds` | linear-probe seeds (default `[0, 1, 2]`) |
| `seed` | the tuner's own seed (which trials it samples) |
| `distribution_strategy` | `None` (the base's) or a strategy name |
| `devices` | devices for `"mirrored"` |
| `warmup_fraction` | warmup as a share of each trial's steps (default 0.1) |
| `description` | one line for the report |
"""

import copy

from keras_objectives import config as config_lib
from keras_objectives.distribute import STRATEGIES
from keras_objectives.overrides import RUN
from keras_objectives.overrides import Schema
from keras_objectives.overrides import apply_overrides
from keras_objectives.tuner import spaces
from keras_objectives.utils import is_finite_number

TUNERS = {
    "randomsearch": "RandomSearch",
    "random_search": "RandomSearch",
    "random": "RandomSearch",
    "hyperband": "Hyperband",
    "bayesianoptimization": "BayesianOptimization",
    "bayesian_optimization": "BayesianOptimization",
    "bayesian": "BayesianOptimization",
}
DEFAULTS = {
    "description": "",
    "tuner": "RandomSearch",
    "max_trials": 10,
    "executions_per_trial": 1,
    "tuner_options": {},
    "space": {},
    "task": "book_attribution",
    "probe_seeds": [0, 1, 2],
    "seed": 0,
    "distribution_strategy": None,
    "devices": None,
    "warmup_fraction": 0.1,
}
# Hyperband's resource is Keras epochs: the budget is cut into max_epochs.
HYPERBAND_DEFAULTS = {"max_epochs": 3, "factor": 3}
BUDGET_AXES = ("flops", "tokens", "steps")
REQUIRED = ("name", "objectives", "budget", "base")
KNOWN = (*REQUIRED, *DEFAULTS)
# Fields a resumed search may change (a longer search keeps its trials).
RESUMABLE = ("max_trials", "description")


def _error(field, value, expected, fix=""):
    return ValueError(
        f"Invalid value received for recipe field `{field}`. Expected "
        f"{expected}. Received: {field}={value!r}" + (f". {fix}" if fix
                                                      else ""))


def check_budget(budget):
    """`{"flops": x}`, `{"tokens": x}` or `{"steps": x}`, else an error.

    >>> check_budget({"flops": 1e12})
    {'flops': 1000000000000.0}
    """
    axis = next(iter(budget)) if isinstance(budget, dict) and len(
        budget) == 1 else None
    amount = budget[axis] if axis else None
    if (axis not in BUDGET_AXES or not is_finite_number(amount)
            or amount <= 0):
        raise ValueError(
            "Invalid value received for argument `budget`. Expected exactly "
            "one positive amount, {'flops': x}, {'tokens': x} or "
            f"{{'steps': x}}. Received: budget={budget!r}. Name one axis as "
            "the budget; the other two are logged.")
    return {axis: int(amount) if axis == "steps" else float(amount)}


# Field -> (accepted types, what to say).
_TYPES = {
    "name": ((str,), "a string"),
    "description": ((str,), "a string"),
    "base": ((dict,), "a run config dict (`config.base_config()`)"),
    "objectives": ((list, tuple), "a list of objective names or dicts"),
    "space": ((dict,), "a dict of search-space restrictions"),
    "task": ((str, dict, type(None)), "a task name, path or dict of paths"),
    "devices": ((list, tuple, type(None)), "None or a list of devices"),
}


def _check_types(recipe):
    for field, (types, expected) in _TYPES.items():
        if not isinstance(recipe[field], types):
            raise _error(field, recipe[field], expected)


def _positive_int(recipe, field):
    value = recipe[field]
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _error(field, value, "an integer >= 1")


def validate_tuning_recipe(recipe):
    """Check a tuning recipe; return it with defaults filled in.

    Raises:
        ValueError: naming the field, the value and the fix: unknown or
            missing fields, an unknown tuner, an unregistered objective, a
            space entry the objective does not have, a malformed budget.

    Examples:

    >>> from keras_objectives.config import base_config
    >>> r = validate_tuning_recipe({"name": "t", "objectives": [
    ...     "masked_lm", "causal_lm"], "budget": {"steps": 10},
    ...     "base": base_config(), "tuner": "hyperband"})
    >>> r["tuner"], r["tuner_options"]
    ('Hyperband', {'max_epochs': 3, 'factor': 3})
    """
    if not isinstance(recipe, dict):
        raise _error("recipe", recipe, "a dict from `get_config()`")
    unknown = sorted(set(recipe) - set(KNOWN))
    if unknown:
        raise ValueError(f"Unknown tuning recipe field(s) {unknown}. Known "
                         f"fields: {sorted(KNOWN)}.")
    missing = [k for k in REQUIRED if k not in recipe]
    if missing:
        raise ValueError(
            f"The tuning recipe lacks the field(s) {missing}. A tuning "
            "recipe needs name, objectives, budget and base; see "
            "docs/tuning.md.")
    out = {**copy.deepcopy(DEFAULTS), **copy.deepcopy(recipe)}
    _check_types(out)
    kind = str(out["tuner"]).replace(" ", "").lower()
    if kind not in TUNERS:
        raise _error("tuner", out["tuner"], "one of RandomSearch, Hyperband "
                     "or BayesianOptimization")
    out["tuner"] = TUNERS[kind]
    if not isinstance(out["tuner_options"], dict):
        raise _error("tuner_options", out["tuner_options"], "a dict of "
                     "tuner arguments")
    if out["tuner"] == "Hyperband":
        out["tuner_options"] = {**HYPERBAND_DEFAULTS, **out["tuner_options"]}
    for field in ("max_trials", "executions_per_trial"):
        _positive_int(out, field)
    seeds = out["probe_seeds"]
    if (not isinstance(seeds, (list, tuple)) or not seeds or not all(
            isinstance(s, int) and s >= 0 for s in seeds)):
        raise _error("probe_seeds", seeds, "a non-empty list of ints >= 0",
                     "docs/methodology.md asks for at least 3 probe seeds")
    out["probe_seeds"] = list(seeds)
    if out["distribution_strategy"] not in (None, *STRATEGIES):
        raise _error("distribution_strategy", out["distribution_strategy"],
                     f"None or one of {list(STRATEGIES)}")
    fraction = out["warmup_fraction"]
    if isinstance(fraction, bool) or not isinstance(
            fraction, (int, float)) or not 0.0 <= fraction < 1.0:
        raise _error("warmup_fraction", fraction, "a float in [0, 1)")
    out["base"] = config_lib.validate(out["base"])
    objectives = spaces.check_objectives(out["objectives"])
    spaces.resolve_space(objectives, out["space"])
    out["budget"] = check_budget(out["budget"])
    return out


OVERRIDES = Schema("tuning recipe", known=KNOWN, exclusive=("budget",),
                   nested={"base": RUN}, example="max_trials=4")


def load_tuning_recipe(spec, overrides=()):
    """Load `path.py[:arg]`, apply `--config.FIELD=VALUE` overrides, check.

    Overrides address the tuning recipe: `--config.max_trials=4`,
    `--config.budget.flops=1e12`, `--config.space.learning_rate=[5e-4]`,
    `--config.base.training.global_batch_size=16`, through the one
    override implementation (`overrides`).
    """
    recipe = config_lib.load_recipe(spec)
    return validate_tuning_recipe(apply_overrides(recipe, overrides,
                                                  OVERRIDES))


def changed_fields(old, new, prefix=""):
    """Dotted fields that differ between two recipes (resume check).

    >>> changed_fields({"a": 1, "b": {"c": 2}}, {"a": 1, "b": {"c": 3}})
    ['b.c']
    """
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        path = prefix + str(key)
        if isinstance(a, dict) and isinstance(b, dict):
            out += changed_fields(a, b, path + ".")
        elif a != b:
            out.append(path)
    return out
