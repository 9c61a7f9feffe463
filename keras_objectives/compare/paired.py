"""The paired comparison of two arms and the decision rule of a report.

The pre-training seed is the unit of replication. `paired_comparison`
tests the per-seed differences of two arms (nested probe or fine-tuning
seeds averaged first) with a two-sided paired t-test; `decide` corrects
the p-values of one report's family of tests with Holm's procedure and
gives the verdicts. Import them from `keras_objectives.compare.stats`
(or `keras_objectives.compare`); see docs/statistics.md.
"""

import math

import numpy as np

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.compare.power_analysis import minimum_detectable_effect
from keras_objectives.compare.student_t import t_quantile
from keras_objectives.compare.student_t import t_sf

NO_DIFFERENCE = "no detectable difference"
ONE_SEED = "one seed: no statistics"
TWO_SEEDS = "two seeds: screening only, a win needs 3 or more"


def _clean(values):
    values = np.asarray([v for v in values if v is not None], dtype=float)
    return values[np.isfinite(values)]


def _seed_value(value):
    """One number per pre-training seed: nested seeds are averaged."""
    if value is None:
        return math.nan
    if isinstance(value, (list, tuple, np.ndarray)):
        inner = _clean(np.ravel(np.asarray(value, dtype=object)).tolist())
        return float(inner.mean()) if inner.size else math.nan
    return float(value)


@keras_objectives_export("keras_objectives.compare.paired_differences")
def paired_differences(a, b):
    """Differences `a[s] - b[s]` over the seeds `s` both dicts have.

    Args:
        a, b: dicts `{seed: value}`; a value may be a list (probe or
            fine-tuning seeds nested in one pre-training seed), averaged
            over its finite entries first. Seeds whose value is missing
            or not finite in either dict are dropped.

    Returns:
        `(seeds, differences)`: sorted shared seeds and a NumPy array.

    >>> paired_differences({0: 3.0, 1: 5.0, 2: 1.0}, {0: 1.0, 1: 4.0})
    ([0, 1], array([2., 1.]))
    >>> paired_differences({0: [0.5, 0.7]}, {0: 0.5})
    ([0], array([0.1]))
    """
    values_a = {s: _seed_value(v) for s, v in a.items()}
    values_b = {s: _seed_value(v) for s, v in b.items()}
    seeds = sorted(s for s in set(values_a) & set(values_b)
                   if math.isfinite(values_a[s])
                   and math.isfinite(values_b[s]))
    return seeds, np.asarray([values_a[s] - values_b[s] for s in seeds],
                             dtype=float)


def _direction(mean, higher_is_better):
    """Which arm the sign of `mean = a - b` favours, or None."""
    if not mean or math.isnan(mean):
        return None
    return "a" if (mean > 0) == bool(higher_is_better) else "b"


def _t_test(mean, sd, n, confidence):
    """`(se, ci_low, ci_high, p_value, t)` of a one-sample t-test of 0."""
    se = sd / math.sqrt(n)
    half = t_quantile((1.0 + confidence) / 2.0, n - 1) * se
    if se == 0:  # Every seed shows the same difference.
        # The t-test is undefined (p would be 0 at any n, a false
        # certainty with 2 seeds of a discrete metric); the exact two-sided
        # sign test is not: n seeds all agreeing has p = 2 / 2**n.
        t = 0.0 if mean == 0 else math.copysign(math.inf, mean)
        p = 1.0 if mean == 0 else min(1.0, 2.0 ** (1 - n))
        return se, mean, mean, p, t
    t = mean / se
    return (se, mean - half, mean + half,
            min(1.0, 2.0 * t_sf(abs(t), n - 1)), t)


@keras_objectives_export("keras_objectives.compare.paired_comparison")
def paired_comparison(a, b, higher_is_better=True, confidence=0.95):
    """Paired t-test of two arms over their shared pre-training seeds.

    The differences `d[s] = a[s] - b[s]` over the seeds both arms have
    (lists are averaged first: nested probe seeds) are tested for mean 0
    with a two-sided one-sample t-test, the mean with a two-sided
    t-interval. The test alone decides nothing: `decide` corrects the
    p-values of one report's family of tests (Holm) and gives verdicts.

    Edge cases: with one shared seed (or none) there are no statistics
    (`p_value`, `sd_difference` and the interval are `nan`, `reason` is
    "one seed: no statistics"). When every seed shows exactly the same
    difference (`sd_difference == 0`, common with a discrete metric and few
    seeds), the t-test is undefined: the interval is that difference and
    `p_value` is the exact two-sided sign test's, `2 / 2**n` (0.5 with 2
    seeds, 0.0625 with 5), or 1 if the difference is 0.

    Args:
        a, b: dicts `{pretraining_seed: float | list of float}`.
        higher_is_better: bool, the metric's direction.
        confidence: float in (0, 1), the level of the t-interval.

    Returns:
        dict with `n`, `seeds`, `mean_difference` (a - b),
        `sd_difference` (ddof=1), `se`, `ci_low`, `ci_high`, `p_value`,
        `t`, `confidence`, `higher_is_better`, `sign_agreement` (seeds
        whose difference has the sign of the mean), `better` ("a", "b",
        or None for a zero mean: which arm the mean favours, not a
        verdict) and a one-line `reason`.

    Examples:

    >>> r = paired_comparison({0: 0.80, 1: 0.83, 2: 0.81},
    ...                       {0: 0.60, 1: 0.62, 2: 0.62})
    >>> r["n"], round(r["mean_difference"], 4), r["better"]
    (3, 0.2, 'a')
    >>> round(r["ci_low"], 4), round(r["ci_high"], 4), round(r["p_value"], 5)
    (0.1752, 0.2248, 0.00083)
    >>> paired_comparison({0: 0.8}, {0: 0.6})["reason"]
    'one seed: no statistics'
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(
            "Invalid value received for argument `confidence`. Expected a "
            f"float in (0, 1). Received: confidence={confidence}"
        )
    seeds, diff = paired_differences(a, b)
    n = len(seeds)
    mean = float(diff.mean()) if n else math.nan
    result = {"n": n, "seeds": seeds, "mean_difference": mean,
              "sd_difference": math.nan, "se": math.nan,
              "ci_low": math.nan, "ci_high": math.nan,
              "p_value": math.nan, "t": math.nan, "confidence": confidence,
              "higher_is_better": bool(higher_is_better),
              "sign_agreement": int(np.sum(np.sign(diff) == np.sign(mean)))
              if n and mean != 0 else 0,
              "better": _direction(mean, higher_is_better)}
    if n < 2:
        result["reason"] = ONE_SEED if n else "no shared seeds: no statistics"
        return result
    sd = float(diff.std(ddof=1))
    se, low, high, p, t = _t_test(mean, sd, n, confidence)
    result.update(sd_difference=sd, se=se, ci_low=low, ci_high=high,
                  p_value=p, t=t)
    result["reason"] = (
        f"mean difference {mean:+.4g} [{low:.4g}, {high:.4g}] "
        f"({confidence:.0%} t-interval, {n} seeds), p={p:.3g}, sign holds "
        f"in {result['sign_agreement']}/{n} seeds")
    return result


@keras_objectives_export("keras_objectives.compare.holm")
def holm(p_values, family_size=None):
    """Holm-adjusted p-values, in the order given.

    The `i`-th smallest of `m` p-values becomes
    `max_{j <= i} min(1, (m - j + 1) p_(j))`. Rejecting where the adjusted
    value is below `alpha` controls the family-wise error rate at `alpha`.

    Args:
        p_values: iterable of floats in [0, 1]; `nan` (or None) entries
            stay `nan` and do not count in the family size.
        family_size: optional int, the family size `m` when it is larger
            than the number of p-values given (tests that were chosen
            after looking at the data, e.g. best arm vs the others, where
            the honest family is every pair). Default: the finite p-values.

    Returns:
        list of floats.

    Examples:

    >>> holm([0.01, 0.04, float("nan"), 0.03])
    [0.03, 0.06, nan, 0.06]
    >>> holm([0.01], family_size=4)
    [0.04]
    """
    p = [math.nan if v is None else float(v) for v in p_values]
    valid = [i for i, v in enumerate(p) if not math.isnan(v)]
    for i in valid:
        if not 0.0 <= p[i] <= 1.0:
            raise ValueError(
                "Invalid value received for argument `p_values`. Expected "
                f"probabilities in [0, 1] or nan. Received: p_values={p}")
    m = len(valid) if family_size is None else family_size
    if m < len(valid):
        raise ValueError(
            "Invalid value received for argument `family_size`. Expected "
            f"at least the {len(valid)} finite p-values given, or None. "
            f"Received: family_size={family_size}")
    adjusted, running = list(p), 0.0
    for rank, i in enumerate(sorted(valid, key=lambda j: p[j])):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adjusted[i] = running
    return adjusted


def _verdict(test, p_holm, alpha):
    n = test["n"]
    if n < 2:
        return ONE_SEED, test["reason"]
    agree = test["sign_agreement"]
    if n == 2 and p_holm < alpha:
        # One degree of freedom: two seeds that happen to agree closely
        # give a tiny p from a noise estimate built on one difference.
        return NO_DIFFERENCE, (f"Holm p={p_holm:.3g}, but {TWO_SEEDS}")
    if p_holm < alpha and agree * 2 > n and test["better"]:
        return test["better"], (
            f"Holm p={p_holm:.3g} < {alpha:g} and the sign holds in "
            f"{agree}/{n} seeds")
    why = (f"Holm p={p_holm:.3g} >= {alpha:g}" if not p_holm < alpha
           else f"the sign holds in only {agree}/{n} seeds")
    return NO_DIFFERENCE, why


@keras_objectives_export("keras_objectives.compare.decide")
def decide(tests, alpha=0.05, family_size=None, power=0.8):
    """Verdicts for one report's family of paired comparisons.

    A test's verdict is its `better` arm ("a" or "b") when its
    Holm-adjusted p-value is below `alpha` AND the sign of the mean
    difference holds in more than half of the seeds; otherwise "no
    detectable difference"; and "one seed: no statistics" when it has
    fewer than 2 shared seeds (such tests leave the family). Two seeds
    never make a win: a t-test with one degree of freedom rests on a
    noise estimate from a single difference, so two seeds that agree by
    chance would give a tiny p (the reason says so). Every test
    also gets the minimum detectable effect of the family (`mde`, at
    `power` and the Bonferroni level `alpha / family_size`), so that "no
    detectable difference" always says how large a difference could have
    been seen.

    Args:
        tests: list of `paired_comparison` dicts: one family, every pair
            and evaluation of one report.
        alpha: float in (0, 1), the family-wise error rate.
        family_size: optional int, see `holm`.
        power: float in (0, 1), the power at which `mde` is given.

    Returns:
        list of new dicts: each test with `p_holm`, `verdict`, `alpha`,
        `family_size`, `mde` added and `reason` extended.

    Examples:

    >>> strong = paired_comparison({0: 0.80, 1: 0.83, 2: 0.81},
    ...                            {0: 0.60, 1: 0.62, 2: 0.62})
    >>> weak = paired_comparison({0: 0.61, 1: 0.60, 2: 0.64},
    ...                          {0: 0.60, 1: 0.62, 2: 0.62})
    >>> [(d["verdict"], round(d["p_holm"], 4)) for d in decide([strong, weak])]
    [('a', 0.0017), ('no detectable difference', 0.8075)]
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(
            "Invalid value received for argument `alpha`. Expected a float "
            f"in (0, 1), e.g. 0.05. Received: alpha={alpha}")
    adjusted = holm([t["p_value"] for t in tests], family_size)
    size = family_size or sum(not math.isnan(p) for p in adjusted)
    out = []
    for test, p_holm in zip(tests, adjusted, strict=True):
        verdict, why = _verdict(test, p_holm, alpha)
        mde = (minimum_detectable_effect(test["sd_difference"], test["n"],
                                         alpha, power, max(size, 1))
               if test["n"] >= 2 else math.nan)
        reason = test["reason"] if test["n"] < 2 else (
            f"{test['reason']}; {why} (family of {size}); "
            f"MDE {mde:.3g} at {power:.0%} power")
        out.append({**test, "p_holm": p_holm, "verdict": verdict,
                    "alpha": alpha, "family_size": size, "mde": mde,
                    "reason": reason})
    return out
