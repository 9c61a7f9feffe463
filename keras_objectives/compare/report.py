"""`report.md` and a self-contained `report.html` from a comparison dir.

`write_report(workdir)` reads the run dirs and their cached evaluations,
writes the tidy `results.csv`/`results.json`, and renders the report:
verdicts per use, the setup (what was held fixed, the budget, what each arm
consumed on every compute axis), a table per evaluation with mean ± SD and
a bootstrap CI, failed runs, published-vs-measured notes and the figures
(embedded as base64 PNG in the HTML, files under `plots/` for Markdown).
It never trains or evaluates: `keras-objectives report D` only reads.
"""

import datetime
import math
import os

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.compare import analysis as analysis_lib
from keras_objectives.compare import claims as claims_lib
from keras_objectives.compare import plots as plots_lib
from keras_objectives.compare import results as results_lib
from keras_objectives.compare.render import render_html
from keras_objectives.compare.render import render_markdown
from keras_objectives.compare.timing import timing_blocks
from keras_objectives.utils import atomic_write_text

WIN_RULE = ("Every test is paired over pre-training seeds (the unit of "
            "replication; probe seeds are averaged inside each): a two-sided "
            "paired t-test on the mean difference, Holm-corrected across all "
            "the tests of this report (claims form a second family). A "
            "difference is a win only when the corrected p < 0.05, its "
            "sign holds in most seeds and there are at least 3 seeds; "
            "intervals are 95% t-intervals of the "
            "mean paired difference. See docs/methodology.md.")
CONTROLS = ("Controls: **untrained** rows are the same body with the same "
            "seeds at step 0, read with the same attention (one reference "
            "per attention mode: causal arms are judged against the "
            "untrained causal body); **gain** is an arm's paired difference "
            "from its own reference; **no context** is the same probe on "
            "the body's bare token embeddings (no Transformer layer), which "
            "separates learned context from learned word identity; the "
            "**majority** row predicts the most frequent training label.")


def fmt(value, digits=4):
    """Numbers for tables: `–` for missing, 3 significant digits if large.

    >>> fmt(None), fmt(1.5e12), fmt(0.123456), fmt(12), fmt(362496)
    ('–', '1.5e+12', '0.1235', '12', '362,496')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int) or (float(value).is_integer()
                                  and abs(value) >= 100):
        return f"{int(value):,}" if abs(value) < 1e7 else f"{value:.3g}"
    if abs(value) >= 1e4 or 0 < abs(value) < 1e-3:
        return f"{value:.3g}"
    if abs(value) >= 100:
        return f"{value:.{min(digits, 1)}f}"
    return f"{value:.{digits}f}"


def _mean_sd(d, digits=4):
    """`mean ± SD`; the SD with 2 significant digits (no exponent)."""
    if not d or not d.get("n"):
        return "–"
    if d["n"] < 2:
        return fmt(d["mean"], digits)
    sd = d["sd"]
    shown = f"{sd:.0f}" if abs(sd) >= 100 else f"{sd:.2g}"
    return f"{fmt(d['mean'], digits)} ± {shown}"


def _ci(d):
    if not d or d.get("n", 0) < 2:
        return "–"
    return f"[{fmt(d['ci_low'])}, {fmt(d['ci_high'])}]"


def _variable(variable):
    names = [variable] if isinstance(variable, str) else list(variable)
    names = ["objective"] + [n for n in names if n != "objective"]
    return ", ".join(f"`{n}`" for n in names)


def _vocabulary(requested, arms):
    """The vocabulary actually used (from the plan), and the request."""
    used = {a.get("vocabulary_size") for a in arms} - {None}
    if not used or used == {requested}:
        return fmt(requested)
    return (", ".join(fmt(u) for u in sorted(used))
            + f" (requested {fmt(requested)})")


def _setup_blocks(recipe, arms):
    blocks = []
    if recipe:
        base = recipe["base"]
        m, t, d = base["model"], base["training"], base["data"]
        held = [
            ["data (tokenizer corpus)", f"{d['source']} (vocabulary trained "
             "once, shared by every arm; all special tokens reserved)"],
            ["vocabulary size", _vocabulary(d["vocabulary_size"], arms)],
            ["sequence length", fmt(base["sequence_length"])],
            ["body", f"{m['backbone']}: {m['num_layers']} layers × "
             f"{m['hidden_dim']} hidden, {m['num_heads']} heads, "
             f"{m['intermediate_dim']} feed-forward, dropout {m['dropout']}"],
            ["optimizer", f"AdamW lr {t['learning_rate']}, weight decay "
             f"{t['weight_decay']}, clipnorm {t['clipnorm']}, cosine decay "
             f"with {recipe['warmup_fraction']:.0%} warmup"],
            ["global batch", fmt(t["global_batch_size"])],
            ["data order / seeds", "shared per seed across arms; seeds "
             + ", ".join(str(s) for s in recipe["seeds"])],
        ]
        axis, amount = next(iter(recipe["budget"].items()))
        blocks += [
            ("h2", "Setup"),
            ("p", f"Budget: **{fmt(amount)} {axis}** per run. Allowed to "
                  f"vary between arms: {_variable(recipe['variable'])}. "
                  "Each arm's attention mask is its objective's (see the "
                  "attention column)."),
            ("table", ["held fixed", "value"], held),
        ]
    blocks.append(("table", [
        "arm", "objective", "attention", "steps", "tokens", "epochs",
        "FLOPs", "loss-bearing positions", "wall time (s)", "tokens/s",
        "parameters", "runs ok"], [[
            a["arm"], fmt(a["objective"]), fmt(a["attention_mode"]),
            fmt(a["steps"]), fmt(a["tokens"]), fmt(a.get("epochs"), 2),
            fmt(a["flops"]),
            fmt(a["loss_positions"]) + (
                f" ({a['loss_position_share']:.0%})"
                if a["loss_position_share"] is not None else ""),
            fmt(a["wall_time"], 1), _mean_sd(a["tokens_per_second"], 0),
            fmt(a["parameters"]), f"{a['completed']}/{a['seeds']}",
        ] for a in arms]))
    return blocks


def _gain(table, arm):
    test = next((t for t in table.get("tests", [])
                 if t["kind"] == "untrained" and t["a"] == arm), None)
    if not test:
        return "–"
    if test["n"] < 2:
        return f"{test['mean_difference']:+.4f} (one seed)"
    mark = " ✓" if test.get("verdict") == "a" else ""
    return (f"{test['mean_difference']:+.4f} [{test['ci_low']:+.4f}, "
            f"{test['ci_high']:+.4f}]{mark}")


def _table_rows(table, arms):
    primary = table["primary"]
    others = sorted(m for m in table["metrics"] if m != primary)
    no_context = table["no_context"].get(primary, {})
    rows = []
    for name in arms:
        d = table["metrics"].get(primary, {}).get(name)
        row = [name, f"{_mean_sd(d)} {_ci(d)} (n={d['n']})" if d else "–",
               _gain(table, name), _mean_sd(no_context.get(name))]
        row += [_mean_sd(table["metrics"][m].get(name)) for m in others]
        row.append(table["notes"].get(name) or (
            "" if d or any(name in table["metrics"][m] for m in others)
            else "no results"))
        rows.append(row)
    for group, d in sorted(table["untrained"].get(primary, {}).items()):
        rows.append([f"untrained ({group})", f"{_mean_sd(d)} {_ci(d)}",
                     "reference", "–", *["–"] * len(others), "control"])
    if primary in table["majority"]:
        rows.append(["majority class", fmt(table["majority"][primary]),
                     "–", "–", *["–"] * len(others), "control"])
    header = ["arm", f"{primary} (primary)", "gain over untrained [95% CI]",
              "no context", *others, "note"]
    return header, rows


def _power_text(power):
    if power.get("mde") is not None and math.isinf(power["mde"]):
        return (f"Power: {power['seeds']} seeds make no win (a paired "
                "t-test on 2 seeds rests on one difference's noise); run "
                "at least 3 pre-training seeds.")
    if power.get("mde") is None:
        why = ("one seed" if power["seeds"] == 1 else
               "no paired results" if not power["seeds"] else
               "no spread between seeds")
        return (f"Power: {why}, so no minimum detectable effect can be "
                "estimated; run at least 3 pre-training seeds.")
    text = (f"Power: with {power['seeds']} seeds and a paired SD of "
            f"{power['sd_difference']:.3g}, the minimum detectable effect "
            f"(80% power, Holm worst case over {power['family_size']} "
            f"tests) is **{power['mde']:.3g}**.")
    if power.get("effect"):
        needed = power.get("seeds_needed")
        text += (f" An effect of {power['effect']:.3g} would need "
                 + (f"{needed} seeds." if needed else "over 1000 seeds."))
    return text


def _evaluation_blocks(result):
    blocks = [("h2", "Results"), ("p", "Final checkpoint. mean ± SD over "
               "pre-training seeds, 95% percentile bootstrap CI of the mean "
               "in brackets; ✓ marks a significant gain. " + CONTROLS)]
    arms = result["arms"]
    blocks.append(("h3", "Pre-training held-out loss"))
    blocks.append(("p", "Each arm's loss on its own objective: not "
                   "comparable across objectives (docs/methodology.md); "
                   "shown for sanity, never used to rank."))
    blocks.append(("table", ["arm", "held-out loss", "CI", "n"], [
        [a["arm"], _mean_sd(a["held_out_loss"]), _ci(a["held_out_loss"]),
         str(a["held_out_loss"]["n"])] for a in arms]))
    names = [a["arm"] for a in arms]
    for table in result["evaluations"]:
        blocks.append(("h3", f"{table['label']} ({table['use']})"))
        if table["metrics"]:
            blocks.append(("table", *_table_rows(table, names)))
        else:
            blocks.append(("p", "No results for this evaluation."))
            if table["notes"]:
                blocks.append(("ul", [f"{arm}: {note}" for arm, note in
                                      table["notes"].items()]))
        blocks.append(("p", "Verdict: " + table["verdict"]["text"]))
        blocks.append(("p", _power_text(table["power"])))
    if result["equivalence"]:
        blocks.append(("h3", "Expected null results (equivalence, TOST)"))
        blocks.append(("table", ["pair", "evaluation", "metric", "90% CI",
                                 "margin", "equivalent"], [
            [f"{e['a']} vs {e['b']}", e["evaluation"], e["metric"],
             f"[{fmt(e['low'])}, {fmt(e['high'])}]", fmt(e["margin"]),
             "yes" if e["equivalent"] else "not shown"]
            for e in result["equivalence"]]))
    return blocks


def claims_blocks(result):
    """The claims table: every published claim the arms can test."""
    from keras_objectives.compare import findings

    rows = result.get("claims") or []
    blocks = [("h2", "Published claims, checked here")]
    if not rows:
        return blocks + [("p", "No registered claim matches two arms of "
                          "this comparison (see docs/methodology.md for "
                          "the claims and the arms each needs).")]
    table = []
    for row in rows:
        claim, test = row["claim"], row["test"]
        measured = ("–" if test["n"] < 1 else
                    f"{test['mean_difference']:+.4f}" + (
                        f" [{test['ci_low']:+.4f}, {test['ci_high']:+.4f}]"
                        if test["n"] >= 2 else ""))
        table.append([
            claim.title, f"{row['a']} vs {row['b']}",
            f"{row['evaluation']} ({row['metric']})", measured,
            f"**{findings.claim_summary(row)}**",
            f"{claim.source}: {claim.published}", claim.scale])
    return blocks + [
        ("p", "Measured = mean paired difference (first arm minus second, "
              "oriented so that positive favours the first arm) with its "
              "95% t-interval; Holm-corrected across the claims. "
              + claims_lib.SCALE_NOTE),
        ("table", ["claim", "arms", "evaluation", "measured", "outcome",
                   "published", "published at"], table)]


def build_blocks(collection, result, figures):
    """The report as renderer-neutral blocks."""
    recipe = collection["recipe"] or {}
    runs = collection["runs"]
    done = sum(r["status"] == "completed" for r in runs)
    failed = [(a["arm"], f) for a in result["arms"] for f in a["failures"]]
    blocks = [
        ("h1", f"Comparison: {recipe.get('name', 'unnamed')}"),
        ("p", ((recipe.get("description") or "") + " Generated ").lstrip()
              + f"{datetime.date.today().isoformat()}. {done}/{len(runs)} "
              f"runs completed, {len(failed)} failed."),
        ("h2", "Verdict"),
    ]
    items = []
    for use in analysis_lib.USES:
        lines = result["verdicts"].get(use) or ["no evaluation of this use "
                                                "in the recipe"]
        items += [f"**{use}**: {line}" for line in lines]
    blocks += [("ul", items), ("p", WIN_RULE)]
    blocks += claims_blocks(result)
    if failed:
        blocks += [("h2", "Failed runs"), ("table", [
            "arm", "seed", "status", "reason"], [
            [arm, str(f["seed"]), f"FAILED ({f['status']})",
             fmt(f["reason"])] for arm, f in failed])]
    pending = [(a["arm"], s) for a in result["arms"] for s in a["pending"]]
    if pending:
        blocks.append(("p", "Not finished yet: " + ", ".join(
            f"{a} seed {s}" for a, s in pending)
            + ". Rerun the compare command to resume."))
    if collection["warnings"]:
        blocks += [("h2", "Warnings"), ("ul", collection["warnings"])]
    blocks += _setup_blocks(collection["recipe"], result["arms"])
    blocks += timing_blocks(collection)
    blocks += _evaluation_blocks(result)
    if figures:
        blocks.append(("h2", "Figures"))
        blocks += [("figure", *f) for f in figures]
    from keras_objectives.deploy.report import report_blocks

    blocks += report_blocks(collection, result)  # Export (issue #12).
    blocks += [("h2", "Files"), ("p", "Tidy results (one row per arm × seed "
               "× evaluation × metric × step): `results.csv`, "
               "`results.json`. Rebuild this report without training: "
               "`keras-objectives report DIR`.")]
    return blocks


@keras_objectives_export("keras_objectives.compare.write_report")
def write_report(workdir):
    """Write results and `report.md` / `report.html` for a comparison dir.

    Args:
        workdir: a directory written by `run_comparison` (or run dirs laid
            out as `runs/<arm>/seed-<s>/`).

    Returns:
        dict of the written paths: `markdown`, `html`, `csv`, `json`.
    """
    if not os.path.isdir(workdir):
        raise ValueError(
            "Invalid value received for argument `workdir`. Expected an "
            f"existing comparison directory. Received: workdir={workdir!r}. "
            "Create one with `keras-objectives compare RECIPE --workdir D`."
        )
    collection = results_lib.collect(workdir)
    rows = results_lib.tidy_rows(collection)
    results_lib.write_results(workdir, rows)
    result = analysis_lib.analyze(collection, rows)
    arms = [a["arm"] for a in result["arms"]]
    figures = plots_lib.all_figures(result, arms)
    for stem, _, _, png in figures:
        path = os.path.join(workdir, "plots", f"{stem}.png")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(png)
        os.replace(tmp, path)
    blocks = build_blocks(collection, result, figures)
    paths = {"markdown": os.path.join(workdir, "report.md"),
             "html": os.path.join(workdir, "report.html"),
             "csv": os.path.join(workdir, "results.csv"),
             "json": os.path.join(workdir, "results.json")}
    atomic_write_text(paths["markdown"], render_markdown(blocks))
    atomic_write_text(paths["html"], render_html(blocks))
    return paths
