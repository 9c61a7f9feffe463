"""Where a comparison's wall time went: set-up, training, evaluation.

`run_comparison` adds, per session, the seconds it spent to
`timing.json` in the workdir (written atomically, summed over resumed
sessions):

* `setup_seconds`: preparing the corpus, loading the tasks, planning the
  budget (counted for sessions that trained or evaluated something);
* per run `arm/seed`: `run_seconds` (the whole `train` call: building,
  compiling, the training loop, saving) and `evaluation_seconds` (loading
  checkpoints and every evaluation of the run).

The *training* seconds are the runs' own `wall_time` (the training loop,
in `summary.json`). The share of wall time spent training is training
seconds over everything above, per arm (its runs) and overall (with the
set-up). Writing the report itself is not counted.
"""

import os

from keras_objectives.utils import atomic_write_json
from keras_objectives.utils import read_json

FILE = "timing.json"


def read_timing(workdir):
    """The workdir's timing record (empty when there is none)."""
    path = os.path.join(workdir, FILE)
    if not os.path.isfile(path):
        return {"setup_seconds": 0.0, "runs": {}}
    record = read_json(path)
    record.setdefault("setup_seconds", 0.0)
    record.setdefault("runs", {})
    return record


def add_timing(workdir, setup_seconds=0.0, run=None, run_seconds=0.0,
               evaluation_seconds=0.0):
    """Add seconds to `timing.json` (`run` is `(arm, seed)`)."""
    record = read_timing(workdir)
    # Microseconds: a run shorter than a millisecond (a test's fake
    # `train`) must not round to 0 s.
    record["setup_seconds"] = round(record["setup_seconds"] + setup_seconds,
                                    6)
    if run is not None:
        entry = record["runs"].setdefault(f"{run[0]}/{run[1]}", {
            "run_seconds": 0.0, "evaluation_seconds": 0.0})
        entry["run_seconds"] = round(entry["run_seconds"] + run_seconds, 6)
        entry["evaluation_seconds"] = round(
            entry["evaluation_seconds"] + evaluation_seconds, 6)
    atomic_write_json(os.path.join(workdir, FILE), record)
    return record


def training_share(collection):
    """Per arm and overall: training, evaluation and total seconds.

    Args:
        collection: `results.collect(workdir)` (its `timing` and runs).

    Returns:
        A list of dicts `{"arm", "train", "evaluation", "total",
        "share"}`, the arms in order and then `"all"` (with the set-up);
        empty when the workdir has no timing record.

    Examples:

    >>> collection = {"timing": {"setup_seconds": 10.0, "runs": {
    ...     "a/0": {"run_seconds": 50.0, "evaluation_seconds": 40.0}}},
    ...     "runs": [{"arm": "a", "seed": 0, "summary": {"wall_time": 45}}]}
    >>> [(r["arm"], r["share"]) for r in training_share(collection)]
    [('a', 0.5), ('all', 0.45)]
    """
    timing = collection.get("timing") or {}
    if not timing.get("runs"):
        return []
    rows, arms = [], {}
    for run in collection["runs"]:
        seconds = timing["runs"].get(f"{run['arm']}/{run['seed']}")
        if seconds is None:
            continue
        arm = arms.setdefault(run["arm"], {"arm": run["arm"], "train": 0.0,
                                           "evaluation": 0.0, "total": 0.0})
        arm["train"] += float((run.get("summary") or {}).get("wall_time")
                              or 0.0)
        arm["evaluation"] += seconds["evaluation_seconds"]
        arm["total"] += seconds["run_seconds"] + seconds["evaluation_seconds"]
    rows = list(arms.values())
    setup = float(timing.get("setup_seconds") or 0.0)
    rows.append({"arm": "all", "train": sum(r["train"] for r in rows),
                 "evaluation": sum(r["evaluation"] for r in rows),
                 "total": setup + sum(r["total"] for r in rows),
                 "setup": setup})
    for row in rows:
        row["share"] = row["train"] / row["total"] if row["total"] else None
    return rows


def timing_line(collection):
    """`training 61% of 5m30s wall (...)`, or `None` without a record."""
    rows = training_share(collection)
    if not rows or rows[-1]["share"] is None:
        return None
    total = rows[-1]
    return (f"training {total['share']:.0%} of {total['total']:.0f}s wall "
            f"(training {total['train']:.0f}s, evaluation "
            f"{total['evaluation']:.0f}s, set-up {total['setup']:.0f}s, the "
            "rest building, compiling and saving runs)")


def timing_blocks(collection):
    """The report's table of where the wall time went."""
    rows = training_share(collection)
    if not rows:
        return []

    def cell(row, key):
        return f"{row[key]:.1f}" if row.get(key) is not None else "–"

    return [
        ("p", "Share of wall time spent training: the runs' training loops "
              "over the comparison's wall time (set-up, building and "
              "compiling, training, evaluation), summed over sessions."),
        ("table", ["arm", "training (s)", "evaluation (s)", "wall (s)",
                   "training share"], [
            [r["arm"], cell(r, "train"), cell(r, "evaluation"),
             cell(r, "total"),
             f"{r['share']:.0%}" if r["share"] is not None else "–"]
            for r in rows]),
    ]
