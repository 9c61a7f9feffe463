"""Student's t and paired-t power against SciPy reference values.

Every reference value below was computed with SciPy 1.17.1 (and
statsmodels 0.15.0 `TTestPower` where noted) in a throwaway virtualenv:
`scipy.stats.t.ppf`, `scipy.stats.t.cdf`, and the paired-t power
`nct.sf(c, df, nc) + nct.sf(c, df, -nc)` with `c = t.ppf(1 - a / 2, df)`,
`df = n - 1` and `nc = d sqrt(n)`; the MDEs by `scipy.optimize.brentq`
on that power at 0.8. The project does not depend on SciPy.
"""

import math

import pytest

from keras_objectives.compare import student_t

# df: (t.ppf(0.95), t.ppf(0.975), t.ppf(1 - 0.05 / 36)),
#     (t.cdf(-3), t.cdf(0.5), t.cdf(2)).
T_REFERENCE = {
    1: ((6.3137515147, 12.7062047362, 229.1816636094),
        (0.10241638235, 0.64758361765, 0.85241638235)),
    2: ((2.9199855804, 4.3026527297, 18.9341145927),
        (0.047732983133, 0.666666666667, 0.908248290464)),
    3: ((2.3533634348, 3.1824463053, 9.1293923518),
        (0.028834442811, 0.674276017576, 0.930337015721)),
    4: ((2.1318467863, 2.7764451052, 6.5697004776),
        (0.019970984036, 0.678335018409, 0.941941738242)),
    9: ((1.8331129327, 2.2621571628, 4.0752326465),
        (0.007478181955, 0.685464350087, 0.961723588115)),
    29: ((1.6991270265, 2.0452296421, 3.2693659088),
         (0.002749596067, 0.689575957903, 0.972528181409)),
    100: ((1.6602343261, 1.9839715185, 3.0674428451),
          (0.001703957672, 0.690913217085, 0.975893910634)),
}

# (standardized effect d, n, per-test alpha, power).
POWER_REFERENCE = [
    (2.0, 5, 0.05, 0.9088848681009402),  # statsmodels TTestPower too.
    (2.0, 5, 0.05 / 6, 0.4995157794921845),
    (1.5, 3, 0.05, 0.31638186155915066),
    (1.0, 2, 0.05, 0.09280915505633605),
    (0.5, 30, 0.05, 0.75396471574379),
    (3.0, 10, 0.05 / 18, 0.9999387239545157),
]


@pytest.mark.parametrize("df", sorted(T_REFERENCE))
def test_t_quantile_and_cdf_match_scipy(df):
    quantiles, cdfs = T_REFERENCE[df]
    for p, expected in zip((0.95, 0.975, 1 - 0.05 / 36), quantiles,
                           strict=True):
        assert student_t.t_quantile(p, df) == pytest.approx(expected,
                                                           abs=1e-8)
        assert student_t.t_quantile(1 - p, df) == pytest.approx(
            -expected, abs=1e-8)
    for t, expected in zip((-3.0, 0.5, 2.0), cdfs, strict=True):
        assert student_t.t_cdf(t, df) == pytest.approx(expected, abs=1e-10)
        assert student_t.t_sf(t, df) == pytest.approx(1 - expected,
                                                      abs=1e-10)


def test_t_round_trip_and_edges():
    for df in (1, 3.5, 12, 400):
        for p in (1e-6, 0.2, 0.5, 0.9, 0.999999):
            t = student_t.t_quantile(p, df)
            assert student_t.t_cdf(t, df) == pytest.approx(p, rel=1e-9)
    assert student_t.t_sf(math.inf, 3) == 0.0
    assert student_t.t_cdf(-math.inf, 3) == 0.0
    assert math.isnan(student_t.t_sf(math.nan, 3))
    with pytest.raises(ValueError, match="argument `df`"):
        student_t.t_sf(1.0, 0)
    with pytest.raises(ValueError, match="argument `p`"):
        student_t.t_quantile(1.0, 3)


@pytest.mark.parametrize("d,n,alpha,expected", POWER_REFERENCE)
def test_paired_t_power_matches_scipy(d, n, alpha, expected):
    critical = student_t.t_quantile(1 - alpha / 2, n - 1)
    power = student_t.paired_t_power(d * math.sqrt(n), n - 1, critical)
    assert power == pytest.approx(expected, abs=1e-8)


def test_paired_t_power_at_zero_effect_is_alpha():
    for df in (1, 2, 4, 30, 999):
        for alpha in (0.05, 0.01, 0.05 / 18):
            critical = student_t.t_quantile(1 - alpha / 2, df)
            assert student_t.paired_t_power(0.0, df, critical) == \
                pytest.approx(alpha, rel=1e-8)


def test_normal_cdf():
    values = student_t.normal_cdf([-1.0, 0.0, 1.959963984540054])
    assert values == pytest.approx([0.15865525393145707, 0.5, 0.975],
                                   abs=1e-12)
