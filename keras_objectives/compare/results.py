"""Read a comparison's run dirs into tidy rows. Never trains.

Layout of a comparison workdir:

    comparison.json             the validated recipe and the budget plan
    runs/<arm>/seed-<s>/        one `training.train` run dir per arm x seed:
        config.json metrics.csv summary.json checkpoints/
        evals.json              cached evaluations (`compare.evaluate`)
        failure.json            an exception that stopped the run
    results.csv results.json    tidy rows (this module)
    report.md report.html plots/

A run dir that cannot be read (invalid JSON, unreadable metrics) is
reported as `broken` with a warning and left out; it never stops the
report.
"""

import csv
import io
import json
import math
import os

from keras_objectives.compare.timing import read_timing
from keras_objectives.utils import atomic_write_json
from keras_objectives.utils import atomic_write_text

COLUMNS = ("arm", "objective", "seed", "evaluation", "metric", "step",
           "tokens", "flops", "value", "sd_over_eval_seeds",
           "n_eval_seeds")
PRETRAINING = "pretraining"


def run_dir(workdir, arm, seed):
    return os.path.join(workdir, "runs", arm, f"seed-{seed}")


def _read_json(path):
    with open(path) as f:
        return json.load(f)


def load_comparison(workdir):
    """`comparison.json` as a dict, or `None` when the file is absent."""
    path = os.path.join(workdir, "comparison.json")
    if not os.path.isfile(path):
        return None
    return _read_json(path)


def _number(text):
    if text in ("", None):
        return None
    try:
        value = float(text)
    except ValueError:
        return text
    return int(value) if value.is_integer() and "." not in text and (
        "e" not in text.lower()) else value


def read_metrics(path):
    """Rows of a `metrics.csv` as dicts of numbers (empty cells: None)."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    out = [{k: _number(v) for k, v in row.items()} for row in rows]
    for row in out:
        if not isinstance(row.get("step"), int):
            raise ValueError(f"metrics.csv row without an integer step: {row}")
    return out


def read_run(path):
    """Read one run dir.

    Returns:
        dict with `status` (`completed`, `diverged`, `failed`, `incomplete`
        or `missing`), `failure`, `config`, `summary`, `metrics` and
        `evals`.

    Raises:
        ValueError: the run dir exists but a file in it is unreadable.
    """
    record = {"run_dir": path, "status": "missing", "failure": None,
              "config": None, "summary": None, "metrics": [], "evals": {}}
    if not os.path.isdir(path):
        return record
    try:
        files = {name: os.path.join(path, name) for name in (
            "config.json", "summary.json", "metrics.csv", "evals.json",
            "failure.json")}
        if os.path.isfile(files["config.json"]):
            record["config"] = _read_json(files["config.json"])
        if os.path.isfile(files["metrics.csv"]):
            record["metrics"] = read_metrics(files["metrics.csv"])
        if os.path.isfile(files["evals.json"]):
            record["evals"] = _read_json(files["evals.json"]).get(
                "entries", {})
        if os.path.isfile(files["summary.json"]):
            summary = _read_json(files["summary.json"])
            if summary.get("status") not in ("completed", "diverged"):
                raise ValueError(
                    f"summary.json has status {summary.get('status')!r}")
            record.update(summary=summary, status=summary["status"],
                          failure=summary.get("failure"))
        elif os.path.isfile(files["failure.json"]):
            failure = _read_json(files["failure.json"])
            record.update(status="failed", failure=failure.get("failure"))
        else:
            record["status"] = "incomplete"
    except (OSError, ValueError, TypeError, AttributeError) as e:
        raise ValueError(f"broken run dir {path!r}: {e}") from None
    return record


def collect(workdir):
    """All runs of a comparison, with warnings for broken run dirs.

    Returns:
        dict with `recipe`, `plan` (both `None` without comparison.json),
        `runs` (list of run records with `arm` and `seed`) and `warnings`.
    """
    comparison = load_comparison(workdir) or {}
    recipe, plan = comparison.get("recipe"), comparison.get("plan")
    warnings = []
    if recipe:
        grid = [(a["name"], s) for s in recipe["seeds"]
                for a in recipe["arms"]]
    else:
        grid = _discover(workdir)
        if not grid:
            raise ValueError(
                "Invalid value received for argument `workdir`. Expected a "
                "comparison directory with comparison.json or runs/<arm>/"
                f"seed-<s>/ run dirs. Received: workdir={workdir!r}"
            )
        warnings.append("no comparison.json: arms and seeds were read from "
                        "the run dirs; the setup section is partial")
    runs = []
    for arm, seed in grid:
        path = run_dir(workdir, arm, seed)
        try:
            record = read_run(path)
        except ValueError as e:
            warnings.append(f"skipped {arm} seed {seed}: {e}")
            record = {"run_dir": path, "status": "broken",
                      "failure": str(e), "config": None, "summary": None,
                      "metrics": [], "evals": {}}
        record.update(arm=arm, seed=seed)
        runs.append(record)
    try:
        timing = read_timing(workdir)
    except (ValueError, OSError) as e:
        warnings.append(f"timing.json skipped: {e}")
        timing = None
    return {"recipe": recipe, "plan": plan, "runs": runs,
            "warnings": warnings, "timing": timing}


def _discover(workdir):
    root = os.path.join(workdir, "runs")
    grid = []
    if not os.path.isdir(root):
        return grid
    for arm in sorted(os.listdir(root)):
        for name in sorted(os.listdir(os.path.join(root, arm))):
            if name.startswith("seed-") and name[5:].isdigit():
                grid.append((arm, int(name[5:])))
    return grid


def _objective_name(record):
    if record.get("summary"):
        return record["summary"].get("objective")
    objective = (record.get("config") or {}).get("objective")
    if isinstance(objective, dict):
        return objective.get("class_name")
    return objective


def _finite(value):
    return isinstance(value, (int, float)) and math.isfinite(value)


def tidy_rows(collection):
    """One row per arm x seed x evaluation x metric x step.

    Pre-training curves (`metrics.csv`: loss, val_loss, tokens/s) appear
    as evaluation `pretraining`; cached evaluations with their step. Only
    completed runs contribute evaluation rows; diverged runs contribute
    their training curve up to the divergence.
    """
    rows = []
    for record in collection["runs"]:
        if record["status"] not in ("completed", "diverged"):
            continue
        base = {"arm": record["arm"], "objective": _objective_name(record),
                "seed": record["seed"]}
        by_step = {}
        for m in record["metrics"]:
            by_step[m["step"]] = m
            for metric in ("loss", "val_loss", "tokens_per_second"):
                if _finite(m.get(metric)):
                    rows.append({**base, "evaluation": PRETRAINING,
                                 "metric": metric, "step": m["step"],
                                 "tokens": m.get("tokens"),
                                 "flops": m.get("flops"),
                                 "value": m[metric],
                                 "sd_over_eval_seeds": None,
                                 "n_eval_seeds": None})
        if record["status"] != "completed":
            continue
        summary = record["summary"]
        steps = max(summary.get("steps") or 1, 1)
        for entry in record["evals"].values():
            if entry.get("status") != "ok":
                continue
            step = entry["step"]
            logged = by_step.get(step, {})
            per_seed = list((entry.get("per_seed") or {}).values())
            for metric, value in sorted(entry["metrics"].items()):
                if not _finite(value):
                    continue
                seeds = [p[metric] for p in per_seed
                         if _finite(p.get(metric))]
                sd = (float(_sd(seeds)) if len(seeds) > 1 else None)
                rows.append({
                    **base, "evaluation": entry["label"], "metric": metric,
                    "step": step,
                    "tokens": logged.get("tokens",
                                         summary["tokens_seen"] * step
                                         // steps),
                    "flops": logged.get("flops", summary["training_flops"]
                                        * step / steps),
                    "value": float(value), "sd_over_eval_seeds": sd,
                    "n_eval_seeds": len(seeds) or None,
                })
    return rows


def _sd(values):
    mean = sum(values) / len(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values)
                     / (len(values) - 1))


def write_results(workdir, rows):
    """Write `results.csv` and `results.json` atomically."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, restval="")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if row.get(k) is None else row[k])
                         for k in COLUMNS})
    atomic_write_text(os.path.join(workdir, "results.csv"),
                      buffer.getvalue())
    atomic_write_json(os.path.join(workdir, "results.json"),
                      {"columns": list(COLUMNS), "rows": rows})
