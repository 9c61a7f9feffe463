"""Run every arm x seed of a comparison, evaluate, and write the report.

`run_comparison` is the only place in `compare/` that trains, and it does
so only through `training.train`. Runs go to `workdir/runs/<arm>/seed-<s>/`
in seed-major order (every arm of seed 0 first), so a comparison stopped
early still has paired runs. Re-running the same command resumes: finished
runs (summary status `completed` or `diverged`) are skipped, an unfinished
run resumes from its newest checkpoint, cached evaluations are kept.
"""

import json
import os
import sys
import time
import traceback

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.compare import budget as budget_lib
from keras_objectives.compare import evaluate as evaluate_lib
from keras_objectives.compare import results as results_lib
from keras_objectives.compare import timing as timing_lib
from keras_objectives.compare.recipe import arm_run_config
from keras_objectives.compare.recipe import validate_recipe
from keras_objectives.utils import atomic_write_json
from keras_objectives.utils import check_writable_dir


def _jsonable(value):
    return json.loads(json.dumps(value, default=str))


def _format_seconds(seconds):
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"


# Fields that decide what every run trains: changing them would mix runs
# of two different comparisons in one workdir.
_TRAINING_FIELDS = ("budget", "base", "variable", "log_intervals",
                    "warmup_fraction")


def _record_comparison(workdir, recipe, plan):
    """Write comparison.json; refuse a recipe that changes existing runs.

    Evaluations, curves, expected nulls, names, new arms and new seeds may
    change between invocations (train once, evaluate more); the budget,
    the base config or an existing arm's definition may not.
    """
    record = _jsonable({"recipe": recipe, "plan": plan})
    previous = (_previous_comparison(workdir) or {}).get("recipe")
    if previous is not None:
        new = record["recipe"]
        changed = [f for f in _TRAINING_FIELDS if previous.get(f) != new[f]]
        old_arms = {a["name"]: a for a in previous.get("arms", [])}
        changed += [f"arms[{a['name']}]" for a in new["arms"]
                    if a["name"] in old_arms and old_arms[a["name"]] != a]
        if changed:
            raise ValueError(
                f"The workdir {workdir!r} holds a comparison with a different "
                f"recipe: {', '.join(changed)} changed, so its runs would not "
                "be comparable. Use a new --workdir, or delete the old "
                "comparison. (Evaluations, new arms and new seeds can be "
                "added to an existing workdir.)"
            )
    atomic_write_json(os.path.join(workdir, "comparison.json"), record)


# A run whose evaluations were all cached takes less than this to check;
# such a session adds nothing to `timing.json`.
_CACHED_ONLY_SECONDS = 0.5


def _eta(spent_seconds, spent_flops, plan, rest):
    """`, ETA 3m` for the `rest` of the grid, at this session's pace."""
    if not spent_flops:
        return ""
    remaining = sum(plan[arm["name"]]["flops"] for arm, _ in rest)
    return f", ETA {_format_seconds(spent_seconds / spent_flops * remaining)}"


@keras_objectives_export("keras_objectives.compare.run_comparison")
def run_comparison(recipe, workdir, progress=True, evaluate=True,
                   report=True, train_fn=None, corpus=None):
    """Train and evaluate every arm x seed of a comparison recipe.

    Args:
        recipe: a comparison recipe dict (`get_config()` of a
            `recipes/compare_*.py` file); validated here.
        workdir: the comparison directory (created; resumable).
        progress: bool, print `[k/n] arm seed s ...` lines with an ETA to
            stderr.
        evaluate: bool, run the recipe's evaluations on each run.
        report: bool, write results and `report.md`/`report.html` at the
            end.
        train_fn: `(config, run_dir) -> summary`, default
            `training.train` (tests inject failures here).
        corpus: an already prepared corpus (default:
            `training.prepare_corpus(recipe["base"])`, as training does).

    Returns:
        The collection of runs (`compare.results.collect`).

    Examples:

    ```python
    from keras_objectives.compare import run_comparison
    from keras_objectives.config import load_recipe
    run_comparison(load_recipe("recipes/quickstart.py"), "runs/quickstart")
    ```
    """
    check_writable_dir("workdir", workdir)
    session_started = time.perf_counter()
    recipe = validate_recipe(recipe)
    _previous_comparison(workdir)  # A broken comparison.json fails first.
    log = _logger(progress)
    train_fn = train_fn or _train_quietly
    if corpus is None:
        from keras_objectives.training import prepare_corpus

        corpus = prepare_corpus(recipe["base"])
    if evaluate:
        load_tasks(recipe, corpus)  # Every task file, before any training.
    plan = budget_lib.plan_budget(recipe, corpus)
    os.makedirs(workdir, exist_ok=True)
    _record_comparison(workdir, recipe, plan)
    _log_plan(recipe, plan, log)

    grid = [(arm, seed) for seed in recipe["seeds"] for arm in recipe["arms"]]
    # Each attention mode's first arm also evaluates its step-0 weights:
    # the untrained reference, through the same code as every checkpoint.
    references = set()
    if recipe["controls"]["untrained"]:
        from keras_objectives.compare.findings import references as refs

        references = set(refs(recipe, plan)[0].values())
    # Seconds per planned FLOP of the runs trained (and evaluated) in this
    # session: the ETA of the rest of the grid.
    spent_seconds, spent_flops = 0.0, 0.0
    setup_seconds = time.perf_counter() - session_started
    for index, (arm, seed) in enumerate(grid, start=1):
        name, p = arm["name"], plan[arm["name"]]
        tag = f"[{index}/{len(grid)}] {name} seed {seed}"
        path = results_lib.run_dir(workdir, name, seed)
        started = time.perf_counter()
        status = _status(path)
        trained = status not in ("completed", "diverged", "broken")
        if status == "broken":
            log(f"{tag}: run dir is broken, skipped (delete it to rerun)")
            continue
        if not trained:
            log(f"{tag}: {status} earlier, skipped")
        else:
            eta = _eta(spent_seconds, spent_flops, plan, grid[index - 1:])
            log(f"{tag}: training {p['steps']} steps ({p['flops']:.3g} "
                f"FLOPs){eta}")
            status = _train_one(recipe, arm, seed, p, path, train_fn, tag,
                                log)
        run_seconds = time.perf_counter() - started
        if status == "completed" and evaluate and recipe["evaluations"]:
            _evaluate_one(path, recipe, p, tag, log,
                          untrained=name in references)
        evaluation_seconds = time.perf_counter() - started - run_seconds
        if trained or evaluation_seconds > _CACHED_ONLY_SECONDS:
            timing_lib.add_timing(workdir, setup_seconds, (name, seed),
                                  run_seconds if trained else 0.0,
                                  evaluation_seconds)
            setup_seconds = 0.0  # Counted once per session.
        if trained and status in ("completed", "diverged"):
            spent_seconds += time.perf_counter() - started
            spent_flops += p["flops"]
    line = timing_lib.timing_line(results_lib.collect(workdir))
    if line:
        log(f"time: {line}")
    if report:
        from keras_objectives.compare.report import write_report

        paths = write_report(workdir)
        log(f"report: {paths['html']}")
    return results_lib.collect(workdir)


def _train_quietly(config, path):
    from keras_objectives.training import train

    return train(config, path, verbose=0)


def _log_plan(recipe, plan, log):
    for arm in recipe["arms"]:
        p = plan[arm["name"]]
        log(f"plan: {arm['name']} ({p['objective']}, {p['attention_mode']}"
            f" attention): {p['steps']} steps, {p['tokens']:.3g} tokens, "
            f"{p['flops']:.3g} FLOPs, {p['loss_position_share']:.0%} "
            "loss-bearing positions")


def _evaluate_one(path, recipe, plan, tag, log, untrained=False):
    try:
        evaluate_lib.evaluate_run(
            path, recipe, plan["steps"], plan["steps_per_checkpoint"],
            log=lambda line: log(f"{tag}: {line}"), untrained=untrained)
    except Exception as e:  # e.g. an unreadable evals.json
        log(f"{tag}: evaluation FAILED ({type(e).__name__}: {e}); "
            "continuing")


def _previous_comparison(workdir):
    """The workdir's comparison.json, or None; a clear error if broken."""
    try:
        return results_lib.load_comparison(workdir)
    except (ValueError, OSError) as e:
        path = os.path.join(workdir, "comparison.json")
        raise ValueError(
            f"Cannot read {path!r}: {e}. Delete it to record this "
            "comparison afresh (the runs under runs/ are kept), or use a "
            "new --workdir."
        ) from None


def load_tasks(recipe, corpus):
    """Load every evaluation's task once (cached), naming a broken one.

    A task file that is missing, not UTF-8 or malformed fails here, before
    any arm trains, instead of once per run after training.
    """
    for index, entry in enumerate(recipe["evaluations"]):
        if entry["name"] not in evaluate_lib.MULTI_SEED:
            continue
        try:
            evaluate_lib.resolve_task(entry["name"], entry.get("task"),
                                      corpus)
        except (ValueError, OSError) as e:
            raise ValueError(
                f"The task of evaluation `{entry['label']}` "
                f"(evaluations[{index}], {entry['name']}) cannot be loaded: "
                f"{e}"
            ) from None


def _status(path):
    try:
        return results_lib.read_run(path)["status"]
    except ValueError:
        return "broken"


def _train_one(recipe, arm, seed, plan, path, train_fn, tag, log):
    config = arm_run_config(recipe, arm, seed, plan["steps"],
                            plan["steps_per_checkpoint"])
    failure_path = os.path.join(path, "failure.json")
    started = time.perf_counter()
    try:
        summary = train_fn(config, path)
    except Exception as e:  # One arm's bug must not stop the grid.
        reason = f"{type(e).__name__}: {e}"
        atomic_write_json(failure_path, {
            "status": "failed", "failure": reason,
            "traceback": traceback.format_exc()})
        log(f"{tag}: FAILED ({reason}); continuing with the other runs")
        return "failed"
    finally:
        import keras

        keras.backend.clear_session()
    if os.path.exists(failure_path):
        os.remove(failure_path)
    seconds = time.perf_counter() - started
    if summary.get("status") == "diverged":
        log(f"{tag}: DIVERGED ({summary.get('failure')}); recorded as "
            "failed, continuing")
        return "diverged"
    log(f"{tag}: completed in {_format_seconds(seconds)}, held-out loss "
        f"{summary.get('held_out_loss', float('nan')):.4f}, "
        f"{summary.get('tokens_per_second', 0):.0f} tokens/s")
    return summary.get("status", "completed")


def _logger(progress):
    def log(line):
        if progress:
            print(f"compare: {line}", file=sys.stderr, flush=True)

    return log
