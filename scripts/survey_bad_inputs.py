"""Run the bad-input table as a new user would, and count the outcomes.

Every case of `tests/bad_input_cases.py` runs as a `keras-objectives`
subprocess (with a timeout) against the checkout on `--pythonpath`, so the
same table surveys the code before and after a change:

    python scripts/survey_bad_inputs.py --pythonpath . --out survey.json

Outcomes: `clear` (non-zero exit, no traceback, the message names the
argument or file and the fix, the workdir unchanged), `unclear` (a message
without what the table expects), `traceback`, `accepted` (exit 0 on a bad
input), `poisoned` (failed, but left files in the workdir), `hang`.
"""

import argparse
import collections
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from tests import bad_input_cases  # noqa: E402
from tests.bad_input_cases import CASES  # noqa: E402
from tests.bad_input_cases import snapshot  # noqa: E402


def classify(code, output, expect, before, after, timed_out):
    if timed_out:
        return "hang"
    if code == 0:
        return "accepted"
    if "Traceback (most recent call last)" in output:
        return "traceback"
    if not all(e.lower() in output.lower() for e in expect):
        return "unclear"
    if before != after:
        return "poisoned"
    return "clear"


def run_case(case, places, folder, pythonpath, timeout):
    tmp = os.path.join(folder, case.name)
    os.makedirs(tmp, exist_ok=True)
    values = {**places, "tmp": tmp, "workdir": os.path.join(tmp, "run")}
    if case.setup:
        case.setup(tmp, values)
    argv = [a.format(**values) for a in shlex.split(case.argv)]
    before = snapshot(values["workdir"])
    env = dict(os.environ, PYTHONPATH=pythonpath)
    env.pop("KERAS_OBJECTIVES_DEBUG", None)
    started = time.perf_counter()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "keras_objectives.cli", *argv], env=env,
            capture_output=True, text=True, timeout=timeout, cwd=tmp)
        code, output, timed_out = (result.returncode,
                                   result.stdout + result.stderr, False)
    except subprocess.TimeoutExpired as e:
        code, timed_out = None, True
        output = (e.stdout or b"").decode() + (e.stderr or b"").decode()
    seconds = time.perf_counter() - started
    after = snapshot(values["workdir"])
    outcome = classify(code, output, case.expect, before, after, timed_out)
    lines = [line for line in output.splitlines() if line.strip()]
    message = next((line for line in reversed(lines)
                    if "error" in line.lower()), lines[-1] if lines else "")
    return {"case": case.name, "argv": " ".join(argv), "code": code,
            "outcome": outcome, "seconds": round(seconds, 1),
            "message": message[:400], "stderr_lines": len(lines)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pythonpath", default=os.path.dirname(HERE))
    parser.add_argument("--out", default="survey.json")
    parser.add_argument("--timeout", type=float, default=240)
    parser.add_argument("--only", nargs="*", help="case names")
    args = parser.parse_args()
    pythonpath = os.path.abspath(args.pythonpath)
    folder = tempfile.mkdtemp(prefix="ko-survey-")
    sys.path.insert(0, pythonpath)
    corpus = bad_input_cases.write_corpus(os.path.join(folder, "corpus"))
    places = bad_input_cases.write_fixtures(folder, corpus)
    places["recipes"] = os.path.join(pythonpath, "recipes")
    rows = []
    for case in CASES:
        if args.only and case.name not in args.only:
            continue
        row = run_case(case, places, folder, pythonpath, args.timeout)
        rows.append(row)
        print(f"{row['outcome']:10s} {row['code']!s:5s} {row['seconds']:6.1f}"
              f"s {case.name}: {row['message'][:150]}", flush=True)
        with open(args.out, "w") as f:
            json.dump({"pythonpath": pythonpath, "rows": rows}, f, indent=1)
    counts = collections.Counter(r["outcome"] for r in rows)
    print(json.dumps(dict(sorted(counts.items()))))


if __name__ == "__main__":
    main()
