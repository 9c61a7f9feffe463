"""Statistics over pre-training seeds, in pure NumPy.

A comparison has few seeds (METHOD.md asks for at least 3), so every
function here is written for small samples and says so in its output:

* `describe`: mean, SD (n - 1) and a percentile bootstrap CI of the mean;
* `paired_differences`: per-seed differences between two arms over the
  seeds both completed (the data order is shared per seed, so pairing
  removes the data-order noise);
* `win`: the win rule. A difference is a win only when the mean paired
  difference exceeds `factor` (2) times the pooled SD of the two arms AND
  its sign holds in most seeds (strictly more than half). Anything else is
  "no detectable difference";
* `equivalence`: TOST-style equivalence with a margin, for pairs where no
  difference is expected (80/10/10 vs `[MASK]`-only): equivalent when the
  two one-sided 95% t intervals of the mean difference lie inside
  `(-margin, margin)`.

Every random draw comes from `np.random.default_rng(seed)`.
"""

import math

import numpy as np

from keras_objectives.api_export import keras_objectives_export

# One-sided 95% quantiles of Student's t, df = 1..30 (two-sided 90%).
_T95 = (6.314, 2.920, 2.353, 2.132, 2.015, 1.943, 1.895, 1.860, 1.833,
        1.812, 1.796, 1.782, 1.771, 1.761, 1.753, 1.746, 1.740, 1.734,
        1.729, 1.725, 1.721, 1.717, 1.714, 1.711, 1.708, 1.706, 1.703,
        1.701, 1.699, 1.697)

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
    """One-sided 95% quantile of Student's t with `df` degrees of freedom."""
    if df < 1:
        raise ValueError(
            "Invalid value received for argument `df`. Expected an integer "
            f">= 1 (at least 2 seeds). Received: df={df}"
        )
    return _T95[df - 1] if df <= len(_T95) else 1.645 + 2.4 / df


def _clean(values):
    values = np.asarray([v for v in values if v is not None], dtype=float)
    return values[np.isfinite(values)]


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


@keras_objectives_export("keras_objectives.compare.paired_differences")
def paired_differences(a, b):
    """Differences `a[s] - b[s]` over the seeds `s` both dicts have.

    Args:
        a, b: dicts `{seed: value}`.

    Returns:
        `(seeds, differences)`: sorted shared seeds and a NumPy array.

    >>> paired_differences({0: 3.0, 1: 5.0, 2: 1.0}, {0: 1.0, 1: 4.0})
    ([0, 1], array([2., 1.]))
    """
    seeds = sorted(
        s for s in set(a) & set(b)
        if a[s] is not None and b[s] is not None
        and math.isfinite(a[s]) and math.isfinite(b[s])
    )
    return seeds, np.asarray([a[s] - b[s] for s in seeds], dtype=float)


@keras_objectives_export("keras_objectives.compare.win")
def win(a, b, higher_is_better=True, factor=2.0):
    """The win rule between two arms over shared seeds.

    Args:
        a, b: dicts `{seed: value}` of one metric for two arms.
        higher_is_better: bool, the metric's direction.
        factor: float, how many pooled SDs the mean difference must exceed.

    Returns:
        dict with `verdict` (`"a"`, `"b"` or `"no detectable difference"`),
        `mean_difference` (a - b), `threshold` (factor x pooled SD),
        `pooled_sd`, `sign_agreement` (seeds where the winner's sign
        holds), `n` (shared seeds) and a one-line `reason`.

    Examples:

    >>> r = win({0: 0.80, 1: 0.82, 2: 0.81}, {0: 0.60, 1: 0.61, 2: 0.62})
    >>> r["verdict"], r["sign_agreement"]
    ('a', 3)
    >>> win({0: 1.0, 1: 2.0}, {0: 1.0, 1: 2.0})["verdict"]
    'no detectable difference'
    """
    seeds, diff = paired_differences(a, b)
    n = len(seeds)
    result = {"n": n, "verdict": "no detectable difference",
              "mean_difference": math.nan, "threshold": math.nan,
              "pooled_sd": math.nan, "sign_agreement": 0}
    if n < 2:
        result["reason"] = f"only {n} shared seed(s); need at least 2"
        return result
    sd = pooled_sd([a[s] for s in seeds], [b[s] for s in seeds])
    mean = float(diff.mean())
    better = mean if higher_is_better else -mean
    signs = diff if higher_is_better else -diff
    agree = int(np.sum(signs > 0)) if better > 0 else int(np.sum(signs < 0))
    threshold = factor * sd
    result.update(mean_difference=mean, threshold=threshold, pooled_sd=sd,
                  sign_agreement=agree)
    if better != 0 and abs(mean) > threshold and agree * 2 > n:
        result["verdict"] = "a" if better > 0 else "b"
        result["reason"] = (
            f"|mean difference| {abs(mean):.4g} > {factor:g} x pooled SD "
            f"{threshold:.4g}, sign holds in {agree}/{n} seeds")
    else:
        result["reason"] = (
            f"|mean difference| {abs(mean):.4g} vs {factor:g} x pooled SD "
            f"{threshold:.4g}, sign holds in {agree}/{n} seeds")
    return result


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
