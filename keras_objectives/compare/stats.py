"""Statistics over pre-training seeds, in pure NumPy.

A comparison has few seeds, so every function here is written for small
samples and says so in its output. The pre-training seed is the unit of
replication: probe or fine-tuning seeds nested inside one pre-training
seed are averaged first. See docs/statistics.md.

* `describe`: mean, SD (n - 1) and a percentile bootstrap CI of the mean;
* `paired_comparison`: the paired t-test of two arms over the seeds both
  completed (the data order is shared per seed, so pairing removes the
  data-order noise): mean difference, its t-interval and p-value;
* `holm` and `decide`: the decision rule. Over the family of tests of one
  report (pairs x evaluations), a difference is a win only when its
  Holm-adjusted p-value is below `alpha` (0.05) AND its sign holds in
  more than half of the seeds. Anything else is "no detectable
  difference"; one seed is "one seed: no statistics". The rule gains
  power with seeds: the uncertainty of the mean difference shrinks like
  `1 / sqrt(n)`;
* `power`, `minimum_detectable_effect`, `seeds_needed`: what the family
  could detect (80% power at the Bonferroni level `alpha / family_size`,
  the worst case of Holm's procedure);
* `win`: the rule for a family of one test;
* `equivalence`: TOST-style equivalence with a margin, for pairs where no
  difference is expected (80/10/10 vs `[MASK]`-only): equivalent when the
  two one-sided 95% t intervals of the mean difference lie inside
  `(-margin, margin)`.

Every random draw comes from `np.random.default_rng(seed)`.
"""

import math

import numpy as np

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.compare.paired import NO_DIFFERENCE  # noqa: F401
from keras_objectives.compare.paired import ONE_SEED  # noqa: F401
from keras_objectives.compare.paired import _clean
from keras_objectives.compare.paired import _seed_value
from keras_objectives.compare.paired import decide
from keras_objectives.compare.paired import holm  # noqa: F401
from keras_objectives.compare.paired import paired_comparison
from keras_objectives.compare.paired import paired_differences
from keras_objectives.compare.power_analysis import (  # noqa: F401
    MIN_SEEDS_FOR_A_WIN)
from keras_objectives.compare.power_analysis import minimum_detectable_effect  # noqa: F401
from keras_objectives.compare.power_analysis import power  # noqa: F401
from keras_objectives.compare.power_analysis import seeds_needed  # noqa: F401
from keras_objectives.compare.student_t import t_cdf  # noqa: F401
from keras_objectives.compare.student_t import t_quantile

LOWER_IS_BETTER = ("loss", "perplexity", "bpb", "bits_per_byte", "nll",
                   "error", "wall_time", "seconds")


def higher_is_better(metric):
    """Whether a larger value of `metric` is better (losses are not).

    >>> higher_is_better("accuracy"), higher_is_better("val_loss")
    (True, False)
    """
    name = str(metric).lower()
    return not any(word in name for word in LOWER_IS_BETTER)


def t_quantile_95(df):
    """One-sided 95% quantile of Student's t with `df` degrees of freedom.

    >>> round(t_quantile_95(4), 4)
    2.1318
    """
    if df < 1:
        raise ValueError(
            "Invalid value received for argument `df`. Expected an integer "
            f">= 1 (at least 2 seeds). Received: df={df}"
        )
    return t_quantile(0.95, df)


@keras_objectives_export("keras_objectives.compare.bootstrap_ci")
def bootstrap_ci(values, confidence=0.95, resamples=2000, seed=0):
    """Percentile bootstrap confidence interval of the mean.

    Args:
        values: 1-D sample (one value per seed). Non-finite values are
            dropped.
        confidence: float in (0, 1).
        resamples: int, bootstrap resamples.
        seed: int, seed of the resampling.

    Returns:
        `(low, high)`, or `(nan, nan)` for an empty sample. With one value
        the interval is that value (no spread can be estimated).

    Examples:

    >>> low, high = bootstrap_ci([1.0, 2.0, 3.0, 4.0], seed=0)
    >>> bool(1.0 <= low < 2.5 < high <= 4.0)
    True
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(
            "Invalid value received for argument `confidence`. Expected a "
            f"float in (0, 1). Received: confidence={confidence}"
        )
    x = _clean(values)
    if x.size == 0:
        return (math.nan, math.nan)
    rng = np.random.default_rng(seed)
    index = rng.integers(0, x.size, size=(int(resamples), x.size))
    means = x[index].mean(axis=1)
    tail = (1.0 - confidence) / 2.0 * 100.0
    low, high = np.percentile(means, [tail, 100.0 - tail])
    return (float(low), float(high))


@keras_objectives_export("keras_objectives.compare.describe")
def describe(values, confidence=0.95, resamples=2000, seed=0):
    """Mean, SD (ddof=1), n and a bootstrap CI of the mean.

    Examples:

    >>> d = describe([1.0, 2.0, 3.0])
    >>> d["mean"], d["sd"], d["n"]
    (2.0, 1.0, 3)
    """
    x = _clean(values)
    n = int(x.size)
    low, high = bootstrap_ci(x, confidence, resamples, seed)
    return {
        "n": n,
        "mean": float(x.mean()) if n else math.nan,
        "sd": float(x.std(ddof=1)) if n > 1 else math.nan,
        "ci_low": low,
        "ci_high": high,
        "confidence": confidence,
    }


def pooled_sd(a, b):
    """`sqrt((sd_a^2 + sd_b^2) / 2)` over two samples (ddof=1)."""
    a, b = _clean(a), _clean(b)
    if a.size < 2 or b.size < 2:
        return math.nan
    return float(math.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2.0))


@keras_objectives_export("keras_objectives.compare.win")
def win(a, b, higher_is_better=True, alpha=0.05, confidence=0.95):
    """The decision rule between two arms, as a family of one test.

    `decide([paired_comparison(a, b, ...)], alpha)[0]`: "a" or "b" when
    the paired t-test over shared pre-training seeds has p < `alpha` and
    the sign holds in more than half of the seeds; otherwise "no
    detectable difference"; "one seed: no statistics" below 2 seeds. A
    report with several tests should call `decide` on all of them
    instead, so that Holm's correction sees the whole family.

    Args:
        a, b: dicts `{seed: value or list of values}` for two arms.
        higher_is_better: bool, the metric's direction.
        alpha: float in (0, 1), the significance level.
        confidence: float in (0, 1), the level of the t-interval.

    Returns:
        the `decide` dict (`verdict`, `mean_difference` (a - b), `n`,
        `sign_agreement`, `ci_low`, `ci_high`, `p_value`, `p_holm`, `mde`,
        `reason`, ...), plus `threshold`, the smallest |mean difference|
        that is significant at `alpha` with this SD and n, and `pooled_sd`
        of the two arms' values (for reference).

    Examples:

    >>> r = win({0: 0.80, 1: 0.82, 2: 0.81}, {0: 0.60, 1: 0.61, 2: 0.62})
    >>> r["verdict"], r["sign_agreement"]
    ('a', 3)
    >>> win({0: 1.0, 1: 2.0}, {0: 1.0, 1: 2.0})["verdict"]
    'no detectable difference'
    >>> win({0: 1.0}, {0: 0.0})["verdict"]
    'one seed: no statistics'
    """
    test = decide([paired_comparison(a, b, higher_is_better, confidence)],
                  alpha)[0]
    n, seeds = test["n"], test["seeds"]
    threshold = (t_quantile(1.0 - alpha / 2.0, n - 1) * test["se"]
                 if n >= 2 else math.nan)
    values_a = [_seed_value(a[s]) for s in seeds]
    values_b = [_seed_value(b[s]) for s in seeds]
    return {**test, "threshold": threshold,
            "pooled_sd": pooled_sd(values_a, values_b)}


@keras_objectives_export("keras_objectives.compare.equivalence")
def equivalence(a, b, margin):
    """TOST equivalence of two arms over shared seeds (paired t, alpha 5%).

    Equivalent when `mean(d) - t * se > -margin` and
    `mean(d) + t * se < margin`, with `d` the paired differences,
    `se = sd(d) / sqrt(n)` and `t` the one-sided 95% t quantile.

    Args:
        a, b: dicts `{seed: value}`.
        margin: float > 0, the largest difference that counts as "the same".

    Returns:
        dict with `equivalent` (bool), `low`, `high` (the 90% interval),
        `margin`, `n` and a `reason`.

    Examples:

    >>> a = {0: 0.700, 1: 0.710, 2: 0.705}
    >>> b = {0: 0.702, 1: 0.709, 2: 0.704}
    >>> equivalence(a, b, margin=0.02)["equivalent"]
    True
    """
    if not margin or margin <= 0:
        raise ValueError(
            "Invalid value received for argument `margin`. Expected a "
            f"positive float. Received: margin={margin!r}. Give the largest "
            "difference you would call no difference, e.g. 0.01 accuracy."
        )
    seeds, diff = paired_differences(a, b)
    n = len(seeds)
    if n < 2:
        return {"equivalent": False, "low": math.nan, "high": math.nan,
                "margin": margin, "n": n,
                "reason": f"only {n} shared seed(s); need at least 2"}
    mean = float(diff.mean())
    se = float(diff.std(ddof=1)) / math.sqrt(n)
    t = t_quantile_95(n - 1)
    low, high = mean - t * se, mean + t * se
    ok = bool(low > -margin and high < margin)
    return {
        "equivalent": ok, "low": low, "high": high, "margin": margin,
        "n": n,
        "reason": (f"90% CI of the difference [{low:.4g}, {high:.4g}] "
                   f"{'inside' if ok else 'not inside'} "
                   f"(-{margin:g}, {margin:g})"),
    }
