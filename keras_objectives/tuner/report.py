"""The search's `report.md` / self-contained `report.html`, in the style of
`keras-objectives compare` (its table and HTML renderers, its plot
helpers).

`write_tuning_report(workdir)` reads keras-tuner's `trial.json` files and
the `execution-<k>.json` records the hypermodel wrote, and writes:
`report.md`, `report.html`, `plots/score_by_hyperparameter.png`,
`trials.csv` / `trials.json` (one row per trial execution), `best.json`
and `best_recipe.py` (the best trial as a run recipe for
`keras-objectives train`). It never trains and needs no keras-tuner.
"""

import csv
import datetime
import glob
import io
import json
import math
import os
import pprint

import numpy as np

from keras_objectives.compare import plots as plots_lib
from keras_objectives.compare.report import fmt
from keras_objectives.compare.report import render_html
from keras_objectives.compare.report import render_markdown
from keras_objectives.tuner import spaces
from keras_objectives.utils import atomic_write_json
from keras_objectives.utils import atomic_write_text

PROJECT = "tuner"
COLUMNS = ("trial", "status", "objective", "hyperparameters", "execution",
           "seed", "score", "test_accuracy", "steps", "tokens", "flops",
           "final_loss", "wall_time")


def _load_json(path, default=None):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return default


def _stats(values):
    values = [v for v in values if v is not None]
    if not values:
        return {"n": 0, "mean": None, "sd": None}
    sd = float(np.std(values, ddof=1)) if len(values) > 1 else None
    return {"n": len(values), "mean": float(np.mean(values)), "sd": sd}


def collect(workdir):
    """The search as `{"recipe", "trials", "names", "sessions"}`.

    `trials` are dicts with `trial_id`, `status`, `score` (keras-tuner's:
    the mean over executions), `values`, `objective`, `executions` (the
    records) and `scores` (`_stats` of the execution scores); `names`
    lists the hyperparameters in search-space order.
    """
    recipe = (_load_json(os.path.join(workdir, "tuning.json")) or {}).get(
        "recipe")
    trials, names = [], []
    pattern = os.path.join(workdir, PROJECT, "trial_*", "trial.json")
    for path in sorted(glob.glob(pattern)):
        raw = _load_json(path)
        if not raw:
            continue
        folder = os.path.dirname(path)
        executions = [r for r in (_load_json(p) for p in sorted(glob.glob(
            os.path.join(folder, "execution-*.json")))) if r]
        executions.sort(key=lambda r: r.get("execution", 0))
        values = raw["hyperparameters"]["values"]
        for hp in raw["hyperparameters"]["space"]:
            name = hp["config"]["name"]
            if name not in names and not name.startswith("tuner/"):
                names.append(name)
        trials.append({
            "trial_id": raw["trial_id"], "status": raw.get("status"),
            "score": raw.get("score"), "values": values,
            "objective": values.get(spaces.OBJECTIVE),
            "executions": executions,
            "scores": _stats([e.get("score") for e in executions]),
            "message": raw.get("message"),
        })
    trials.sort(key=lambda t: (t["score"] is None, -(t["score"] or 0.0),
                               t["trial_id"]))
    sessions = _load_json(os.path.join(workdir, "sessions.json"), [])
    return {"recipe": recipe, "trials": trials, "names": names,
            "sessions": sessions}


def _show(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    return fmt(value)


def _score(trial):
    s = trial["scores"]
    if trial["score"] is None:
        return "–"
    sd = f" ± {s['sd']:.2g}" if s["sd"] is not None else ""
    return f"{trial['score']:.4f}{sd}"


def _sum(trial, key):
    values = [e.get(key) for e in trial["executions"]]
    return None if not values or None in values else sum(values)


def trial_rows(collection):
    """The trials table: best first."""
    names = collection["names"]
    rows = []
    for rank, t in enumerate(collection["trials"], 1):
        first = t["executions"][0] if t["executions"] else {}
        losses = [e.get("final_loss") for e in t["executions"]]
        rows.append([
            str(rank) if t["score"] is not None else "–", t["trial_id"],
            "FAILED" if t["status"] in ("FAILED", "INVALID") else str(
                t["status"]).lower(),
            *[_show(t["values"].get(n)) for n in names],
            _score(t),
            ", ".join(f"{e['score']:.3f}" for e in t["executions"]) or "–",
            fmt(first.get("steps_total")), fmt(first.get("tokens")),
            fmt(first.get("flops")),
            _show(float(np.mean(losses))) if losses and None not in losses
            else "–", fmt(_sum(t, "wall_time"), 1),
        ])
    return rows


def score_by_hyperparameter(collection):
    """One panel per hyperparameter: probe score against its value."""
    trials = [t for t in collection["trials"] if t["score"] is not None]
    names = [n for n in collection["names"]
             if any(n in t["values"] for t in trials)]
    if not trials or not names:
        return None
    plt = plots_lib._pyplot()
    colors = plots_lib._colors(sorted({t["objective"] for t in trials}))
    cols = min(3, len(names))
    rows = math.ceil(len(names) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.6 * rows),
                             squeeze=False)
    best = trials[0]
    for axis, name in zip(axes.flat, names, strict=False):
        points = [(t["values"][name], t) for t in trials
                  if name in t["values"]]
        numeric = all(isinstance(v, (int, float)) and not isinstance(
            v, bool) for v, _ in points)
        if numeric:
            xs = [float(v) for v, _ in points]
            if min(xs) > 0 and max(xs) / min(xs) >= 3:
                axis.set_xscale("log")
                axis.minorticks_off()
            ticks = sorted(set(xs))
            if len(ticks) <= 8:
                axis.set_xticks(ticks, [f"{v:.3g}" for v in ticks],
                                rotation=15)
        else:
            labels = sorted({str(v) for v, _ in points})
            xs = [labels.index(str(v)) for v, _ in points]
            axis.set_xticks(range(len(labels)), labels, rotation=15)
        for x, (_, t) in zip(xs, points, strict=True):
            seeds = [e["score"] for e in t["executions"]]
            axis.scatter([x] * len(seeds), seeds, s=10, alpha=0.5,
                         color=colors[t["objective"]])
            axis.scatter([x], [t["score"]], s=60 if t is not best else 160,
                         marker="o" if t is not best else "*",
                         color=colors[t["objective"]], edgecolor="black",
                         zorder=3)
        axis.set_xlabel(name)
        axis.set_ylabel("probe dev accuracy")
        axis.grid(alpha=0.3)
    for axis in list(axes.flat)[len(names):]:
        axis.set_visible(False)
    for objective, color in colors.items():
        axes[0][0].scatter([], [], color=color, label=objective)
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    return plots_lib._png(fig)


def _space_rows(recipe):
    try:
        objectives = spaces.check_objectives(recipe["objectives"])
        resolved = spaces.resolve_space(objectives, recipe["space"])
    except (KeyError, ValueError, TypeError):
        return []

    def shown(spec):
        if spec["kind"] == "fixed":
            return f"fixed {spec['value']!r}"
        if spec["kind"] == "choice":
            return ", ".join(map(str, spec["values"]))
        return (f"{spec['type']} in [{spec['min_value']}, "
                f"{spec['max_value']}] ({spec['sampling']})")

    rows = [[spaces.OBJECTIVE, "always", ", ".join(objectives)]]
    rows += [[k, "always", shown(s)] for k, s in resolved["shared"].items()]
    for name, params in resolved["objectives"].items():
        rows += [[f"{name}/{a}", f"objective = {name}", shown(s)]
                 for a, s in params.items()]
    return rows


def _setup_rows(recipe):
    base = recipe["base"]
    m, t, d = base["model"], base["training"], base["data"]
    axis, amount = next(iter(recipe["budget"].items()))
    options = ", ".join(f"{k}={v}" for k, v in recipe[
        "tuner_options"].items())
    return [
        ["tuner", f"{recipe['tuner']}" + (f" ({options})" if options
                                          else "")
         + (f", max_trials {recipe['max_trials']}"
            if recipe["tuner"] != "Hyperband" else "")],
        ["seeds", f"{recipe['executions_per_trial']} execution(s) per "
         f"trial, pre-training seeds {base['seed']}.."
         f"{base['seed'] + recipe['executions_per_trial'] - 1}; probe "
         f"seeds {recipe['probe_seeds']}"],
        ["budget", f"{fmt(amount)} {axis} per execution (steps per "
         "objective from its own FLOP/token accounting)"],
        ["score", f"linear probe dev accuracy on `{recipe['task']}`"],
        ["data", f"{d['source']}, vocabulary {fmt(d['vocabulary_size'])}, "
         f"sequence length {base['sequence_length']}"],
        ["body", f"{m['backbone']}: {m['num_layers']} layers × "
         f"{m['hidden_dim']} hidden, {m['num_heads']} heads"],
        ["optimizer", f"AdamW, weight decay {t['weight_decay']}, "
         f"clipnorm {t['clipnorm']}, cosine decay with "
         f"{recipe['warmup_fraction']:.0%} warmup, global batch "
         f"{t['global_batch_size']}"],
    ]


def build_blocks(collection, figures, workdir="."):
    """The report as `compare.report`'s renderer-neutral blocks."""
    recipe = collection["recipe"] or {}
    trials = collection["trials"]
    done = [t for t in trials if t["score"] is not None]
    failed = [t for t in trials if t["status"] in ("FAILED", "INVALID")]
    blocks = [
        ("h1", f"Tuning: {recipe.get('name', 'unnamed')}"),
        ("p", ((recipe.get("description") or "") + " Generated ").lstrip()
         + f"{datetime.date.today().isoformat()}. {len(done)}/{len(trials)}"
         f" trials completed, {len(failed)} failed."),
    ]
    if done:
        best = done[0]
        record = best["executions"][0] if best["executions"] else {}
        tests = [e.get("probe", {}).get("test_accuracy")
                 for e in best["executions"]]
        n = best["scores"]["n"]
        items = [f"**trial {best['trial_id']}**: probe dev accuracy "
                 f"{_score(best)} (n={n} pre-training seed"
                 f"{'s' if n != 1 else ''})"]
        items += [f"`{k}` = {_show(v)}" for k, v in best["values"].items()
                  if not k.startswith("tuner/")]
        if tests and None not in tests:
            items.append(f"test accuracy {np.mean(tests):.4f} (reported "
                         "once, never used to select)")
        if record:
            items.append(f"cost per execution: {fmt(record['steps_total'])}"
                         f" steps, {fmt(record['tokens'])} tokens, "
                         f"{fmt(record['flops'])} FLOPs")
        recipe_path = os.path.join(workdir, "best_recipe.py")
        blocks += [("h2", "Best trial"), ("ul", items), (
            "p", f"Train it: `keras-objectives train {recipe_path} "
            "--workdir runs/best` (its steps are the budget's).")]
    single = recipe.get("executions_per_trial", 1) == 1
    blocks.append(("p", "Every trial is scored by a frozen-feature linear "
                   "probe's dev accuracy (mean over probe seeds, then over "
                   "pre-training seeds), never by pre-training loss, which "
                   "is not comparable across objectives or mask rates "
                   "(docs/methodology.md). Treat differences smaller than "
                   "about twice the SD over pre-training seeds as ties"
                   + ("; with one execution per trial there is no SD, so "
                      "confirm the top trials with `--config."
                      "executions_per_trial=3` before calling a winner."
                      if single else ".")))
    if recipe:
        blocks += [("h2", "Setup"),
                   ("table", ["setting", "value"], _setup_rows(recipe)),
                   ("h2", "Search space"),
                   ("table", ["hyperparameter", "active when", "values"],
                    _space_rows(recipe))]
    sessions = collection["sessions"]
    if sessions:
        load = sessions[-1].get("load_average") or [None]
        seconds = sum(s["wall_time"] for s in sessions)
        blocks.append(("p", f"Compute: {seconds:.0f} s of search over "
                       f"{len(sessions)} session(s), "
                       f"{sum(s['trainings'] for s in sessions)} executions "
                       f"trained, on {sessions[-1].get('cpu_count')} CPUs "
                       f"(1-minute load average at the end: {fmt(load[0], 1)}"
                       ")."))
    blocks += [("h2", "Trials"), ("table", [
        "rank", "trial", "status", *collection["names"],
        "probe dev accuracy", "per seed", "steps", "tokens", "FLOPs",
        "pre-training loss (own objective)", "wall time (s)"],
        trial_rows(collection))]
    if failed:
        blocks += [("h3", "Failed trials"), ("ul", [
            f"trial {t['trial_id']}: "
            + (str(t["message"] or "").strip().splitlines() or ["?"])[-1]
            for t in failed])]
    if figures:
        blocks.append(("h2", "Figures"))
        blocks += [("figure", *f) for f in figures]
    blocks += [("h2", "Files"), ("p", "`trials.csv`/`trials.json`: one row "
               "per trial execution. `best.json`, `best_recipe.py`. "
               "keras-tuner's project: `tuner/`. Rerun the tune command to "
               "resume or extend the search (`--config.max_trials=N`).")]
    return blocks


def _csv_rows(collection):
    out = []
    for t in collection["trials"]:
        base = {"trial": t["trial_id"], "status": t["status"],
                "objective": t["objective"],
                "hyperparameters": json.dumps(t["values"], sort_keys=True)}
        for e in t["executions"] or [{}]:
            out.append({**base, "execution": e.get("execution"),
                        "seed": e.get("seed"), "score": e.get("score"),
                        "test_accuracy": (e.get("probe") or {}).get(
                            "test_accuracy"),
                        "steps": e.get("steps_total"),
                        "tokens": e.get("tokens"), "flops": e.get("flops"),
                        "final_loss": e.get("final_loss"),
                        "wall_time": e.get("wall_time")})
    return out


def _best_recipe(best, recipe):
    config = best["executions"][0]["config"]
    return (
        f'"""Best trial {best["trial_id"]} of the tuning search '
        f'{(recipe or {}).get("name", "")!r}: probe dev accuracy '
        f'{best["score"]:.4f}.\n\nTrain it (the budget\'s steps):\n\n'
        '    keras-objectives train best_recipe.py --workdir runs/best\n'
        '"""\n\nCONFIG = ' + pprint.pformat(config, sort_dicts=True)
        + "\n\n\ndef get_config(arg=None):\n    return CONFIG\n")


def write_tuning_report(workdir):
    """Write the search's report and result files; return their paths.

    Raises:
        ValueError: `workdir` holds no search.
    """
    if not os.path.isdir(os.path.join(workdir, PROJECT)):
        raise ValueError(
            "Invalid value received for argument `workdir`. Expected a "
            f"search directory with a `{PROJECT}/` project. Received: "
            f"workdir={workdir!r}. Create one with `keras-objectives tune "
            "RECIPE --workdir D`.")
    collection = collect(workdir)
    rows = _csv_rows(collection)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    paths = {k: os.path.join(workdir, f) for k, f in (
        ("markdown", "report.md"), ("html", "report.html"),
        ("csv", "trials.csv"), ("json", "trials.json"),
        ("best", "best.json"), ("recipe", "best_recipe.py"))}
    atomic_write_text(paths["csv"], buffer.getvalue())
    atomic_write_json(paths["json"], rows)
    done = [t for t in collection["trials"] if t["score"] is not None]
    if done and done[0]["executions"]:
        best = done[0]
        atomic_write_json(paths["best"], {
            "trial_id": best["trial_id"], "score": best["score"],
            "hyperparameters": best["values"],
            "config": best["executions"][0]["config"]})
        atomic_write_text(paths["recipe"],
                          _best_recipe(best, collection["recipe"]))
    png = score_by_hyperparameter(collection)
    figures = []
    if png is not None:
        figures.append(("score_by_hyperparameter", "Score by hyperparameter",
                        "Probe dev accuracy of every trial against each "
                        "hyperparameter (colour = objective; big marker = "
                        "trial mean, small dots = seeds; star = best).",
                        png))
        path = os.path.join(workdir, "plots", "score_by_hyperparameter.png")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(png)
        os.replace(tmp, path)
    blocks = build_blocks(collection, figures, workdir)
    atomic_write_text(paths["markdown"], render_markdown(blocks))
    atomic_write_text(paths["html"], render_html(blocks))
    return paths
