"""Turn collected runs and tidy rows into the numbers a report shows.

Per arm: the objective, its attention mode, planned steps and consumed
tokens / FLOPs / loss-bearing positions, wall time and throughput, and the
runs that failed. Per evaluation: mean ± SD and a bootstrap CI over
pre-training seeds for every metric at the final step, the win rule
between the best arm and each other one, equivalence for declared
`expected_null` pairs, and one verdict line per use (understanding,
generation, intrinsic) that never calls a difference inside the noise a
win.
"""

import math

from keras_objectives.compare import published as published_lib
from keras_objectives.compare import stats

USES = ("understanding", "generation", "intrinsic")
# Bookkeeping numbers the instruments return: kept in results.csv, not
# shown as metrics in the report.
HIDDEN = ("tokens", "bytes", "total_nll", "documents", "pairs", "ties",
          "classes", "train_examples", "feature_dim", "truncated",
          "train_words", "truncated_words", "epochs", "learning_rate")


def shown_metric(metric):
    """Whether a metric is a score (shown) or bookkeeping (hidden).

    >>> shown_metric("dev_accuracy"), shown_metric("pairs_swap")
    (True, False)
    """
    return not (metric in HIDDEN or metric.startswith("pairs_")
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


def final_values(rows, collection, label, metric):
    """`{arm: {seed: value}}` of one metric at each run's final step."""
    final = {(r["arm"], r["seed"]): r["summary"].get("steps")
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


def evaluation_tables(rows, collection, arm_names):
    """Per evaluation: per metric and arm `describe`, plus the verdict."""
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
                arm: {**stats.describe(list(values[arm].values())),
                      "values": values[arm]}
                for arm in arm_names if arm in values}
        for run in collection["runs"]:
            for e in run["evals"].values():
                if e["label"] == label and e.get("status") != "ok":
                    table["notes"].setdefault(run["arm"], f"{e['status']}: "
                                              f"{e.get('reason')}")
        table["verdict"] = verdict(table, primary)
        out.append(table)
    return out


def verdict(table, metric):
    """Rank arms on `metric`; test the best against every other arm."""
    by_arm = table["metrics"].get(metric, {})
    higher = stats.higher_is_better(metric)
    ranked = sorted(by_arm, key=lambda a: by_arm[a]["mean"],
                    reverse=higher)
    result = {"metric": metric, "higher_is_better": higher,
              "ranking": ranked, "tests": [], "text": ""}
    if len(ranked) < 2:
        result["text"] = (f"{table['label']}: not enough arms with results "
                          f"({', '.join(ranked) or 'none'}); no verdict.")
        return result
    best = ranked[0]
    beaten, tied, untested = [], [], []
    for other in ranked[1:]:
        test = stats.win(by_arm[best]["values"], by_arm[other]["values"],
                         higher_is_better=higher)
        result["tests"].append({"a": best, "b": other, **test})
        if test["n"] < 2:
            untested.append((other, test))
        else:
            (beaten if test["verdict"] == "a" else tied).append((other, test))
    parts = []
    if beaten:
        parts.append(f"{best} beats " + ", ".join(
            f"{o} (Δ={t['mean_difference']:+.4g}, 2×SD={t['threshold']:.3g},"
            f" {t['sign_agreement']}/{t['n']} seeds)" for o, t in beaten))
    if tied:
        parts.append("no detectable difference between " + best + " and "
                     + ", ".join(f"{o} (Δ={t['mean_difference']:+.4g}, "
                                 f"2×SD={t['threshold']:.3g})"
                                 for o, t in tied))
    if untested and not (beaten or tied):
        parts.append(f"best mean {best}")
    if untested:
        parts.append("not tested against " + ", ".join(
            f"{o} ({t['n']} shared seed{'s' if t['n'] != 1 else ''})"
            for o, t in untested))
    result["winner"] = best if beaten and not tied else None
    result["text"] = f"{table['label']} ({metric}): " + "; ".join(parts) + "."
    seeds = max((t["n"] for t in result["tests"]), default=0)
    if 0 < seeds < 3:
        result["text"] += (f" Only {seeds} shared seeds (METHOD.md asks for "
                           "3 or more): treat this as screening, not a "
                           "finding.")
    return result


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


def published_notes(recipe, tables):
    """'published: ..., measured here: ...' for matching findings."""
    notes = []
    if not recipe:
        return notes
    axis = next(iter(recipe["budget"]))
    # Published findings are downstream (GLUE, SQuAD) results: compare
    # with understanding measures, or the intrinsic one when none ran.
    primary = [t for t in tables if t["use"] == "understanding"
               and t["metrics"].get(t["primary"])] or [
        t for t in tables if t["use"] == "intrinsic"]
    for finding in published_lib.match(recipe):
        measured = []
        for table in primary:
            by_arm = table["metrics"].get(table["primary"], {})
            arms = [a for a in finding["arms"] if a in by_arm]
            if len(arms) < 2:
                continue
            shown = ", ".join(
                f"{a} {by_arm[a]['mean']:.4g} ± {_sd(by_arm[a]['sd'])}"
                for a in arms)
            if "pair" in finding:
                test = stats.win(
                    by_arm[arms[0]]["values"], by_arm[arms[1]]["values"],
                    higher_is_better=stats.higher_is_better(
                        table["primary"]))
                call = {"a": f"{arms[0]} wins", "b": f"{arms[1]} wins"}.get(
                    test["verdict"], "no detectable difference")
                agree = _agreement(finding.get("expected"), test["verdict"])
                measured.append(f"{table['label']} {table['primary']}: "
                                f"{shown} → {call}{agree}")
            else:
                best = table["verdict"]["ranking"][0]
                measured.append(f"{table['label']} {table['primary']}: "
                                f"{shown} → best {best} "
                                f"({table['verdict']['text']})")
        caveat = ""
        if finding.get("budget") and finding["budget"] != axis:
            caveat = (f" The published contrast is at equal "
                      f"{finding['budget']}; this comparison is at equal "
                      f"{axis}.")
        notes.append({
            "source": finding["source"], "published": finding["published"],
            "measured": measured or ["no shared evaluation results yet"],
            "caveat": caveat + " " + published_lib.SCALE_NOTE,
        })
    return notes


def _sd(value):
    return "n/a" if value is None or not math.isfinite(value) else (
        f"{value:.2g}")


def _agreement(expected, observed):
    if expected is None:
        return (" (published: no real difference; agrees)"
                if observed not in ("a", "b") else
                " (published: no real difference; differs)")
    if observed not in ("a", "b"):
        return " (published direction not detected at this scale)"
    return (" (same direction as published)" if observed == expected
            else " (opposite to published)")


def analyze(collection, rows):
    """Everything the report renders, as one dict."""
    arms = arm_table(collection)
    names = [a["arm"] for a in arms]
    tables = evaluation_tables(rows, collection, names)
    verdicts = {use: [t["verdict"]["text"] for t in tables
                      if t["use"] == use] for use in USES}
    return {
        "arms": arms,
        "evaluations": tables,
        "verdicts": verdicts,
        "equivalence": equivalences(collection["recipe"], tables),
        "published": published_notes(collection["recipe"], tables),
        "rows": rows,
    }
