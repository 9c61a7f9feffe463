"""Search spaces: what each objective lets a tuner change, and the defaults.

Every registered objective is tunable through its constructor arguments
(`masked_lm`'s `selection_rate`, `span_corruption`'s `noise_density`...),
except the run-time ones every arm shares (`special_tokens`,
`sequence_length`, `seed`) and the token-id lists the corpus fills in.
`SHARED_SPACE` holds what every objective is tuned over alike
(docs/methodology.md: "tune lightly and symmetrically": the same small
learning-rate grid for every objective); each objective declares its own
default space on its class (`Objective.search_space`; `search_spaces()`
lists them).

A space entry ("spec") is one of:

* a list of values: `hp.Choice` (lists, dicts or `None` as values are
  carried through the tuner as JSON strings);
* `{"values": [...]}`: the same, with optional `"default"`;
* `{"min_value": a, "max_value": b}` with optional `"step"`,
  `"sampling"` (`"linear"` or `"log"`), `"default"` and `"type"`
  (`"int"` or `"float"`; ints when both bounds are ints): `hp.Int` or
  `hp.Float`;
* a single value: `hp.Fixed`.

Objective hyperparameters are named `"<objective>/<argument>"` and live in
`hp.conditional_scope("objective", [<objective>])`, so a span length only
appears in a trial that chose a span objective.
"""

import copy
import inspect
import itertools
import json

from keras_objectives.objectives import registry

OBJECTIVE = "objective"  # The name of the hp.Choice over objectives.

# Tuned for every objective alike (run-config field -> spec).
SHARED_SPACE = {
    # docs/methodology.md: the same small grid, e.g. 3 learning rates.
    "learning_rate": [2.5e-4, 5e-4, 1e-3],
}
SHARED_FIELDS = {"learning_rate": ("training", "learning_rate")}



def search_space(name):
    """The default space of objective `name`: its class's `search_space`.
    """
    return dict(registry.get_class(name).search_space)


def search_spaces():
    """`{name: default space}` of every registered objective that has one.

    Examples:

    >>> search_spaces()["masked_lm"]
    {'selection_rate': [0.1, 0.15, 0.25, 0.4, 0.6]}
    """
    return {name: search_space(name) for name in registry.names()
            if search_space(name)}

# Constructor arguments that are never tuned: shared by every arm, or token
# ids the corpus fills in.
NOT_TUNABLE = ("self", "special_tokens", "sequence_length", "seed",
               "continuation_token_ids", "sentence_end_ids")


def _error(message):
    return ValueError(f"Invalid value received for argument `space`. "
                      f"{message}")


def check_objectives(objectives):
    """Objective identifiers as `{name: fixed constructor arguments}`.

    Args:
        objectives: a list of registered names or `{"class_name", "config"}`
            dicts (the config holds arguments kept fixed while tuning).

    Raises:
        ValueError: an empty list, a name that is not registered (listing
            the registered ones), or the same objective twice.

    Examples:

    >>> check_objectives(["masked_lm", {"class_name": "span_corruption",
    ...                   "config": {"form": "decoder"}}])
    {'masked_lm': {}, 'span_corruption': {'form': 'decoder'}}
    """
    if isinstance(objectives, (str, dict)):
        objectives = [objectives]
    if not objectives:
        raise ValueError(
            "Invalid value received for argument `objectives`. Expected a "
            "non-empty list of registered objective names, from "
            f"{registry.names()}. Received: objectives={objectives!r}")
    out = {}
    for identifier in objectives:
        name = identifier.get("class_name") if isinstance(
            identifier, dict) else identifier
        if name not in registry.names():
            raise ValueError(
                "Invalid value received for argument `objectives`. "
                f"`{name}` is not a registered objective. Registered "
                f"objectives: {registry.names()}. Received: "
                f"objectives={objectives!r}. Register your own with "
                "`@keras_objectives.objectives.register(name)`.")
        if name in out:
            raise ValueError(
                "Invalid value received for argument `objectives`. Expected "
                f"each objective once; `{name}` appears twice. Received: "
                f"objectives={objectives!r}")
        fixed = identifier.get("config") if isinstance(identifier,
                                                       dict) else None
        out[name] = dict(fixed or {})
    return out


def tunable_hyperparameters(name):
    """Everything a search space may name for objective `name`, sorted.

    Examples:

    >>> tunable_hyperparameters("causal_lm")
    ['learning_rate']
    >>> "selection_rate" in tunable_hyperparameters("masked_lm")
    True
    """
    own = set()
    for cls in registry.get_class(name).__mro__:
        if "__init__" not in vars(cls):
            continue
        parameters = inspect.signature(cls.__init__).parameters.values()
        own |= {p.name for p in parameters if p.name not in NOT_TUNABLE
                and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
        if not any(p.kind == p.VAR_KEYWORD for p in parameters):
            break  # No **kwargs: the parents' arguments are not reachable.
    return sorted(own | set(SHARED_SPACE))


def _normalize_spec(spec, where):
    """A spec as a dict with `kind` in `choice | range | fixed`."""
    if isinstance(spec, (list, tuple)):
        spec = {"values": list(spec)}
    if not isinstance(spec, dict):
        return {"kind": "fixed", "value": spec}
    spec = copy.deepcopy(spec)
    if "values" in spec:
        values = list(spec["values"])
        if not values:
            raise _error(f"`{where}` has an empty list of values.")
        unknown = set(spec) - {"values", "default"}
        if unknown:
            raise _error(f"`{where}` mixes `values` with {sorted(unknown)}."
                         " Give either values or min_value/max_value.")
        return {"kind": "choice", "values": values,
                "default": spec.get("default")}
    if "min_value" in spec and "max_value" in spec:
        unknown = set(spec) - {"min_value", "max_value", "step", "sampling",
                               "default", "type"}
        if unknown:
            raise _error(f"`{where}` has unknown keys {sorted(unknown)}.")
        low, high = spec["min_value"], spec["max_value"]
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                   for v in (low, high)) or low >= high:
            raise _error(f"`{where}` needs numbers min_value < max_value. "
                         f"Received: {spec!r}")
        kind = spec.get("type") or ("int" if isinstance(low, int) and
                                    isinstance(high, int) else "float")
        if kind not in ("int", "float"):
            raise _error(f"`{where}` type must be 'int' or 'float'. "
                         f"Received: type={kind!r}")
        return {"kind": "range", "type": kind, "min_value": low,
                "max_value": high, "step": spec.get("step"),
                "sampling": spec.get("sampling") or "linear",
                "default": spec.get("default")}
    raise _error(f"`{where}` must be a list of values, a dict with `values`,"
                 " a dict with `min_value` and `max_value`, or one fixed "
                 f"value. Received: {spec!r}")


def _constructor_default(name, argument):
    for cls in registry.get_class(name).__mro__:
        if "__init__" not in vars(cls):
            continue
        parameter = inspect.signature(cls.__init__).parameters.get(argument)
        if parameter is not None:
            if parameter.default is inspect.Parameter.empty:
                return None
            default = parameter.default
            return list(default) if isinstance(default, tuple) else default
    return None


def resolve_space(objectives, space=None):
    """The full search space: the defaults with the user's entries applied.

    Args:
        objectives: output of `check_objectives`.
        space: optional dict. Top-level keys are shared hyperparameters
            (`"learning_rate"`) or objective names mapping to
            `{argument: spec}`; each entry replaces that default. Give a
            single value to fix a hyperparameter (drop it from the search).

    Returns:
        `{"shared": {name: spec}, "objectives": {objective: {arg: spec}}}`
        with normalized specs.

    Raises:
        ValueError: an argument the objective does not have (naming it and
            listing the objective's tunable ones), an objective that is
            not searched, or a malformed spec.

    Examples:

    >>> s = resolve_space({"masked_lm": {}}, {"masked_lm": {
    ...     "selection_rate": [0.15, 0.4]}})
    >>> s["objectives"]["masked_lm"]["selection_rate"]["values"]
    [0.15, 0.4]
    """
    space = dict(space or {})
    shared = {k: _normalize_spec(v, k) for k, v in SHARED_SPACE.items()}
    per = {name: {arg: _normalize_spec(spec, f"{name}/{arg}")
                  for arg, spec in search_space(name).items()
                  if arg not in fixed}
           for name, fixed in objectives.items()}
    for key, value in space.items():
        if key in SHARED_SPACE:
            shared[key] = _normalize_spec(value, key)
            continue
        if key in objectives:
            if not isinstance(value, dict):
                raise _error(f"Expected `space['{key}']` to be a dict "
                             f"{{argument: spec}}. Received: {value!r}")
            tunable = tunable_hyperparameters(key)
            for argument, spec in value.items():
                if argument in SHARED_SPACE:
                    raise _error(
                        f"`{argument}` is shared by every objective (docs/"
                        "methodology.md: tune symmetrically); give it at the "
                        "top level: "
                        f"space={{'{argument}': ...}}.")
                if argument not in tunable:
                    raise _error(
                        f"Objective `{key}` has no tunable hyperparameter "
                        f"`{argument}`. Tunable hyperparameters of `{key}`: "
                        f"{tunable}. Received: space['{key}']="
                        f"{value!r}")
                if argument in objectives[key]:
                    raise _error(
                        f"`{key}/{argument}` is both fixed in the objective's"
                        f" config ({objectives[key][argument]!r}) and "
                        "searched. Remove one of them.")
                per[key][argument] = _normalize_spec(spec,
                                                     f"{key}/{argument}")
            continue
        if key in registry.names():
            raise _error(
                f"`space` names the objective `{key}`, which is not among "
                f"the searched objectives {sorted(objectives)}. Add it to "
                "`objectives` or remove it from `space`.")
        owners = [n for n in objectives if key in tunable_hyperparameters(n)]
        hint = (f" `{key}` is a hyperparameter of {owners}: nest it, for "
                f"example space={{'{owners[0]}': {{'{key}': ...}}}}."
                if owners else "")
        raise _error(
            f"Unknown key `{key}`. Expected a shared hyperparameter "
            f"{sorted(SHARED_SPACE)} or a searched objective "
            f"{sorted(objectives)}.{hint}")
    return {"shared": shared, "objectives": per}


def _encode(value):
    """Choice values keras-tuner accepts: lists, dicts, None become JSON."""
    if value is None or isinstance(value, (list, tuple, dict)):
        return json.dumps(value)
    return value


def decode(spec, value):
    """Undo `_encode` for a value drawn from `spec`."""
    if spec["kind"] == "choice" and any(
            v is None or isinstance(v, (list, tuple, dict))
            for v in spec["values"]) and isinstance(value, str):
        return json.loads(value)
    return value


def declare(hp, name, spec):
    """Register `spec` on `hp` under `name`; return the current value."""
    kind = spec["kind"]
    if kind == "fixed":
        value = _encode(spec["value"])
        return decode(spec, hp.Fixed(name, value))
    if kind == "range":
        make = hp.Int if spec["type"] == "int" else hp.Float
        return make(name, spec["min_value"], spec["max_value"],
                    step=spec["step"], sampling=spec["sampling"],
                    default=spec["default"])
    values = [_encode(v) for v in spec["values"]]
    if all(isinstance(v, (int, float)) and not isinstance(v, bool)
           for v in values) and any(isinstance(v, float) for v in values):
        values = [float(v) for v in values]
    default = spec["default"]
    default = _encode(default) if default is not None else None
    if default not in values:
        default = None
    return decode(spec, hp.Choice(name, values, default=default))


def with_defaults(space, config):
    """Set each Choice's default to the objective's (or config's) default,
    so the first and the space-discovery trials are the canonical ones."""
    space = copy.deepcopy(space)
    lr = config["training"]["learning_rate"]
    spec = space["shared"].get("learning_rate")
    if spec and spec["kind"] == "choice" and spec["default"] is None:
        spec["default"] = lr if lr in spec["values"] else None
    for name, params in space["objectives"].items():
        for argument, spec in params.items():
            if spec["kind"] == "choice" and spec["default"] is None:
                default = _constructor_default(name, argument)
                if default in spec["values"]:
                    spec["default"] = default
    return space


def candidate_values(spec):
    """The values to try when validating a spec (choices, or bounds)."""
    if spec["kind"] == "fixed":
        return [spec["value"]]
    if spec["kind"] == "choice":
        return list(spec["values"])
    return [spec["min_value"], spec["max_value"]]


def validate_values(space, objectives, build, max_combinations=256):
    """Build each objective with every candidate value, before training.

    Args:
        space: output of `resolve_space`.
        objectives: output of `check_objectives`.
        build: `(name, kwargs) -> objective`, raising `ValueError` on a bad
            value (the objective's own validation).
        max_combinations: try every combination of an objective's values
            when there are at most this many; otherwise each value alone.

    Raises:
        ValueError: naming the hyperparameter, the value and the
            objective's own message.
    """
    for spec_name, spec in space["shared"].items():
        for value in candidate_values(spec):
            if isinstance(value, bool) or not isinstance(
                    value, (int, float)) or value <= 0:
                raise _error(f"`{spec_name}` values must be positive "
                             f"numbers. Received: {value!r}")
    for name, params in space["objectives"].items():
        arguments = sorted(params)
        grids = [candidate_values(params[a]) for a in arguments]
        total = 1
        for grid in grids:
            total *= len(grid)
        if total <= max_combinations:
            combos = [dict(zip(arguments, c, strict=True))
                      for c in itertools.product(*grids)]
        else:
            combos = [{a: v} for a, grid in zip(arguments, grids, strict=True)
                      for v in grid]
        for combo in combos:
            try:
                build(name, {**objectives[name], **combo})
            except (ValueError, TypeError) as e:
                shown = ", ".join(f"{name}/{a}={v!r}"
                                  for a, v in combo.items())
                raise _error(
                    f"The objective `{name}` refuses {shown}: "
                    f"{str(e).rstrip('.')}. Restrict"
                    " the search space to values it accepts.") from None
