"""Student's t and the power of the paired t-test, in pure NumPy.

The comparison statistics need three numbers that SciPy would give: the
t CDF (p-values), its quantile (critical values and confidence intervals)
and the power of a two-sided paired t-test (minimum detectable effect,
seeds needed). This module computes them without SciPy:

* `t_sf(t, df)`: the upper tail `P(T > t) = I_x(df / 2, 1 / 2) / 2` with
  `x = df / (df + t^2)`, the regularized incomplete beta function
  evaluated by its continued fraction (modified Lentz);
* `t_quantile(p, df)`: bisection on `t_sf`, to a relative 1e-13;
* `paired_t_power(noncentrality, df, critical)`: `P(|T'| > critical)` for
  the noncentral t `T' = (Z + noncentrality) / sqrt(V / df)`, integrating
  the normal tail over the chi-square density of `V` (trapezoid rule in
  `log V`, which converges geometrically for this smooth, fast-decaying
  integrand).

`tests/compare/test_stats.py` checks all three against SciPy reference
values.
"""

import functools
import math

import numpy as np

_TINY = 1e-300
_EPS = 1e-15
_MAX_ITERATIONS = 100000
# Grid of the power integral: points per unit of log V, and the number
# of log-density units (e^-50) below which the chi-square mass is dropped.
_POINTS_PER_UNIT = 40
_TAIL = 50.0
_MIN_POINTS = 400
_erfc = np.frompyfunc(math.erfc, 1, 1)


def _continued_fraction(a, b, x):
    """The continued fraction of `I_x(a, b)` (modified Lentz)."""
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    for m in range(1, _MAX_ITERATIONS):
        for numerator in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                          -(a + m) * (a + b + m) * x
                          / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > _TINY else _TINY)
            c = 1.0 + numerator / c
            c = c if abs(c) > _TINY else _TINY
            h *= d * c
        if abs(d * c - 1.0) < _EPS:
            return h
    raise ArithmeticError(f"incomplete beta did not converge: a={a}, b={b}")


def incomplete_beta(a, b, x, y=None):
    """Regularized incomplete beta `I_x(a, b)`; `y = 1 - x` if given.

    Passing `y` computed without cancellation keeps `I` accurate when `x`
    is close to 1.

    >>> round(incomplete_beta(2.0, 3.0, 0.4), 10)  # 1 - 0.6^4 - 4 0.4 0.6^3
    0.5248
    """
    y = 1.0 - x if y is None else y
    if x <= 0.0:
        return 0.0
    if y <= 0.0:
        return 1.0
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                 + a * math.log(x) + b * math.log(y))
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _continued_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _continued_fraction(b, a, y) / b


def _check_df(df):
    if not df > 0 or not math.isfinite(df):
        raise ValueError(
            "Invalid value received for argument `df`. Expected a positive "
            f"finite number of degrees of freedom. Received: df={df}"
        )


def t_sf(t, df):
    """Upper tail `P(T > t)` of Student's t with `df` degrees of freedom.

    >>> round(t_sf(2.0, 4), 6)
    0.058058
    """
    _check_df(df)
    t = float(t)
    if math.isnan(t):
        return math.nan
    if math.isinf(t):
        return 0.0 if t > 0 else 1.0
    tail = 0.5 * incomplete_beta(df / 2.0, 0.5, df / (df + t * t),
                                 t * t / (df + t * t))
    return tail if t >= 0 else 1.0 - tail


def t_cdf(t, df):
    """CDF `P(T <= t)` of Student's t with `df` degrees of freedom.

    >>> round(t_cdf(-2.0, 4), 6), t_cdf(0.0, 7)
    (0.058058, 0.5)
    """
    return t_sf(-float(t), df)


@functools.lru_cache(maxsize=4096)
def t_quantile(p, df):
    """The `p` quantile of Student's t with `df` degrees of freedom.

    >>> round(t_quantile(0.975, 4), 6), round(t_quantile(0.025, 4), 6)
    (2.776445, -2.776445)
    """
    _check_df(df)
    if not 0.0 < p < 1.0:
        raise ValueError(
            "Invalid value received for argument `p`. Expected a "
            f"probability in (0, 1). Received: p={p}"
        )
    if p == 0.5:
        return 0.0
    tail = min(p, 1.0 - p)
    low, high = 0.0, 1.0
    while t_sf(high, df) > tail:
        low, high = high, high * 2.0
    while high - low > 1e-13 * high:
        middle = 0.5 * (low + high)
        if t_sf(middle, df) > tail:
            low = middle
        else:
            high = middle
    value = 0.5 * (low + high)
    return value if p > 0.5 else -value


def normal_cdf(z):
    """Standard normal CDF, elementwise (float or array).

    >>> round(float(normal_cdf(1.959963984540054)), 6)
    0.975
    """
    z = np.asarray(z, dtype=float)
    return 0.5 * np.asarray(_erfc(-z / math.sqrt(2.0)), dtype=float)


def _log_v_grid(df):
    """`log V` points covering the chi-square(df) mass, and log densities."""
    half = df / 2.0
    mode = math.log(df)
    # Left tail ~ exp(half (u - mode)); right tail ~ exp(-df e^(u-mode) / 2)
    # roughly; near the mode the width in u is sqrt(2 / df).
    width = math.sqrt(2.0 / df)
    low = mode - max(_TAIL / half, 12.0 * width)
    high = mode + max(math.log(2.0 * _TAIL / df + 1.0) + 1.0, 12.0 * width)
    points = max(int((high - low) * _POINTS_PER_UNIT), _MIN_POINTS)
    u = np.linspace(low, high, points)
    # log of the chi-square density of V times dV / du = V.
    log_density = (half * u - np.exp(u) / 2.0 - half * math.log(2.0)
                   - math.lgamma(half))
    return u, log_density


def paired_t_power(noncentrality, df, critical):
    """`P(|T'| > critical)`, `T'` noncentral t with `df` and `noncentrality`.

    The power of a two-sided one-sample (paired) t-test with critical
    value `critical`: `E_V[Phi(nc - c s) + Phi(-nc - c s)]` with
    `s = sqrt(V / df)` and `V ~ chi-square(df)`.

    >>> round(paired_t_power(0.0, 4, t_quantile(0.975, 4)), 6)
    0.05
    """
    _check_df(df)
    if math.isinf(noncentrality):
        return 1.0
    u, log_density = _log_v_grid(df)
    s = np.exp(u / 2.0) / math.sqrt(df)
    z = critical * s
    tails = (normal_cdf(noncentrality - z) + normal_cdf(-noncentrality - z))
    weights = np.exp(log_density)
    step = u[1] - u[0]
    total = step * (np.sum(weights * tails)
                    - 0.5 * (weights[0] * tails[0] + weights[-1] * tails[-1]))
    return float(min(max(total, 0.0), 1.0))
