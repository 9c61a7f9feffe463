"""Power of the paired comparison: power, MDE and seeds needed.

The comparison tests each pair of arms with a two-sided paired t-test over
pre-training seeds, Holm-corrected across the family of tests in one
report (`stats.decide`). Power is computed for the worst case of Holm's
procedure, the Bonferroni level `alpha / family_size` (Holm's first step);
Holm rejects at least whatever Bonferroni rejects, so the real power is
at least the figure given here.

* `power(effect, sd_difference, n)`: the probability that a true mean
  difference `effect` is detected with `n` seeds when the per-seed paired
  differences have SD `sd_difference`;
* `minimum_detectable_effect(sd_difference, n)`: the smallest effect
  detected with probability `power` (80% by default);
* `seeds_needed(effect, sd_difference)`: the smallest number of seeds
  that detects `effect` with probability `power`.

All three are exact for normally distributed paired differences (the
noncentral t distribution, `student_t.paired_t_power`). They ignore the
sign rule of `decide` (the sign must hold in most seeds), which almost
never binds once the t-test rejects.
"""

import functools
import math
import numbers

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.compare.student_t import paired_t_power
from keras_objectives.compare.student_t import t_quantile


def _invalid(name, value, expected):
    return ValueError(
        f"Invalid value received for argument `{name}`. Expected "
        f"{expected}. Received: {name}={value!r}"
    )


def _is_real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_probability(name, value):
    if not (_is_real(value) and 0.0 < value < 1.0):
        raise _invalid(name, value, "a float in (0, 1), e.g. 0.05")


def _check_count(name, value, minimum):
    if (isinstance(value, bool) or not isinstance(value, numbers.Integral)
            or value < minimum):
        raise _invalid(name, value, f"an integer >= {minimum}")
    return int(value)


def _check_effect(effect):
    if not (_is_real(effect) and math.isfinite(effect) and effect > 0):
        raise _invalid(
            "effect", effect,
            "a positive finite float: the size of the mean difference to "
            "detect, in the metric's units (e.g. 0.03 accuracy). For a "
            "difference in the other direction, give its absolute value")


def _check_sd(sd_difference, allow_nan=False):
    if allow_nan and _is_real(sd_difference) and math.isnan(sd_difference):
        return
    if not (_is_real(sd_difference) and math.isfinite(sd_difference)
            and sd_difference >= 0):
        raise _invalid(
            "sd_difference", sd_difference,
            "a finite float >= 0: the SD (ddof=1) of the per-seed paired "
            "differences, which needs at least 2 seeds to estimate")


def _check_common(alpha, family_size):
    _check_probability("alpha", alpha)
    return _check_count("family_size", family_size, 1)


def _critical(n, alpha, family_size):
    return t_quantile(1.0 - alpha / family_size / 2.0, n - 1)


@functools.lru_cache(maxsize=4096)
def _noncentrality_needed(n, alpha, family_size, target):
    """The noncentrality at which the paired t-test reaches `target`."""
    df, critical = n - 1, _critical(n, alpha, family_size)
    low, high = 0.0, critical + 4.0
    while paired_t_power(high, df, critical) < target:
        low, high = high, 2.0 * high
    while high - low > 1e-9 * high:
        middle = 0.5 * (low + high)
        if paired_t_power(middle, df, critical) < target:
            low = middle
        else:
            high = middle
    return 0.5 * (low + high)


# `paired.decide` declares no win below this many seeds.
MIN_SEEDS_FOR_A_WIN = 3


def _power(effect, sd_difference, n, alpha, family_size):
    if n < MIN_SEEDS_FOR_A_WIN:
        return 0.0
    if sd_difference == 0:
        return 1.0
    noncentrality = effect / sd_difference * math.sqrt(n)
    return paired_t_power(noncentrality, n - 1,
                          _critical(n, alpha, family_size))


@keras_objectives_export("keras_objectives.compare.power")
def power(effect, sd_difference, n, alpha=0.05, family_size=1):
    """Probability that a paired comparison detects a true difference.

    A two-sided paired t-test over `n` pre-training seeds at the level
    `alpha / family_size` (the worst case of Holm's correction over a
    family of `family_size` tests), when the per-seed differences are
    normal with mean `effect` and SD `sd_difference`.

    Args:
        effect: float > 0, the true mean difference, in metric units.
        sd_difference: float >= 0, SD (ddof=1) of per-seed differences.
        n: int >= 1, pre-training seeds. Fewer than 3 make no win
            (`decide`): power 0.
        alpha: float in (0, 1), the family-wise error rate.
        family_size: int >= 1, tests in the family (pairs x evaluations).

    Returns:
        float in [0, 1]; 1.0 when `sd_difference` is 0.

    Examples:

    >>> round(power(0.03, 0.015, 5), 4)
    0.9089
    >>> round(power(0.03, 0.015, 5, family_size=6), 4)
    0.4995
    >>> power(0.0, 0.01, 5)
    Traceback (most recent call last):
    ...
    ValueError: Invalid value received for argument `effect`. Expected a \
positive finite float: the size of the mean difference to detect, in the \
metric's units (e.g. 0.03 accuracy). For a difference in the other \
direction, give its absolute value. Received: effect=0.0
    """
    _check_effect(effect)
    _check_sd(sd_difference)
    n = _check_count("n", n, 1)
    family_size = _check_common(alpha, family_size)
    return _power(effect, sd_difference, n, alpha, family_size)


@keras_objectives_export("keras_objectives.compare.minimum_detectable_effect")
def minimum_detectable_effect(sd_difference, n, alpha=0.05, power=0.8,
                              family_size=1):
    """Smallest true mean difference detected with probability `power`.

    The minimum detectable effect (MDE) of a two-sided paired t-test over
    `n` seeds at the level `alpha / family_size`, when the per-seed
    differences have SD `sd_difference`. It shrinks like
    `sd_difference / sqrt(n)`: more seeds detect smaller effects.

    Args:
        sd_difference: float >= 0, the SD (ddof=1) of the per-seed paired
            differences (observed, or assumed). `nan` (fewer than 2 seeds
            observed) gives `nan`.
        n: int >= 1, pre-training seeds. Fewer than 3 detect nothing
            (`decide` declares no win on 2 seeds): `inf`.
        alpha: float in (0, 1), the family-wise error rate.
        power: float in (0, 1), the detection probability, default 80%.
        family_size: int >= 1, tests in the family (pairs x evaluations).

    Returns:
        float, in the units of the metric.

    Examples:

    >>> round(minimum_detectable_effect(0.015, 5), 5)
    0.02523
    >>> round(minimum_detectable_effect(0.015, 20), 5)
    0.00991
    >>> minimum_detectable_effect(0.015, 1)
    inf
    """
    _check_sd(sd_difference, allow_nan=True)
    n = _check_count("n", n, 1)
    family_size = _check_common(alpha, family_size)
    _check_probability("power", power)
    if math.isnan(sd_difference):
        return math.nan
    if n < MIN_SEEDS_FOR_A_WIN:
        return math.inf
    if power <= alpha / family_size or sd_difference == 0:
        return 0.0
    return (_noncentrality_needed(n, float(alpha), family_size,
                                  float(power))
            * sd_difference / math.sqrt(n))


@keras_objectives_export("keras_objectives.compare.seeds_needed")
def seeds_needed(effect, sd_difference, alpha=0.05, power=0.8,
                 family_size=1, max_seeds=1000):
    """Smallest number of seeds that detects `effect` with `power`.

    Args:
        effect: float > 0, the mean difference to detect (published or
            user-given), in the metric's units.
        sd_difference: float >= 0, the SD (ddof=1) of per-seed paired
            differences, e.g. the one a comparison observed.
        alpha: float in (0, 1), the family-wise error rate.
        power: float in (0, 1), the detection probability, default 80%.
        family_size: int >= 1, tests in the family (pairs x evaluations).
        max_seeds: int >= 2, the largest number of seeds to consider.

    Returns:
        int >= 3 (fewer seeds make no win), or `None` when even
        `max_seeds` seeds are not enough.

    Examples:

    >>> seeds_needed(0.03, 0.015), seeds_needed(0.01, 0.015)
    (5, 20)
    >>> seeds_needed(0.03, 0.015, family_size=6)
    7
    >>> seeds_needed(0.001, 0.05, max_seeds=100) is None
    True
    """
    _check_effect(effect)
    _check_sd(sd_difference)
    family_size = _check_common(alpha, family_size)
    _check_probability("power", power)
    max_seeds = _check_count("max_seeds", max_seeds, 2)

    def enough(n):
        return _power(effect, sd_difference, n, alpha, family_size) >= power

    if not enough(max_seeds):
        return None
    low, high = 2, max_seeds  # enough(high) holds, enough(low) does not.
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if enough(middle) else (middle, high)
    return high
