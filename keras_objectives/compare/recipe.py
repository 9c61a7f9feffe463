"""Comparison recipes: one budget, several arms, several seeds.

A comparison recipe is a Python file whose `get_config(arg=None)` returns:

| field | meaning |
|---|---|
| `name` | the comparison's name (report title) |
| `seeds` | pre-training seeds (3 or more for a finding, docs/methodology.md; 1 runs, with no statistics) |
| `budget` | exactly one of `{"flops": x}`, `{"tokens": x}`, `{"steps": x}` |
| `base` | a run config (`config.base_config()`) every arm shares |
| `arms` | `[{"name", "objective", "overrides": {dotted: value}}]` |
| `evaluations` | names or `{"name", **options}` (see `EVALUATIONS`) |
| `checkpoints_for_curves` | checkpoints evaluated along training (0: final) |
| `variable` | dotted field(s) allowed to differ besides `objective` |
| `expected_null` | `[{"arms": [a, b], "margin": m, "metric": ...}]` |
| `log_intervals` | metrics rows / checkpoints per run (default 10) |
| `warmup_fraction` | warmup as a share of each arm's steps (default 0.1) |
| `controls` | `{"untrained": bool, "no_context": bool}` (default both on) |
| `power` | `{"effect": x}` or `{"effect": {label: x}}`: report the seeds needed to detect x |
| `claims` | claim keys (`compare.published`) the recipe exists to test: checked before training |

Each arm's attention mode is its objective's (`masked_lm` bidirectional,
`causal_lm` causal, `prefix_lm` prefix...); the report lists the pairing.
"""

import copy

from keras_objectives import config as config_lib
from keras_objectives.compare.recipe_args import _error
from keras_objectives.compare.recipe_args import (  # noqa: F401
    apply_comparison_args, comparison_args, comparison_base)
from keras_objectives.overrides import RUN
from keras_objectives.overrides import Schema
from keras_objectives.overrides import apply_overrides
from keras_objectives.utils import is_finite_number

BUDGET_AXES = ("flops", "tokens", "steps")
# name -> (use, default primary metric, evaluated along training by default)
EVALUATIONS = {
    "held_out_lm": ("generation", "bits_per_byte", True),
    "minimal_pairs": ("intrinsic", "accuracy", True),
    "linear_probe": ("understanding", "dev_accuracy", True),
    "fine_tune": ("understanding", "dev_accuracy", False),
    "tagging": ("understanding", "dev_chunk_f1", False),
}
# Run-config fields that must match across arms unless `variable` allows.
HELD_FIXED = ("data", "sequence_length", "model", "training", "strategy")
DEFAULTS = {
    "checkpoints_for_curves": 0,
    "variable": "objective",
    "expected_null": [],
    "log_intervals": 10,
    "warmup_fraction": 0.1,
    "description": "",
    "controls": {"untrained": True, "no_context": True},
    "power": {},
    "claims": [],
}
KNOWN = ("name", "seeds", "budget", "base", "arms", "evaluations",
         *DEFAULTS)


OVERRIDES = Schema("comparison recipe", known=KNOWN, exclusive=("budget",),
                   nested={"base": RUN}, example="budget.flops=1e13")


def load_comparison_recipe(spec, overrides=()):
    """Load `path.py[:arg]`, apply `--config.x=y` overrides, validate.

    Overrides address the comparison recipe (`--config.seeds=[0,1,2]`,
    `--config.budget.flops=1e13`, `--config.base.training.learning_rate=
    1e-3`), through the one override implementation (`overrides`).
    """
    recipe = config_lib.load_recipe(spec)
    return validate_recipe(apply_overrides(recipe, overrides, OVERRIDES))


def _flatten(config, prefix=""):
    out = {}
    for key, value in config.items():
        path = prefix + key
        if isinstance(value, dict) and key != "objective":
            out.update(_flatten(value, path + "."))
        else:
            out[path] = value
    return out


def _variables(recipe):
    variable = recipe["variable"]
    names = [variable] if isinstance(variable, str) else list(variable)
    return ["objective", *names]


def _allowed(path, variables):
    return any(path == v or path.startswith(v + ".") for v in variables)


def normalize_arm(arm, index):
    """An arm as `{"name", "objective", "overrides"}`; strings are names."""
    if isinstance(arm, str):
        arm = {"name": arm, "objective": arm}
    if not isinstance(arm, dict) or "objective" not in arm:
        raise _error(f"arms[{index}]", arm,
                     "a dict with `name` and `objective`",
                     "For example {'name': 'mlm', 'objective': 'masked_lm'}")
    unknown = set(arm) - {"name", "objective", "overrides"}
    if unknown:
        raise _error(f"arms[{index}]", arm, "only the keys name, objective "
                     "and overrides", f"Unknown keys: {sorted(unknown)}")
    objective = arm["objective"]
    default = objective if isinstance(objective, str) else (
        objective.get("class_name", f"arm{index}"))
    name = str(arm.get("name") or default)
    if not name or any(c in name for c in "/\\") or name.startswith("."):
        raise _error(f"arms[{index}].name", name,
                     "a non-empty name usable as a directory name")
    return {"name": name, "objective": copy.deepcopy(objective),
            "overrides": dict(arm.get("overrides") or {})}


def normalize_evaluation(entry, index):
    """An evaluation as a dict with `name`, `label` and options."""
    if isinstance(entry, str):
        entry = {"name": entry}
    if not isinstance(entry, dict) or entry.get("name") not in EVALUATIONS:
        raise _error(f"evaluations[{index}]", entry,
                     f"a name or a dict with `name` in {sorted(EVALUATIONS)}")
    entry = copy.deepcopy(entry)
    use, metric, along = EVALUATIONS[entry["name"]]
    task = entry.get("task")
    if entry["name"] == "tagging" and task in (None, "punctuation"):
        metric = "dev_tag_f1"  # The built-in punctuation task.
    entry.setdefault("label", entry["name"] + (f"-{task}" if isinstance(
        task, str) and "/" not in task else ""))
    entry.setdefault("metric", metric)
    entry.setdefault("along_training", along)
    entry.setdefault("seeds", [0, 1, 2] if use == "understanding" else [0])
    entry["use"] = use
    return entry


def validate_recipe(recipe):
    """Check a comparison recipe; return it normalized (defaults filled).

    Raises:
        ValueError: naming the field, the value and the fix, for: unknown
            fields, fewer than 2 seeds, a budget without exactly one axis,
            duplicate arm names, unknown evaluations, or arms whose run
            configs differ in a held-fixed field (tokenizer, sequence
            length, body size, optimizer...) that `variable` does not name.

    Examples:

    >>> from keras_objectives.config import base_config
    >>> r = validate_recipe({"name": "x", "seeds": [0, 1],
    ...     "budget": {"steps": 10}, "base": base_config(),
    ...     "arms": ["masked_lm", "causal_lm"], "evaluations": []})
    >>> [a["name"] for a in r["arms"]], r["variable"]
    (['masked_lm', 'causal_lm'], 'objective')
    """
    if not isinstance(recipe, dict):
        raise _error("recipe", recipe, "a dict from `get_config()`")
    unknown = set(recipe) - set(KNOWN)
    if unknown:
        raise ValueError(
            f"Unknown comparison recipe field(s) {sorted(unknown)}. Known "
            f"fields: {sorted(KNOWN)}."
        )
    missing = [k for k in ("name", "seeds", "budget", "base", "arms")
               if k not in recipe]
    if missing:
        raise ValueError(
            f"The comparison recipe lacks the field(s) {missing}. A recipe "
            "needs name, seeds, budget, base and arms; see "
            "docs/comparing.md."
        )
    out = {**copy.deepcopy(DEFAULTS), **copy.deepcopy(recipe)}
    out.setdefault("evaluations", [])
    _check_types(out)
    out["seeds"] = _check_seeds(out["seeds"])
    _check_budget(out["budget"])
    out["base"] = config_lib.validate(out["base"])
    arms = out["arms"]
    if not isinstance(arms, (list, tuple)) or len(arms) < 2:
        raise _error("arms", arms, "a list of at least 2 arms")
    out["arms"] = [normalize_arm(a, i) for i, a in enumerate(arms)]
    names = [a["name"] for a in out["arms"]]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise _error("arms", names, "unique arm names",
                     f"Rename the duplicates {duplicates}")
    out["evaluations"] = [normalize_evaluation(e, i)
                          for i, e in enumerate(out["evaluations"])]
    labels = [e["label"] for e in out["evaluations"]]
    if len(set(labels)) != len(labels):
        raise _error("evaluations", labels, "unique labels",
                     "Give repeated evaluations a distinct `label`")
    for field in ("checkpoints_for_curves", "log_intervals"):
        value = out[field]
        if isinstance(value, bool) or not isinstance(value, int) or value < (
                0 if field == "checkpoints_for_curves" else 1):
            raise _error(field, value, "a non-negative integer")
    if out["checkpoints_for_curves"] > out["log_intervals"]:
        raise _error("checkpoints_for_curves", out["checkpoints_for_curves"],
                     f"at most log_intervals={out['log_intervals']}")
    fraction = out["warmup_fraction"]
    if isinstance(fraction, bool) or not isinstance(
            fraction, (int, float)) or not 0.0 <= fraction < 1.0:
        raise _error("warmup_fraction", fraction, "a float in [0, 1)")
    _check_held_fixed(out)
    _check_expected_null(out, names)
    out["controls"] = _check_controls(out["controls"])
    if not out["controls"]["no_context"]:
        for entry in out["evaluations"]:
            if entry["name"] in ("linear_probe", "tagging"):
                entry.setdefault("controls", False)
    _check_power(out["power"], labels)
    from keras_objectives.compare.claims import check_named_claims

    check_named_claims(out)
    return out


def _check_controls(controls):
    if isinstance(controls, bool):
        return {"untrained": controls, "no_context": controls}
    if not isinstance(controls, dict) or set(controls) - {"untrained",
                                                          "no_context"}:
        raise _error("controls", controls, "True, False or a dict with the "
                     "bools `untrained` and `no_context`")
    return {"untrained": bool(controls.get("untrained", True)),
            "no_context": bool(controls.get("no_context", True))}


def _check_power(power, labels):
    if not isinstance(power, dict) or set(power) - {"effect"}:
        raise _error("power", power, "{} or {'effect': x} (one effect for "
                     "every evaluation, or {label: x})")
    effect = power.get("effect")
    effects = effect if isinstance(effect, dict) else (
        {} if effect is None else {"*": effect})
    for label, value in effects.items():
        if label != "*" and label not in labels:
            raise _error(f"power.effect.{label}", value, f"a label of "
                         f"the recipe's evaluations {labels}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not value > 0:
            raise _error("power.effect" + ("" if label == "*" else
                                           f".{label}"), value,
                         "a positive number: the smallest difference worth "
                         "detecting, in the metric's units",
                         "For example 0.02 for two points of accuracy")


# Field -> (accepted types, what to say).
_TYPES = {
    "name": ((str,), "a string"),
    "description": ((str,), "a string"),
    "base": ((dict,), "a run config dict (`config.base_config()`)"),
    "arms": ((list, tuple), "a list of arms"),
    "evaluations": ((list, tuple), "a list of evaluations"),
    "expected_null": ((list, tuple), "a list of {'arms', 'margin'} dicts"),
    "variable": ((str, list, tuple), "a dotted field or a list of them"),
}


def _check_types(recipe):
    for field, (types, expected) in _TYPES.items():
        value = recipe[field]
        if not isinstance(value, types) or (
                field == "variable" and not isinstance(value, str)
                and not all(isinstance(v, str) for v in value)):
            raise _error(field, value, expected)


def _check_seeds(seeds):
    if (not isinstance(seeds, (list, tuple))
            or not all(isinstance(s, int) and not isinstance(s, bool)
                       and s >= 0 for s in seeds)
            or not seeds or len(set(seeds)) != len(seeds)):
        raise _error("seeds", seeds, "a list of distinct integers >= 0",
                     "Differences between objectives are only meaningful "
                     "against seed noise: use e.g. [0, 1, 2]; one seed "
                     "runs, with no statistics")
    return list(seeds)


def _check_budget(budget):
    if (not isinstance(budget, dict) or len(budget) != 1
            or next(iter(budget)) not in BUDGET_AXES):
        raise _error("budget", budget, "exactly one of {'flops': x}, "
                     "{'tokens': x} or {'steps': x}",
                     "Name one axis as the budget; the other two are "
                     "logged")
    axis, amount = next(iter(budget.items()))
    if not is_finite_number(amount) or amount <= 0:
        raise _error(f"budget.{axis}", amount, "a positive number")


def arm_run_config(recipe, arm, seed, steps=None, steps_per_checkpoint=None):
    """The run config of one arm and seed: base + objective + overrides.

    Args:
        recipe: a validated comparison recipe.
        arm: one of `recipe["arms"]`.
        seed: the pre-training seed.
        steps, steps_per_checkpoint: from the budget plan (`None` keeps
            the base's).

    Returns:
        A validated run config for `training.train`.
    """
    config = copy.deepcopy(recipe["base"])
    config["objective"] = copy.deepcopy(arm["objective"])
    for dotted, value in arm["overrides"].items():
        config = config_lib.override(config, dotted, value, parse=False)
    config["seed"] = seed
    t = config["training"]
    if _check_controls(recipe.get("controls", True))["untrained"]:
        t["save_initial_weights"] = True  # The untrained reference.
    if steps is not None:
        t["steps"] = int(steps)
        t["steps_per_checkpoint"] = int(steps_per_checkpoint or steps)
        t["warmup_steps"] = int(round(recipe["warmup_fraction"] * steps))
        if recipe["checkpoints_for_curves"]:
            t["keep_checkpoints"] = int(steps // t["steps_per_checkpoint"])
    return config_lib.validate(config)


def _check_held_fixed(recipe):
    variables = _variables(recipe)
    first = recipe["arms"][0]
    reference = _flatten(arm_run_config(recipe, first, 0))
    for arm in recipe["arms"][1:]:
        for path, value in _flatten(arm_run_config(recipe, arm, 0)).items():
            if path.split(".")[0] not in HELD_FIXED or _allowed(
                    path, variables):
                continue
            if reference.get(path) != value:
                raise ValueError(
                    f"Arms `{first['name']}` and `{arm['name']}` differ in "
                    f"`{path}` ({reference.get(path)!r} vs {value!r}), which "
                    "a comparison holds fixed (tokenizer, vocabulary, "
                    "sequence length, body size, optimizer and schedule). "
                    "Move the value into `base`, or, if this difference IS "
                    f"the experiment, set the recipe's variable='{path}'."
                )


def _check_expected_null(recipe, names):
    for i, pair in enumerate(recipe["expected_null"]):
        arms = pair.get("arms") if isinstance(pair, dict) else None
        if (not arms or len(arms) != 2 or any(a not in names for a in arms)
                or not isinstance(pair.get("margin"), (int, float))
                or pair["margin"] <= 0):
            raise _error(f"expected_null[{i}]", pair,
                         "{'arms': [a, b], 'margin': m > 0} with arm "
                         f"names from {names}",
                         "Optionally add 'evaluation' and 'metric'")
