"""`report.md` and a self-contained `report.html` from a comparison dir.

`write_report(workdir)` reads the run dirs and their cached evaluations,
writes the tidy `results.csv`/`results.json`, and renders the report:
verdicts per use, the setup (what was held fixed, the budget, what each arm
consumed on every compute axis), a table per evaluation with mean ± SD and
a bootstrap CI, failed runs, published-vs-measured notes and the figures
(embedded as base64 PNG in the HTML, files under `plots/` for Markdown).
It never trains or evaluates: `keras-objectives report D` only reads.
"""

import base64
import datetime
import html
import math
import os

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.compare import analysis as analysis_lib
from keras_objectives.compare import plots as plots_lib
from keras_objectives.compare import results as results_lib
from keras_objectives.utils import atomic_write_text

WIN_RULE = ("A difference is called a win only when the mean paired "
            "difference exceeds 2× the pooled SD over pre-training seeds AND "
            "its sign holds in most seeds; otherwise it is reported as no "
            "detectable difference.")


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


def _evaluation_blocks(result):
    blocks = [("h2", "Results"), ("p", "Final checkpoint. mean ± SD over "
               "pre-training seeds, 95% percentile bootstrap CI of the mean "
               "in brackets, n = seeds. " + WIN_RULE)]
    arms = result["arms"]
    blocks.append(("h3", "Pre-training held-out loss"))
    blocks.append(("p", "Each arm's loss on its own objective: not "
                   "comparable across objectives (METHOD.md); shown for "
                   "sanity, never used to rank."))
    blocks.append(("table", ["arm", "held-out loss", "CI", "n"], [
        [a["arm"], _mean_sd(a["held_out_loss"]), _ci(a["held_out_loss"]),
         str(a["held_out_loss"]["n"])] for a in arms]))
    for table in result["evaluations"]:
        blocks.append(("h3", f"{table['label']} ({table['use']})"))
        metrics = sorted(table["metrics"], key=lambda m: m != table[
            "primary"])
        rows = []
        for a in arms:
            name = a["arm"]
            row = [name]
            for metric in metrics:
                d = table["metrics"][metric].get(name)
                row.append(f"{_mean_sd(d)} {_ci(d)} (n={d['n']})" if d
                           else "–")
            if table["notes"].get(name):
                row.append(table["notes"][name])
            elif not any(name in table["metrics"][m] for m in metrics):
                row.append("no results")
            else:
                row.append("")
            rows.append(row)
        if metrics:
            blocks.append(("table", ["arm", *[
                f"{m} (primary)" if m == table["primary"] else m
                for m in metrics], "note"], rows))
        else:
            blocks.append(("p", "No results for this evaluation."))
            if table["notes"]:
                blocks.append(("ul", [f"{arm}: {note}" for arm, note in
                                      table["notes"].items()]))
        blocks.append(("p", "Verdict: " + table["verdict"]["text"]))
    if result["equivalence"]:
        blocks.append(("h3", "Expected null results (equivalence, TOST)"))
        blocks.append(("table", ["pair", "evaluation", "metric", "90% CI",
                                 "margin", "equivalent"], [
            [f"{e['a']} vs {e['b']}", e["evaluation"], e["metric"],
             f"[{fmt(e['low'])}, {fmt(e['high'])}]", fmt(e["margin"]),
             "yes" if e["equivalent"] else "not shown"]
            for e in result["equivalence"]]))
    return blocks


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
    blocks += _evaluation_blocks(result)
    if result["published"]:
        blocks.append(("h2", "Published vs measured"))
        blocks.append(("ul", [
            f"**{n['source']}**. Published: {n['published']} Measured here: "
            + "; ".join(n["measured"]) + "." + n["caveat"]
            for n in result["published"]]))
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


def _md_inline(text):
    return str(text).replace("|", "\\|")


def render_markdown(blocks):
    out = []
    for block in blocks:
        kind = block[0]
        if kind in ("h1", "h2", "h3"):
            out.append("#" * int(kind[1]) + " " + block[1])
        elif kind == "p":
            out.append(block[1])
        elif kind == "ul":
            out.append("\n".join(f"- {item}" for item in block[1]))
        elif kind == "table":
            header, rows = block[1], block[2]
            lines = ["| " + " | ".join(map(_md_inline, header)) + " |",
                     "|" + "---|" * len(header)]
            lines += ["| " + " | ".join(map(_md_inline, r)) + " |"
                      for r in rows]
            out.append("\n".join(lines))
        elif kind == "figure":
            _, stem, title, caption, _ = block
            out.append(f"![{title}](plots/{stem}.png)\n\n*{caption}*")
    return "\n\n".join(out) + "\n"


def _html_inline(text):
    import re

    text = html.escape(str(text))
    text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", text)


CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;
max-width:1180px;margin:2em auto;padding:0 1.2em;color:#1d2330;
line-height:1.5}
h1{border-bottom:3px solid #2b6cb0;padding-bottom:.3em}
h2{margin-top:1.8em;border-bottom:1px solid #d5dbe5;padding-bottom:.2em}
table{border-collapse:collapse;margin:1em 0;font-size:.88em;width:auto}
th,td{border:1px solid #d5dbe5;padding:.35em .6em;text-align:left;
vertical-align:top}
th{background:#eef3fa}tr:nth-child(even) td{background:#f8fafc}
code{background:#f1f3f6;padding:0 .25em;border-radius:3px}
figure{margin:1.2em 0}figure img{max-width:100%;border:1px solid #e2e8f0}
figcaption{color:#4a5568;font-size:.9em}
td:first-child{font-weight:600}
"""


def render_html(blocks):
    title = next((b[1] for b in blocks if b[0] == "h1"), "Comparison")
    out = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>"
           f"{html.escape(title)}</title><style>{CSS}</style></head><body>"]
    for block in blocks:
        kind = block[0]
        if kind in ("h1", "h2", "h3"):
            out.append(f"<{kind}>{_html_inline(block[1])}</{kind}>")
        elif kind == "p":
            out.append(f"<p>{_html_inline(block[1])}</p>")
        elif kind == "ul":
            out.append("<ul>" + "".join(f"<li>{_html_inline(i)}</li>"
                                        for i in block[1]) + "</ul>")
        elif kind == "table":
            head = "".join(f"<th>{_html_inline(h)}</th>" for h in block[1])
            body = "".join(
                "<tr>" + "".join(
                    f"<td{' class=failed' if 'FAILED' in str(c) else ''}>"
                    f"{_html_inline(c)}</td>" for c in row) + "</tr>"
                for row in block[2])
            out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}"
                       "</tbody></table>")
        elif kind == "figure":
            _, stem, title_, caption, png = block
            data = base64.b64encode(png).decode("ascii")
            out.append(f"<figure><h3>{html.escape(title_)}</h3><img alt="
                       f"'{html.escape(title_)}' src='data:image/png;base64,"
                       f"{data}'><figcaption>{html.escape(caption)}"
                       "</figcaption></figure>")
    out.append("</body></html>")
    return "\n".join(out).replace(
        "</style>", "td.failed{color:#b91c1c;font-weight:700}</style>", 1)


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
