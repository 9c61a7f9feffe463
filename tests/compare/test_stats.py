"""Statistics over seeds: bootstrap, paired test, Holm rule, power, TOST.

Simulations are seeded. Simulated rates are checked against exact binomial
bounds whose tails hold 1e-3 each.
"""

import math

import numpy as np
import pytest

from keras_objectives.compare import stats


def test_bootstrap_ci_covers_true_mean_near_nominal():
    rng = np.random.default_rng(1234)
    true_mean, covered, experiments = 3.0, 0, 400
    for i in range(experiments):
        sample = rng.normal(true_mean, 2.0, size=30)
        low, high = stats.bootstrap_ci(sample, 0.95, resamples=1000, seed=i)
        covered += low <= true_mean <= high
    assert 0.90 * experiments <= covered <= 0.99 * experiments, covered


def test_bootstrap_ci_is_seeded_and_narrows_with_confidence():
    x = [0.1, 0.5, 0.3, 0.9, 0.4]
    assert stats.bootstrap_ci(x, seed=3) == stats.bootstrap_ci(x, seed=3)
    low90, high90 = stats.bootstrap_ci(x, 0.90, seed=3)
    low99, high99 = stats.bootstrap_ci(x, 0.99, seed=3)
    assert low99 <= low90 < high90 <= high99


def test_bootstrap_ci_edge_cases():
    assert all(math.isnan(v) for v in stats.bootstrap_ci([]))
    assert stats.bootstrap_ci([2.5]) == (2.5, 2.5)
    with pytest.raises(ValueError, match="confidence"):
        stats.bootstrap_ci([1.0, 2.0], confidence=95)


def test_describe_drops_non_finite_values():
    d = stats.describe([1.0, float("nan"), 3.0, None])
    assert d["n"] == 2 and d["mean"] == 2.0
    assert d["sd"] == pytest.approx(math.sqrt(2.0))


# -- helpers ---------------------------------------------------------------


def binomial_range(trials, p, tail=1e-3):
    """`(low, high)` counts: Binomial(trials, p) falls below `low` or above
    `high` with probability at most `tail` each."""
    log_pmf = [math.lgamma(trials + 1) - math.lgamma(k + 1)
               - math.lgamma(trials - k + 1) + k * math.log(p)
               + (trials - k) * math.log1p(-p) for k in range(trials + 1)]
    cdf = np.cumsum(np.exp(log_pmf))
    low = int(np.searchsorted(cdf, tail))  # P(X < low) <= tail
    high = int(np.searchsorted(cdf, 1.0 - tail))  # P(X > high) <= tail
    return low, high


def nested(rng, per_seed, probes=3, probe_sd=0.01):
    """`{seed: [probe values]}` whose probe means are exactly `per_seed`."""
    out = {}
    for seed, value in enumerate(per_seed):
        offsets = rng.normal(0.0, probe_sd, probes)
        out[seed] = list(value + offsets - offsets.mean())
    return out


def null_report(rng, n, arms=4, evaluations=3):
    """Identical arms: per evaluation, `{arm: {seed: [probe values]}}`."""
    report = []
    for _ in range(evaluations):
        seed_level = rng.normal(0.7, 0.05, n)  # shared per seed: paired
        report.append({arm: nested(rng, seed_level + rng.normal(0, 0.015, n))
                       for arm in range(arms)})
    return report


def families(report):
    """The all-pairs and the best-vs-others families of one report."""
    all_pairs, best_vs_others = [], []
    for arms in report:
        for i in arms:
            for j in arms:
                if i < j:
                    all_pairs.append(stats.paired_comparison(arms[i],
                                                             arms[j]))
        means = {a: np.mean([np.mean(v) for v in arms[a].values()])
                 for a in arms}
        best = max(means, key=means.get)
        best_vs_others += [stats.paired_comparison(arms[best], arms[o])
                           for o in arms if o != best]
    return all_pairs, best_vs_others


def any_win(tests, **kwargs):
    return any(d["verdict"] in ("a", "b")
               for d in stats.decide(tests, **kwargs))


def false_win_counts(seed, n, reports):
    rng = np.random.default_rng(seed)
    counts = np.zeros(2, dtype=int)
    for _ in range(reports):
        all_pairs, best = families(null_report(rng, n))
        # Best-vs-others chooses its pairs after seeing the data: its
        # honest family is every pair (6 pairs x 3 evaluations).
        counts += [any_win(all_pairs), any_win(best, family_size=18)]
    return counts


def detection_rate(seed, effect, sd, n, trials, family_size=1):
    """Share of simulated reports that call arm "a" better, when a - b has
    mean `effect` and SD `sd` per seed, inside a family of `family_size`
    tests whose other members are null."""
    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(trials):
        base = rng.normal(0.7, 0.05, n)
        tests = [stats.paired_comparison(
            nested(rng, base + effect + rng.normal(0, sd, n)),
            dict(enumerate(base)))]
        for _ in range(family_size - 1):
            tests.append(stats.paired_comparison(
                dict(enumerate(base + rng.normal(0, sd, n))),
                dict(enumerate(base))))
        hits += stats.decide(tests)[0]["verdict"] == "a"
    return hits


# -- the paired comparison -------------------------------------------------


def test_paired_comparison_matches_scipy():
    a = {0: 0.80, 1: 0.83, 2: 0.81}
    b = {0: 0.60, 1: 0.62, 2: 0.62, 9: 0.1}
    r = stats.paired_comparison(a, b)
    # scipy.stats.ttest_1samp([0.2, 0.21, 0.19], 0) and t.interval (1.17.1)
    assert r["n"] == 3 and r["seeds"] == [0, 1, 2]
    assert r["mean_difference"] == pytest.approx(0.2)
    assert r["sd_difference"] == pytest.approx(0.01)
    assert r["t"] == pytest.approx(34.64101615137757)
    assert r["p_value"] == pytest.approx(0.0008322931113192273, rel=1e-8)
    assert r["ci_low"] == pytest.approx(0.17515862288249673)
    assert r["ci_high"] == pytest.approx(0.2248413771175033)
    assert r["better"] == "a" and r["sign_agreement"] == 3
    d = [0.01, -0.02, 0.02, 0.03, 0.005]
    r = stats.paired_comparison(dict(enumerate(d)), dict.fromkeys(range(5),
                                                                  0.0),
                                confidence=0.9)
    assert r["p_value"] == pytest.approx(0.34564839485502863, rel=1e-8)
    assert r["ci_low"] == pytest.approx(-0.008963260315053055)
    assert r["ci_high"] == pytest.approx(0.026963260315053042)
    assert r["sign_agreement"] == 4


def test_paired_comparison_averages_nested_seeds_and_drops_bad_values():
    a = {0: [0.5, 0.7, math.nan], 1: [0.8, 0.9], 2: None, 3: [math.nan],
         4: 0.9}
    b = {0: 0.5, 1: 0.85, 2: 0.1, 3: 0.2, 4: math.inf}
    r = stats.paired_comparison(a, b)
    assert r["seeds"] == [0, 1] and r["n"] == 2
    assert r["mean_difference"] == pytest.approx(0.05)
    # The nested mean is what is tested: same as giving the means.
    flat = stats.paired_comparison({0: 0.6, 1: 0.85}, {0: 0.5, 1: 0.85})
    assert r["p_value"] == pytest.approx(flat["p_value"])


def test_paired_comparison_direction_and_degenerate_spread():
    a, b = {0: 1.0, 1: 2.0, 2: 3.0}, {0: 1.5, 1: 2.5, 2: 3.5}
    assert stats.paired_comparison(a, b)["better"] == "b"
    low = stats.paired_comparison(a, b, higher_is_better=False)
    # No spread: the exact sign test, 2 / 2**3, never a false p = 0.
    assert low["better"] == "a" and low["p_value"] == 0.25
    two = stats.paired_comparison({0: 0.75, 1: 0.5}, {0: 0.5, 1: 0.25})
    assert two["p_value"] == 0.5
    assert low["ci_low"] == low["ci_high"] == pytest.approx(-0.5)
    same = stats.paired_comparison(a, dict(a))
    assert same["p_value"] == 1.0 and same["better"] is None
    assert same["sign_agreement"] == 0


def test_one_seed_has_no_statistics():
    r = stats.paired_comparison({0: 0.9, 1: 0.5}, {0: 0.1})
    assert r["reason"] == "one seed: no statistics" and r["n"] == 1
    assert all(math.isnan(r[k]) for k in ("p_value", "ci_low", "ci_high",
                                         "sd_difference", "se"))
    decided = stats.decide([r])[0]
    assert decided["verdict"] == "one seed: no statistics"
    assert math.isnan(decided["p_holm"])
    none = stats.paired_comparison({0: 1.0}, {1: 1.0})
    assert none["n"] == 0 and none["better"] is None
    assert stats.decide([none])[0]["verdict"] == "one seed: no statistics"
    assert stats.win({0: 1.0}, {0: 0.0})["verdict"] == \
        "one seed: no statistics"
    with pytest.raises(ValueError, match="argument `confidence`"):
        stats.paired_comparison({0: 1.0}, {0: 1.0}, confidence=95)


# -- Holm and the decision rule ------------------------------------------


def test_holm_matches_statsmodels():
    # statsmodels.stats.multitest.multipletests(method="holm"), 0.15.0.
    adjusted = stats.holm([0.01, 0.04, 0.03, 0.002, 0.5])
    assert adjusted == pytest.approx([0.04, 0.09, 0.09, 0.01, 0.5])
    with_nan = stats.holm([0.01, None, math.nan, 0.04])
    assert with_nan[0] == pytest.approx(0.02)
    assert math.isnan(with_nan[1]) and math.isnan(with_nan[2])
    assert stats.holm([0.01, 0.02], family_size=10) == pytest.approx(
        [0.1, 0.18])
    assert stats.holm([]) == []
    with pytest.raises(ValueError, match="argument `family_size`"):
        stats.holm([0.01, 0.02], family_size=1)
    with pytest.raises(ValueError, match="argument `p_values`"):
        stats.holm([1.5])


def test_decide_needs_holm_and_the_sign():
    strong = stats.paired_comparison({0: 0.80, 1: 0.83, 2: 0.81},
                                     {0: 0.60, 1: 0.62, 2: 0.62})
    out = stats.decide([strong])
    assert out[0]["verdict"] == "a" and out[0]["family_size"] == 1
    assert out[0]["p_holm"] == pytest.approx(strong["p_value"])
    # The same p-value in a family of 100: not significant after Holm.
    crowded = stats.decide([strong], family_size=100)[0]
    assert crowded["verdict"] == "no detectable difference"
    assert crowded["p_holm"] == pytest.approx(100 * strong["p_value"])
    assert "Holm p=" in crowded["reason"] and "MDE" in crowded["reason"]
    # A significant mean whose sign fails in half of the seeds: no win.
    split = dict(strong, p_value=1e-6, sign_agreement=2, n=4)
    assert stats.decide([split])[0]["verdict"] == "no detectable difference"
    # Inputs are not modified.
    assert "verdict" not in strong
    with pytest.raises(ValueError, match="argument `alpha`"):
        stats.decide([strong], alpha=5)


def test_decide_mde_is_the_family_mde():
    rng = np.random.default_rng(3)
    tests = [stats.paired_comparison(dict(enumerate(rng.normal(0, 1, 5))),
                                     dict.fromkeys(range(5), 0.0))
             for _ in range(4)]
    for d in stats.decide(tests):
        assert d["mde"] == pytest.approx(stats.minimum_detectable_effect(
            d["sd_difference"], 5, family_size=4))


def test_win_is_a_family_of_one():
    a = {0: 0.80, 1: 0.82, 2: 0.81}
    b = {0: 0.60, 1: 0.63, 2: 0.61}
    assert stats.win(a, b)["verdict"] == "a"
    assert stats.win(b, a)["verdict"] == "b"
    # For a loss, lower is better: a's larger values lose.
    assert stats.win(a, b, higher_is_better=False)["verdict"] == "b"
    r = stats.win(a, b)
    assert r["p_holm"] == r["p_value"] and r["family_size"] == 1
    # threshold: the smallest |mean difference| significant at alpha.
    assert r["threshold"] == pytest.approx(
        stats.t_quantile(0.975, 2) * r["se"])
    # sqrt((0.01^2 + 0.0153^2) / 2): the arms' SDs, kept for reference.
    assert r["pooled_sd"] == pytest.approx(0.0129099445, rel=1e-8)
    identical = dict(enumerate(np.random.default_rng(0).normal(0.7, .02, 5)))
    result = stats.win(identical, dict(identical))
    assert result["verdict"] == "no detectable difference"
    assert result["mean_difference"] == 0.0


def test_win_needs_the_sign_in_most_seeds():
    # A large mean gap driven by one seed, the sign failing in two of three
    # seeds: never a win.
    r = stats.win({0: 10.0, 1: 1.0, 2: 1.0}, {0: 0.0, 1: 1.1, 2: 1.1})
    assert r["sign_agreement"] == 1
    assert r["verdict"] == "no detectable difference"


def test_more_seeds_detect_a_smaller_difference():
    # The old rule (2 x pooled SD) could never call this: the difference
    # (0.01) is far below the arms' SD (about 0.04). The paired mean is
    # what is tested, and with enough seeds it is detected.
    rng = np.random.default_rng(11)
    base = rng.normal(0.7, 0.05, 20)
    a = dict(enumerate(base + 0.01 + rng.normal(0, 0.005, 20)))
    b = dict(enumerate(base))
    few = stats.win({s: a[s] for s in range(2)}, {s: b[s] for s in range(2)})
    many = stats.win(a, b)
    assert few["verdict"] == "no detectable difference"
    assert many["verdict"] == "a" and many["pooled_sd"] > 0.03
    assert many["threshold"] < few["threshold"]


# -- power, MDE, seeds needed ----------------------------------------------


def test_power_reference_values():
    # SciPy 1.17.1 noncentral t (see tests/compare/test_student_t.py).
    assert stats.power(0.03, 0.015, 5) == pytest.approx(0.9088848681009402,
                                                        abs=1e-8)
    assert stats.power(0.03, 0.015, 5, family_size=6) == pytest.approx(
        0.4995157794921845, abs=1e-8)
    assert stats.power(0.3, 0.1, 10, family_size=18) == pytest.approx(
        0.9999387239545157, abs=1e-8)
    # Fewer than 3 seeds make no win (decide), whatever the spread.
    assert stats.power(0.1, 0.1, 1) == stats.power(0.1, 0.0, 2) == 0.0
    assert stats.power(0.1, 0.0, 3) == 1.0
    # MDE in SD units (sd_difference = 1): brentq on the SciPy power.
    for n, family, expected in [(3, 1, 3.2640435496995566),
                                (5, 1, 1.6819969659555547),
                                (5, 18, 3.6747805101160718),
                                (10, 9, 1.4605542332842443),
                                (20, 1, 0.6604416546230262)]:
        assert stats.minimum_detectable_effect(
            1.0, n, family_size=family) == pytest.approx(expected, rel=1e-7)
    # statsmodels TTestPower.solve_power(nobs=None), rounded up.
    assert stats.seeds_needed(0.03, 0.015) == 5
    assert stats.seeds_needed(0.03, 0.02, family_size=18) == 11
    assert stats.seeds_needed(0.01, 0.015) == 20
    assert stats.seeds_needed(0.005, 0.02, family_size=6) == 198
    assert stats.seeds_needed(0.005, 0.02, family_size=6,
                              max_seeds=197) is None


def test_power_rises_with_seeds_and_mde_falls():
    for family in (1, 6, 18):
        powers = [stats.power(0.02, 0.02, n, family_size=family)
                  for n in range(2, 41)]
        assert powers[0] == 0.0 and np.all(np.diff(powers) > 0)
        mdes = [stats.minimum_detectable_effect(0.02, n, family_size=family)
                for n in range(3, 41)]
        assert np.all(np.diff(mdes) < 0)
    assert stats.minimum_detectable_effect(0.02, 1) == math.inf
    assert stats.minimum_detectable_effect(0.02, 2) == math.inf
    assert math.isnan(stats.minimum_detectable_effect(math.nan, 3))
    assert stats.minimum_detectable_effect(0.0, 3) == 0.0


def test_seeds_needed_is_the_first_n_with_enough_power():
    for effect, sd, family in [(0.03, 0.01, 1), (0.02, 0.03, 6),
                               (0.01, 0.02, 18)]:
        n = stats.seeds_needed(effect, sd, family_size=family)
        assert stats.power(effect, sd, n, family_size=family) >= 0.8
        assert stats.power(effect, sd, n - 1, family_size=family) < 0.8
        mde = stats.minimum_detectable_effect(sd, n, family_size=family)
        assert mde <= effect < stats.minimum_detectable_effect(
            sd, n - 1, family_size=family)
    assert stats.seeds_needed(0.01, 0.0) == 3


@pytest.mark.parametrize("call,argument", [
    (lambda: stats.seeds_needed(0.0, 0.01), "effect"),
    (lambda: stats.seeds_needed(-0.02, 0.01), "effect"),
    (lambda: stats.power(0.0, 0.01, 5), "effect"),
    (lambda: stats.power(math.nan, 0.01, 5), "effect"),
    (lambda: stats.seeds_needed(0.02, -0.01), "sd_difference"),
    (lambda: stats.seeds_needed(0.02, math.nan), "sd_difference"),
    (lambda: stats.minimum_detectable_effect(-1.0, 5), "sd_difference"),
    (lambda: stats.power(0.02, 0.01, 0), "n"),
    (lambda: stats.power(0.02, 0.01, 2.5), "n"),
    (lambda: stats.power(0.02, 0.01, 5, alpha=1.5), "alpha"),
    (lambda: stats.power(0.02, 0.01, 5, family_size=0), "family_size"),
    (lambda: stats.minimum_detectable_effect(0.01, 5, power=80), "power"),
    (lambda: stats.seeds_needed(0.02, 0.01, max_seeds=1), "max_seeds"),
])
def test_bad_power_arguments_raise_in_keras_wording(call, argument):
    with pytest.raises(ValueError,
                       match=f"Invalid value received for argument "
                             f"`{argument}`. Expected .* Received: "
                             f"{argument}="):
        call()


# -- simulations: fast versions run by default, large ones with -m large ---


@pytest.mark.parametrize("reports", [
    200, pytest.param(2000, marks=pytest.mark.large)])
def test_family_wise_false_win_rate_on_identical_arms(reports):
    # 4 identical arms x 3 evaluations, nested probe seeds, n seeds.
    for n in (3, 5, 10):
        counts = false_win_counts(100 + n, n, reports)
        _, high = binomial_range(reports, 0.05)
        assert counts[0] <= high and counts[1] <= high, (n, counts, high)


@pytest.mark.parametrize("trials", [
    400, pytest.param(4000, marks=pytest.mark.large)])
def test_detection_rate_agrees_with_power_and_rises_with_seeds(trials):
    # Two seeds never win, however strong the effect looks.
    assert detection_rate(2, 0.02, 0.02, 2, trials) == 0
    rates = []
    for n in (3, 5, 8):
        hits = detection_rate(n, 0.02, 0.02, n, trials)
        low, high = binomial_range(trials, stats.power(0.02, 0.02, n))
        assert low <= hits <= high, (n, hits, low, high)
        rates.append(hits)
    assert rates == sorted(rates) and rates[-1] > rates[0]


@pytest.mark.parametrize("trials", [
    300, pytest.param(3000, marks=pytest.mark.large)])
def test_published_size_effect_is_detected_at_realistic_sds(trials):
    # 0.03 accuracy (BERT-scale understanding gaps) at paired SDs of
    # 0.01-0.02 with 5 seeds, tested inside a Holm family of 6. Holm is
    # at least as powerful as the Bonferroni figure `power` predicts.
    for sd in (0.01, 0.015, 0.02):
        hits = detection_rate(int(sd * 1000), 0.03, sd, 5, trials,
                              family_size=6)
        low, _ = binomial_range(trials, stats.power(0.03, sd, 5,
                                                    family_size=6))
        assert hits >= low, (sd, hits, low)


@pytest.mark.parametrize("trials", [
    400, pytest.param(4000, marks=pytest.mark.large)])
def test_mde_and_seeds_needed_agree_with_simulation(trials):
    for sd, n in ((0.02, 4), (0.01, 6)):
        mde = stats.minimum_detectable_effect(sd, n)
        hits = detection_rate(7 * n, mde, sd, n, trials)
        low, high = binomial_range(trials, 0.8)
        assert low <= hits <= high, (sd, n, hits, low, high)
    needed = stats.seeds_needed(0.02, 0.02, family_size=3)
    hits = detection_rate(1, 0.02, 0.02, needed, trials, family_size=3)
    assert hits >= binomial_range(trials, 0.8)[0], (needed, hits)


def test_equivalence_tost():
    a = {0: 0.700, 1: 0.710, 2: 0.705, 3: 0.702}
    close = {0: 0.701, 1: 0.709, 2: 0.706, 3: 0.701}
    far = {0: 0.650, 1: 0.660, 2: 0.655, 3: 0.652}
    assert stats.equivalence(a, close, margin=0.01)["equivalent"]
    result = stats.equivalence(a, far, margin=0.01)
    assert not result["equivalent"] and result["low"] > 0.01
    # Noisy differences: not shown equivalent even if the mean is 0.
    noisy = {0: 0.60, 1: 0.80, 2: 0.62, 3: 0.79}
    noisy_b = {0: 0.80, 1: 0.60, 2: 0.79, 3: 0.62}
    assert not stats.equivalence(noisy, noisy_b, margin=0.05)["equivalent"]
    with pytest.raises(ValueError, match="margin"):
        stats.equivalence(a, close, margin=0)


def test_t_quantile_and_direction():
    # scipy.stats.t.ppf(0.95, df) with SciPy 1.17.1.
    assert stats.t_quantile_95(1) == pytest.approx(6.3137515147, abs=1e-8)
    assert stats.t_quantile_95(4) == pytest.approx(2.1318467863, abs=1e-8)
    assert stats.t_quantile_95(1000) == pytest.approx(1.645, abs=0.01)
    assert not stats.higher_is_better("bits_per_byte")
    assert stats.higher_is_better("f1")
