"""Published claims as data: what a comparison can check, and how.

Each `Claim` is a directional (or null) finding from the literature that a
comparison of this library can test: two arm **patterns** (an objective
name plus conditions on its resolved configuration), the evaluations that
measure it, the expected outcome, and where it was published at which
scale. `match_claims(recipe)` finds the claims a recipe's arms can test.

Patterns match the *configuration*, not the name: a sentence-shuffle-only
BART arm (`denoising` with `infill_rate=0`) never matches a claim about
text infilling, ELECTRA with its loss on the masked 15% never matches a
claim about ELECTRA, and a 40% mask rate never matches a claim about 15%.

Outcomes (`judge`):

| kind         | reproduced when                          | contradicted when |
|--------------|------------------------------------------|-------------------|
| `greater`    | a beats b (the report's decision rule)   | b beats a         |
| `equivalent` | the 90% CI of a - b lies in (-m, m)      | a or b wins       |
| `not_worse`  | the 95% CI's lower end is above -m       | b beats a         |

Anything else is inconclusive, with the minimum detectable effect at the
seeds run and the seeds that would detect the published effect. A claim is
**not tested** when neither of its arms beats its untrained body on the
evaluation (the report's controls): two bodies that learned nothing
measurable say nothing about what their objectives teach.
"""

import inspect
import math

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.compare.published import CLAIMS
from keras_objectives.compare.published import SCALE_NOTE  # noqa: F401

_BY_KEY = {claim.key: claim for claim in CLAIMS}


@keras_objectives_export("keras_objectives.compare.get_claim")
def get_claim(key):
    """The registered `Claim` named `key`, or a clear error."""
    if key not in _BY_KEY:
        raise ValueError(
            f"Invalid value received for argument `claims`. Expected claim "
            f"keys from {sorted(_BY_KEY)}. Received: {key!r}. See "
            "docs/methodology.md for what each claim tests."
        )
    return _BY_KEY[key]


def _defaults(cls):
    """Constructor defaults of `cls` and its bases (for `**kwargs`)."""
    out = {}
    for klass in reversed(inspect.getmro(cls)):
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        for name, p in inspect.signature(init).parameters.items():
            if p.default is not inspect.Parameter.empty:
                out[name] = p.default
    return out


def arm_objective(arm):
    """`(name, resolved config)` of an arm's objective.

    The config is the objective class's constructor defaults updated with
    the arm's `objective.config` and its `objective.config.*` overrides.
    Unregistered objectives resolve to their given config.
    """
    from keras_objectives import objectives

    objective = arm["objective"]
    name = objective if isinstance(objective, str) else objective.get(
        "class_name", "")
    config = {} if isinstance(objective, str) else dict(
        objective.get("config") or {})
    for dotted, value in (arm.get("overrides") or {}).items():
        if dotted.startswith("objective.config."):
            config[dotted[len("objective.config."):]] = value
    try:
        cls = objectives.get_class(name)
    except ValueError:
        return name, config
    name = getattr(cls, "name", None) or name
    return name, {**_defaults(cls), **config}


def _first_match(pattern, resolved):
    return next((arm for arm, (name, config) in resolved
                 if pattern.matches(name, config)), None)


@keras_objectives_export("keras_objectives.compare.match_claims")
def match_claims(recipe):
    """The claims a recipe's arms can test.

    Returns:
        list of `{"claim": Claim, "a": arm name, "b": arm name}` in
        registry order; each side is the first arm (recipe order) whose
        resolved objective config matches the claim's pattern, and the two
        sides are different arms.

    Examples:

    >>> recipe = {"arms": [
    ...     {"name": "mlm", "objective": "masked_lm"},
    ...     {"name": "clm", "objective": "causal_lm"},
    ...     {"name": "shuffle", "objective": {"class_name": "denoising",
    ...      "config": {"infill_rate": 0.0}}}]}
    >>> [(m["claim"].key, m["a"], m["b"]) for m in match_claims(recipe)]
    [('sentence_corruption', 'mlm', 'shuffle'), \
('bidirectional_understanding', 'mlm', 'clm')]
    """
    resolved = [(arm["name"], arm_objective(arm))
                for arm in recipe.get("arms", [])]
    found = []
    for claim in CLAIMS:
        a = _first_match(claim.a, resolved)
        b = _first_match(claim.b, [(n, c) for n, c in resolved if n != a])
        if a and b:
            found.append({"claim": claim, "a": a, "b": b})
    return found


def check_named_claims(recipe):
    """Raise before training when a recipe names a claim it cannot test.

    A recipe's optional `claims` field lists the claims it exists to test
    (the `recipes/claims/` files do). Each must match two of its arms and
    one of its evaluations.
    """
    names = recipe.get("claims") or []
    if isinstance(names, str):
        names = [names]
    if not isinstance(names, (list, tuple)) or not all(
            isinstance(n, str) for n in names):
        raise ValueError(
            "Invalid value received for recipe field `claims`. Expected a "
            "list of claim keys (strings), e.g. ['bidirectional_"
            f"understanding']. Received: claims={names!r}")
    matched = {m["claim"].key for m in match_claims(recipe)}
    have = {e["name"] for e in recipe.get("evaluations", [])}
    for key in names:
        claim = get_claim(key)
        if key not in matched:
            arms = [f"{a['name']} ({arm_objective(a)[0]})"
                    for a in recipe.get("arms", [])]
            raise ValueError(
                f"Invalid value received for recipe field `claims`: the "
                f"claim {key!r} ({claim.title}) needs an arm matching "
                f"{describe_pattern(claim.a)} and another matching "
                f"{describe_pattern(claim.b)}. Received arms: {arms}. Add "
                "those arms, or drop the claim from `claims`."
            )
        if not have & set(claim.evaluations):
            raise ValueError(
                f"Invalid value received for recipe field `claims`: the "
                f"claim {key!r} is measured by one of the evaluations "
                f"{list(claim.evaluations)}, and the recipe has "
                f"{sorted(have) or 'none'}. Add one of them to "
                "`evaluations`."
            )


def describe_pattern(pattern):
    """`masked_lm with selection_rate in [0.1, 0.2], whole_word=False`."""
    parts = []
    for field, condition in pattern.where:
        if isinstance(condition, tuple) and condition[:1] in (("in",),
                                                              ("members",)):
            parts.append(f"{field} in {list(condition[1:])}" if condition[
                0] == "in" else f"{field} = {sorted(condition[1:])}")
        elif isinstance(condition, tuple) and len(condition) == 2:
            low, high = condition
            parts.append(f"{field} >= {low}" if high is None else (
                f"{field} <= {high}" if low is None else
                f"{field} in [{low}, {high}]"))
        else:
            parts.append(f"{field}={condition!r}")
    return pattern.objective + (" with " + ", ".join(parts) if parts else "")


def judge(claim, test, equivalence=None):
    """The outcome of one claim from its paired test (a - b, oriented).

    Args:
        claim: a `Claim`.
        test: a decided paired comparison (`stats.decide`) of a vs b,
            with `verdict`, `ci_low` and `mean_difference` oriented so
            that positive means "a better".
        equivalence: for `equivalent` claims, the TOST result.

    Returns:
        `"reproduced"`, `"contradicted"` or `"inconclusive"`.
    """
    verdict = test.get("verdict")
    if claim.kind == "greater":
        return {"a": "reproduced", "b": "contradicted"}.get(verdict,
                                                            "inconclusive")
    if claim.kind == "equivalent":
        if verdict in ("a", "b"):
            return "contradicted"
        if equivalence and equivalence.get("equivalent"):
            return "reproduced"
        return "inconclusive"
    if verdict == "b":
        return "contradicted"
    low = test.get("ci_low")
    if low is not None and math.isfinite(low) and low > -claim.margin:
        return "reproduced"
    return "inconclusive"
