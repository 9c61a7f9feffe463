"""Turn collected runs and tidy rows into the numbers a report shows.

Per arm: the objective, its attention mode, planned steps and consumed
tokens / FLOPs / loss-bearing positions, wall time and throughput, and the
runs that failed. Per evaluation: mean ± SD and a bootstrap CI over
pre-training seeds for every metric at the final step, the controls (the
untrained reference of each attention mode, the no-context control, the
majority line), the paired tests and power of `findings`, equivalence for
declared `expected_null` pairs, the published claims the arms can test,
and one verdict line per use (understanding, generation, intrinsic) that
never calls a difference inside the noise a win.
"""

import math

from keras_objectives.compare import stats

USES = ("understanding", "generation", "intrinsic")
# Bookkeeping numbers the instruments return: kept in results.csv, not
# shown as metrics in the report.
HIDDEN = ("tokens", "bytes", "total_nll", "documents", "pairs", "ties",
          "classes", "train_examples", "feature_dim", "truncated",
          "train_words", "truncated_words", "epochs", "learning_rate")
# Metrics of the controls an instrument reports beside its own.
CONTROL_PREFIXES = ("pairs_", "no_context_", "majority_")


def shown_metric(metric):
    """Whether a metric is a score (shown) or bookkeeping / a control.

    >>> shown_metric("dev_accuracy"), shown_metric("pairs_swap")
    (True, False)
    >>> shown_metric("no_context_dev_accuracy")
    False
    """
    return not (metric in HIDDEN or metric.startswith(CONTROL_PREFIXES)
                or metric.endswith("_sd"))


def _mean(values):
    values = [v for v in values if isinstance(v, (int, float))
              and math.isfinite(v)]
    return sum(values) / len(values) if values else None


def arm_table(collection):
    """One dict per arm: setup, consumption and failures."""
    recipe, plan = collection["recipe"] or {}, collection["plan"] or {}
    names = [a["name"] for a in recipe.get("arms", [])] or sorted(
        {r["arm"] for r in collection["runs"]})
    table = []
    for name in names:
        runs = [r for r in collection["runs"] if r["arm"] == name]
        done = [r["summary"] for r in runs if r["status"] == "completed"]
        p = plan.get(name, {})
        objective = p.get("objective") or next(
            (s.get("objective") for s in done), None)
        table.append({
            "arm": name,
            "objective": objective,
            "attention_mode": p.get("attention_mode"),
            "architecture": p.get("architecture"),
            "steps": p.get("steps") or _mean([s.get("steps") for s in done]),
            "tokens": _mean([s.get("tokens_seen") for s in done])
            or p.get("tokens"),
            "flops": _mean([s.get("training_flops") for s in done])
            or p.get("flops"),
            "loss_positions": _mean([s.get("loss_positions_seen")
                                     for s in done]) or p.get(
                "loss_positions"),
            "loss_position_share": p.get("loss_position_share"),
            "epochs": p.get("epochs"),
            "vocabulary_size": p.get("vocabulary_size"),
            "parameters": p.get("parameters") or _mean(
                [s.get("parameters") for s in done]),
            "wall_time": _mean([s.get("wall_time") for s in done]),
            "tokens_per_second": stats.describe(
                [s.get("tokens_per_second") for s in done]),
            "held_out_loss": stats.describe(
                [s.get("held_out_loss") for s in done]),
            "completed": len(done),
            "seeds": len(runs),
            "failures": [
                {"seed": r["seed"], "status": r["status"],
                 "reason": r["failure"]} for r in runs
                if r["status"] in ("diverged", "failed", "broken")],
            "pending": [r["seed"] for r in runs
                        if r["status"] in ("missing", "incomplete")],
        })
    return table


def final_values(rows, collection, label, metric, step=None):
    """`{arm: {seed: value}}` of one metric at each run's final step.

    With `step=0`, the values of the runs' initial weights (the untrained
    reference) instead.
    """
    final = {(r["arm"], r["seed"]): (r["summary"].get("steps")
                                     if step is None else step)
             for r in collection["runs"] if r["status"] == "completed"}
    out = {}
    for row in rows:
        key = (row["arm"], row["seed"])
        if (row["evaluation"] == label and row["metric"] == metric
                and key in final and row["step"] == final[key]):
            out.setdefault(row["arm"], {})[row["seed"]] = row["value"]
    return out


def _evaluations(collection):
    recipe = collection["recipe"] or {}
    entries = list(recipe.get("evaluations", []))
    if entries:
        return entries
    labels = {}
    for run in collection["runs"]:
        for entry in run["evals"].values():
            labels.setdefault(entry["label"], entry["evaluation"])
    from keras_objectives.compare.recipe import normalize_evaluation

    return [{**normalize_evaluation(name, 0), "label": label}
            for label, name in sorted(labels.items())]


def _described(values):
    return {**stats.describe(list(values.values())), "values": values}


def _controls(rows, collection, label, metrics, references):
    """Untrained references, no-context control and majority line."""
    untrained, no_context, majority = {}, {}, {}
    for metric in metrics:
        at_zero = final_values(rows, collection, label, metric, step=0)
        for group, arm in references.items():
            if at_zero.get(arm):
                untrained.setdefault(metric, {})[group] = _described(
                    at_zero[arm])
        for arm, values in final_values(
                rows, collection, label, "no_context_" + metric).items():
            no_context.setdefault(metric, {})[arm] = _described(values)
        lines = [v for arm_values in final_values(
            rows, collection, label, "majority_" + metric).values()
            for v in arm_values.values()]
        if lines:
            majority[metric] = sum(lines) / len(lines)
    return untrained, no_context, majority


def evaluation_tables(rows, collection, arm_names, references=None):
    """Per evaluation: per metric and arm `describe`, with the controls.

    Each table has `metrics[metric][arm]`, `untrained[metric][group]`
    (the step-0 scores of each group's reference arm), `no_context[metric]
    [arm]`, `majority[metric]`, `ranking` (arms by primary-metric mean,
    best first) and `notes` (failed or not-applicable evaluations).
    """
    references = references or {}
    out = []
    for entry in _evaluations(collection):
        label = entry["label"]
        metrics = sorted({r["metric"] for r in rows
                          if r["evaluation"] == label
                          and shown_metric(r["metric"])})
        primary = entry["metric"] if entry["metric"] in metrics else (
            metrics[0] if metrics else entry["metric"])
        table = {"label": label, "name": entry["name"], "use": entry["use"],
                 "primary": primary, "metrics": {}, "notes": {}}
        for metric in metrics:
            values = final_values(rows, collection, label, metric)
            table["metrics"][metric] = {
                arm: _described(values[arm])
                for arm in arm_names if arm in values}
        (table["untrained"], table["no_context"],
         table["majority"]) = _controls(rows, collection, label, metrics,
                                        references)
        by_arm = table["metrics"].get(primary, {})
        table["ranking"] = sorted(
            by_arm, key=lambda a: by_arm[a]["mean"],
            reverse=stats.higher_is_better(primary))
        for run in collection["runs"]:
            for e in run["evals"].values():
                if e["label"] == label and e.get("status") != "ok":
                    table["notes"].setdefault(run["arm"], f"{e['status']}: "
                                              f"{e.get('reason')}")
        out.append(table)
    return out


def equivalences(recipe, tables):
    """TOST results for the recipe's `expected_null` pairs."""
    out = []
    for pair in (recipe or {}).get("expected_null", []):
        a, b = pair["arms"]
        for table in tables:
            if pair.get("evaluation") not in (None, table["label"],
                                              table["name"]):
                continue
            metric = pair.get("metric") or table["primary"]
            by_arm = table["metrics"].get(metric, {})
            if a in by_arm and b in by_arm:
                test = stats.equivalence(by_arm[a]["values"],
                                         by_arm[b]["values"], pair["margin"])
                out.append({"a": a, "b": b, "evaluation": table["label"],
                            "metric": metric, **test})
    return out


def _effect(recipe, table):
    """The user's effect size of interest for one evaluation, if any."""
    power = (recipe or {}).get("power") or {}
    effect = power.get("effect")
    if isinstance(effect, dict):
        effect = effect.get(table["label"], effect.get(table["name"]))
    return effect


def analyze(collection, rows):
    """Everything the report renders, as one dict."""
    from keras_objectives.compare import findings

    recipe = collection["recipe"] or {}
    arms = arm_table(collection)
    names = [a["arm"] for a in arms]
    groups, arm_group = findings.references(recipe, collection["plan"])
    controls = (recipe.get("controls") or {}).get("untrained", True)
    tables = evaluation_tables(rows, collection, names,
                               groups if controls else {})
    per_table = [findings.table_tests(t, arm_group) for t in tables]
    family = findings.family_size(tables, arm_group)
    findings.decide_family([t for tests in per_table for t in tests],
                           family)
    for table, tests in zip(tables, per_table, strict=True):
        table["tests"] = tests
        table["verdict"] = {"text": findings.verdict_text(table, tests),
                            "ranking": table["ranking"],
                            "metric": table["primary"],
                            "higher_is_better": stats.higher_is_better(
                                table["primary"]),
                            **findings.winner(tests)}
        table["power"] = findings.power_row(table, tests, family,
                                            _effect(recipe, table))
    verdicts = {use: [t["verdict"]["text"] for t in tables
                      if t["use"] == use] for use in USES}
    return {
        "arms": arms,
        "references": groups,
        "evaluations": tables,
        "verdicts": verdicts,
        "equivalence": equivalences(recipe, tables),
        "claims": findings.claim_rows(recipe, tables),
        "rows": rows,
    }
