"""Compare every number of two comparison workdirs' evaluations.

    python benchmarks/diff_evals.py BEFORE_WORKDIR AFTER_WORKDIR [--tolerance 1e-6]

Walks `runs/<arm>/seed-<s>/evals.json` of both workdirs and compares every
numeric leaf of every entry (`metrics` and `per_seed`; the timing field
`wall_time` aside) and every number of `results.json`'s rows (the
throughput rows aside). Prints the
count, the largest absolute difference and any entry missing on one side;
exits 1 when a difference exceeds the tolerance or an entry is missing.
"""

import argparse
import glob
import json
import os
import sys

IGNORED = ("wall_time",)
# Rows of results.json that are timings, not results.
TIMING_METRICS = ("tokens_per_second", "wall_time", "session_wall_time")


def _leaves(value, prefix=""):
    if isinstance(value, dict):
        for k, v in value.items():
            if k not in IGNORED:
                yield from _leaves(v, f"{prefix}/{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _leaves(v, f"{prefix}[{i}]")
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield prefix, float(value)
    else:
        yield prefix, value


def numbers(workdir):
    """`{path: value}` of every evaluation leaf under `workdir`."""
    out = {}
    for path in sorted(glob.glob(os.path.join(workdir, "runs", "*", "*",
                                              "evals.json"))):
        run = os.path.relpath(os.path.dirname(path), workdir)
        with open(path) as f:
            entries = json.load(f)["entries"]
        for key, entry in entries.items():
            for leaf, value in _leaves(
                    {k: entry.get(k) for k in ("status", "metrics",
                                               "per_seed")}):
                out[f"{run}/{key}{leaf}"] = value
    results = os.path.join(workdir, "results.json")
    if os.path.isfile(results):
        with open(results) as f:
            rows = json.load(f)
        rows = rows.get("rows", rows) if isinstance(rows, dict) else rows
        for i, row in enumerate(rows):
            if row.get("metric") in TIMING_METRICS:
                continue
            for leaf, value in _leaves(row):
                out[f"results[{i}]{leaf}"] = value
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--tolerance", type=float, default=1e-6)
    args = parser.parse_args(argv)
    a, b = numbers(args.before), numbers(args.after)
    missing = sorted(set(a) ^ set(b))
    worst, where, compared = 0.0, None, 0
    for key in sorted(set(a) & set(b)):
        x, y = a[key], b[key]
        if isinstance(x, float) and isinstance(y, float):
            compared += 1
            if x != x and y != y:
                continue
            diff = abs(x - y)
            if diff > worst or diff != diff:
                worst, where = diff, key
        elif x != y:
            worst, where = float("inf"), key
    print(f"compared {compared} numbers; max abs difference {worst:.3g}"
          + (f" at {where}" if where else ""))
    for key in missing[:20]:
        print(f"only in {'before' if key in a else 'after'}: {key}")
    return int(bool(missing) or not worst <= args.tolerance)


if __name__ == "__main__":
    sys.exit(main())
