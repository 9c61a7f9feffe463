"""Decide what a comparison found: controls, paired tests, power, claims.

Three kinds of test, all paired over pre-training seeds (the unit of
replication; probe seeds are averaged inside each) on each evaluation's
primary metric at the final checkpoint:

* **arm vs its untrained reference**: the same body, same seed, at step 0,
  read with the same attention (one reference per attention mode: a
  causal arm against the untrained causal body). An arm that does not beat
  it is flagged: pre-training taught nothing measurable at this budget;
* **best arm vs each other arm**: the raw difference, and beside it the
  difference of their gains over their own references, which separates
  what the objective taught from what the attention mask gives for free;
* **claims**: the published findings the arms can test (`claims.py`).

The first two form one family, Holm-corrected together; the claims are
pre-registered hypotheses and form a second family. Every metric is
oriented so that a positive difference means "better" before testing.
Power: the minimum detectable effect at the observed SD of the paired
differences and the seeds run, at the family's Holm worst-case alpha, and
the seeds that would detect the published (or a given) effect.
"""

import math

from keras_objectives.compare import claims as claims_lib
from keras_objectives.compare import stats
from keras_objectives.compare.paired import TWO_SEEDS

ALPHA = 0.05
ONE_SEED = "one seed: no statistics"
TAUGHT_NOTHING = ("pre-training taught nothing measurable at this budget")


def group_of(attention_mode):
    """The untrained-reference group of an attention mode.

    Probes read prefix bodies bidirectionally (their whole input is the
    prefix), so prefix arms share the bidirectional reference.

    >>> group_of("prefix"), group_of("causal"), group_of("encoder_decoder")
    ('bidirectional', 'causal', 'encoder')
    """
    return {"causal": "causal", "encoder_decoder": "encoder"}.get(
        attention_mode, "bidirectional")


def references(recipe, plan):
    """`{group: reference arm}` and `{arm: group}` for a recipe.

    The reference of a group is its first arm in recipe order: its step-0
    weights are the untrained body of that group, with the same seeds.
    """
    groups, arm_group = {}, {}
    for arm in (recipe or {}).get("arms", []):
        mode = (plan or {}).get(arm["name"], {}).get("attention_mode")
        group = group_of(mode)
        arm_group[arm["name"]] = group
        groups.setdefault(group, arm["name"])
    return groups, arm_group


def untrained_name(group):
    return f"untrained ({group})"


def _oriented(values, higher):
    """`{seed: value}` with the sign flipped for lower-is-better metrics."""
    return {s: (v if higher else -v) for s, v in values.items()}


def _gains(values, reference):
    return {s: values[s] - reference[s] for s in values if s in reference}


def _test(kind, label, metric, a, b, a_values, b_values, higher):
    test = stats.paired_comparison(_oriented(a_values, higher),
                                   _oriented(b_values, higher))
    return {**test, "kind": kind, "evaluation": label, "metric": metric,
            "a": a, "b": b, "higher_is_better": higher}


def table_tests(table, arm_group):
    """The family tests of one evaluation table (not yet Holm-decided)."""
    metric = table["primary"]
    by_arm = table["metrics"].get(metric, {})
    untrained = table["untrained"].get(metric, {})
    higher = stats.higher_is_better(metric)
    tests = []
    for arm in table["ranking"]:
        ref = untrained.get(arm_group.get(arm))
        if ref:
            tests.append(_test("untrained", table["label"], metric, arm,
                               untrained_name(arm_group[arm]),
                               by_arm[arm]["values"], ref["values"],
                               higher))
    best = table["ranking"][0] if table["ranking"] else None
    for other in table["ranking"][1:]:
        test = _test("pair", table["label"], metric, best, other,
                     by_arm[best]["values"], by_arm[other]["values"],
                     higher)
        refs = [untrained.get(arm_group.get(a)) for a in (best, other)]
        if all(refs):
            gain = stats.paired_comparison(
                _gains(_oriented(by_arm[best]["values"], higher),
                       _oriented(refs[0]["values"], higher)),
                _gains(_oriented(by_arm[other]["values"], higher),
                       _oriented(refs[1]["values"], higher)))
            test["gain_difference"] = gain
        tests.append(test)
    return tests


def winner(tests):
    """`{"winner": arm or None, "unlearned": [arms]}`.

    The winner is the best-ranked arm when it wins (Holm-decided) every
    pair test of its evaluation; `unlearned` lists the arms that have an
    untrained reference on it and do not beat it over enough seeds to
    tell (3 or more).
    """
    pairs = [t for t in tests if t["kind"] == "pair"]
    best = pairs[0]["a"] if pairs else None
    won = bool(pairs) and all(t.get("verdict") == "a" for t in pairs)
    return {"winner": best if won else None,
            "unlearned": [t["a"] for t in tests if t["kind"] == "untrained"
                          and t["n"] >= stats.MIN_SEEDS_FOR_A_WIN
                          and t.get("verdict") != "a"]}


def family_size(tables, arm_group):
    """The size of the verdicts' family: every test the report could run.

    The best arm is chosen after seeing the data, so Holm must count every
    pair of arms, not only the best one's tests (otherwise identical arms
    produce false wins above 5%): per evaluation, `k (k - 1) / 2` pairs
    plus `k` arm-vs-untrained tests.
    """
    size = 0
    for table in tables:
        k = len(table["ranking"])
        with_reference = sum(
            1 for arm in table["ranking"]
            if table["untrained"].get(table["primary"], {}).get(
                arm_group.get(arm)))
        size += k * (k - 1) // 2 + with_reference
    return max(size, 1)


def decide_family(tests, size=None):
    """Holm-correct a family in place (`size`: see `family_size`)."""
    decided = stats.decide(tests, alpha=ALPHA, family_size=size) if tests \
        else []
    for test, result in zip(tests, decided, strict=True):
        test.update(result)
    return tests


def _interval(test, digits=3):
    if test["n"] < 2:
        return f"{test['mean_difference']:+.{digits}f} ({ONE_SEED})"
    return (f"{test['mean_difference']:+.{digits}f} "
            f"[{test['ci_low']:+.{digits}f}, {test['ci_high']:+.{digits}f}]")


def _p(test):
    p = test.get("p_holm")
    return "" if p is None or not math.isfinite(p) else f", Holm p={p:.2g}"


def verdict_text(table, tests):
    """One paragraph: gains over the untrained body, then the ranking."""
    metric = table["primary"]
    if not table["ranking"]:
        return f"{table['label']}: no results; no verdict."
    parts = []
    gains = [t for t in tests if t["kind"] == "untrained"]
    if gains:
        shown = []
        for t in gains:
            flag = ""
            if t["n"] >= stats.MIN_SEEDS_FOR_A_WIN and t["verdict"] != "a":
                flag = f" — {TAUGHT_NOTHING}"
            body = t["b"].replace("untrained (", "untrained ").rstrip(")")
            shown.append(f"{t['a']} {_interval(t)} over the {body} body"
                         f"{_p(t)}{flag}")
        parts.append("; ".join(shown))
    for t in tests:
        if t["kind"] != "pair":
            continue
        call = {"a": f"{t['a']} beats {t['b']}",
                "b": f"{t['b']} beats {t['a']}"}.get(
            t["verdict"], f"no detectable difference between {t['a']} and "
            f"{t['b']}" if t["n"] >= 2 else f"{t['a']} vs {t['b']}")
        text = f"{call}: {_interval(t)}{_p(t)}"
        gain = t.get("gain_difference")
        if gain and gain["n"] >= 2:
            text += f"; difference in gains over their references " \
                    f"{_interval(gain)}"
        parts.append(text)
    if not parts:
        only = ", ".join(table["ranking"])
        parts.append(f"only {only} defines this metric here, and it has no "
                     "untrained reference: nothing to compare")
    most = max((t["n"] for t in tests), default=None)
    if most is None:  # No test: the seeds the arms have.
        most = max((len(v.get("values") or {}) for v in table["metrics"].get(
            metric, {}).values()), default=0)
    if most < 2:
        parts.append("one seed: no statistics")
    elif most == 2:
        parts.append(TWO_SEEDS)
    head = f"{table['label']} ({metric}"
    head += ", lower is better)" if not stats.higher_is_better(
        metric) else ")"
    return f"{head}: " + ". ".join(parts) + "."


def power_row(table, tests, family_size, effect=None):
    """Minimum detectable effect and seeds needed for one evaluation."""
    pairs = [t for t in tests if t["n"] >= 2
             and math.isfinite(t.get("sd_difference", math.nan))]
    n = max((t["n"] for t in tests), default=0)
    row = {"evaluation": table["label"], "metric": table["primary"],
           "seeds": n, "family_size": family_size, "sd_difference": None,
           "mde": None, "effect": effect, "seeds_needed": None}
    if not pairs:
        return row
    sd = math.sqrt(sum(t["sd_difference"] ** 2 for t in pairs) / len(pairs))
    row["sd_difference"] = sd
    if sd > 0 and n >= 2:
        row["mde"] = stats.minimum_detectable_effect(
            sd, n, alpha=ALPHA, family_size=family_size)
        if effect:
            row["seeds_needed"] = stats.seeds_needed(
                effect, sd, alpha=ALPHA, family_size=family_size)
    return row


def _claim_values(table, metric, arm):
    return table["metrics"].get(metric, {}).get(arm, {}).get("values")


def claim_rows(recipe, tables):
    """One row per matched claim x evaluation that measures it."""
    rows = []
    for match in claims_lib.match_claims(recipe or {}):
        claim = match["claim"]
        for name in claim.evaluations:
            for table in tables:
                if table["name"] != name or table["use"] != claim.use:
                    continue
                metric = table["primary"]
                a = _claim_values(table, metric, match["a"])
                b = _claim_values(table, metric, match["b"])
                if not a or not b:
                    continue
                higher = stats.higher_is_better(metric)
                test = _test("claim", table["label"], metric, match["a"],
                             match["b"], a, b, higher)
                row = {"claim": claim, "test": test, "a": match["a"],
                       "b": match["b"], "evaluation": table["label"],
                       "metric": metric,
                       "learned": _learned(table, (match["a"],
                                                   match["b"]))}
                if claim.kind == "equivalent":
                    row["equivalence"] = stats.equivalence(
                        a, b, claim.margin)
                rows.append(row)
    decide_family([r["test"] for r in rows])
    family = max(1, len(rows))
    for row in rows:
        test, claim = row["test"], row["claim"]
        row["outcome"] = claims_lib.judge(claim, test,
                                          row.get("equivalence"))
        if row["learned"] and not any(row["learned"].values()):
            row["outcome"] = "not tested"
        sd = test.get("sd_difference")
        if test["n"] >= 2 and sd and math.isfinite(sd) and sd > 0:
            row["mde"] = stats.minimum_detectable_effect(
                sd, test["n"], alpha=ALPHA, family_size=family)
            target = claim.effect or abs(test["mean_difference"]) or None
            row["effect_for_seeds"] = target
            row["seeds_needed"] = (stats.seeds_needed(
                target, sd, alpha=ALPHA, family_size=family)
                if target else None)
    return rows


def _learned(table, arms):
    """`{arm: beats its untrained reference}` for arms that have one.

    Empty when the table has no untrained reference (controls off, or an
    evaluation the untrained body does not take) or under 3 seeds (no
    test can be a win).
    """
    learned = {}
    for test in table.get("tests", ()):
        if test["kind"] == "untrained" and test["a"] in arms \
                and test["n"] >= stats.MIN_SEEDS_FOR_A_WIN:
            learned[test["a"]] = test.get("verdict") == "a"
    return learned


def claim_summary(row):
    """`reproduced` / `contradicted` / `not tested` / `inconclusive (...)`.

    A claim compares what two objectives *taught*. When neither arm beats
    its untrained body on the evaluation, the difference between them is a
    difference between two bodies that learned nothing measurable, so the
    claim is `not tested`; when only one did, the outcome stands with a
    note naming the other.
    """
    outcome = row["outcome"]
    test = row["test"]
    learned = row.get("learned") or {}
    flat = [arm for arm in (row["a"], row["b"])
            if learned.get(arm) is False]
    if outcome == "not tested":
        return ("not tested: neither " + " nor ".join(flat)
                + " beats the untrained body here (pre-training taught "
                "nothing measurable at this budget)")
    if test["n"] < 2:
        return f"inconclusive ({ONE_SEED})"
    note = (f"; {flat[0]} does not beat the untrained body"
            if flat else "")
    if outcome != "inconclusive":
        return outcome + (f" ({note[2:]})" if note else "")
    details = []
    if row.get("mde") is not None and math.isinf(row["mde"]):
        details.append("2 seeds make no win")
    elif row.get("mde") is not None:
        details.append(f"MDE {row['mde']:.3g}")
    needed = row.get("seeds_needed")
    target = row.get("effect_for_seeds")
    if target:
        which = "the published effect" if row["claim"].effect else (
            "the measured difference")
        details.append(
            f"{which} {target:.3g} would need "
            + (f"{needed} seeds" if needed else "more than 1000 seeds"))
    if note:
        details.append(note[2:])
    return "inconclusive" + (f" ({'; '.join(details)})" if details else "")
