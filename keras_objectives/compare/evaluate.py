"""Evaluate a run's checkpoints once and cache the numbers in `evals.json`.

Each recipe evaluation (`held_out_lm`, `minimal_pairs`, `linear_probe`,
`fine_tune`, `tagging`) maps to `keras_objectives.evaluation.evaluate_<name>
(model, objective, corpus, task=..., seed=..., **options) -> dict`. It runs
on the final checkpoint and, when the recipe asks for curves, on
`checkpoints_for_curves` checkpoints spread along training. Probe-like
evaluations run once per evaluation seed; the cached entry keeps every
seed and their mean. An entry is recomputed only when its options change
or it failed, so `report` never recomputes anything.
"""

import json
import math
import os
import time

from keras_objectives.utils import atomic_write_json

# Recipe keys that steer the harness, not the evaluation function.
_HARNESS_KEYS = ("name", "label", "metric", "along_training", "seeds", "use")


def curve_steps(steps, steps_per_checkpoint, count):
    """Steps of `count` checkpoints spread evenly, ending at the last.

    >>> curve_steps(100, 10, 3)
    [40, 70, 100]
    >>> curve_steps(100, 10, 0)
    [100]
    """
    intervals = max(steps // steps_per_checkpoint, 1)
    count = min(max(count, 1), intervals)
    return sorted({steps_per_checkpoint * math.ceil(i * intervals / count)
                   for i in range(1, count + 1)})


def evaluation_options(entry):
    """The options passed to the evaluation function (JSON types)."""
    return {k: v for k, v in sorted(entry.items()) if k not in _HARNESS_KEYS}


def read_evals(path):
    file = os.path.join(path, "evals.json")
    if not os.path.isfile(file):
        return {}
    with open(file) as f:
        return json.load(f).get("entries", {})


def _write(path, entries):
    atomic_write_json(os.path.join(path, "evals.json"),
                      {"version": 1, "entries": entries})


# Recipe name -> function names tried in `keras_objectives.evaluation`.
FUNCTIONS = {
    "held_out_lm": ("evaluate_held_out_lm", "evaluate_language_model"),
    "minimal_pairs": ("evaluate_minimal_pairs",),
    "linear_probe": ("evaluate_linear_probe",),
    "fine_tune": ("evaluate_fine_tune", "evaluate_fine_tuning"),
    "tagging": ("evaluate_tagging", "evaluate_token_tagging"),
}
# Instruments that take a list of seeds and return `per_seed` runs (the
# features are computed once for all probe seeds).
MULTI_SEED = ("linear_probe", "fine_tune", "tagging")
# Built-in downstream tasks (no file needed): the embedded books' tails.
BUILTIN_TASKS = {"book_attribution": "book", "books": "book",
                 "author_attribution": "author", "authors": "author",
                 "crosswoz_domain": "crosswoz"}
# Built-in token-level task (tagging): punctuation restoration on the tails.
BUILTIN_TAGGING = ("punctuation",)
_PER_RUN_KEYS = ("seed", "iterations")
_TASKS = {}


def evaluation_function(name):
    """The `keras_objectives.evaluation` function behind a recipe name."""
    from keras_objectives import evaluation

    for candidate in FUNCTIONS[name]:
        fn = getattr(evaluation, candidate, None)
        if fn is not None:
            return fn
    raise ValueError(
        f"keras_objectives.evaluation has none of {list(FUNCTIONS[name])} "
        f"for the recipe evaluation {name!r}."
    )


def resolve_task(name, spec, corpus):
    """A task object from a recipe's `task` option (cached per process).

    `None`, `"book_attribution"` or `"author_attribution"`: the built-in
    task from the held-out tails of the embedded books (of the Chinese
    works for an `embedded-zh` corpus); `"crosswoz_domain"`: the built-in
    Chinese dialogue-domain task; for `tagging`, `None` or
    `"punctuation"`: the built-in punctuation-restoration task on the
    English tails (`evaluation.punctuation_task`); `"tfds:NAME"`: a
    TFDS dataset; a path or a dict of `train`/`dev`/`test` paths: the
    user's files (CoNLL columns for `tagging`, classification files
    otherwise).
    """
    from keras_objectives import evaluation

    key = (name == "tagging", repr(spec), getattr(corpus, "source", None),
           getattr(corpus, "vocabulary_size", None))
    if key in _TASKS:
        return _TASKS[key]
    if name == "tagging" and (spec is None or spec in BUILTIN_TAGGING):
        task = evaluation.punctuation_task()
    elif spec is None or (isinstance(spec, str) and spec in BUILTIN_TASKS):
        if name == "tagging":
            raise ValueError(
                "Invalid value received for the `tagging` evaluation's "
                f"`task`. Expected {list(BUILTIN_TAGGING)}, a CoNLL file "
                f"path or a dict of train/dev/test paths. Received: task="
                f"{spec!r}."
            )
        task = _builtin_task(BUILTIN_TASKS.get(spec, "book"), corpus)
    elif isinstance(spec, str) and spec.startswith("tfds:"):
        task = evaluation.load_tfds(spec[len("tfds:"):])
    else:
        load = evaluation.load_conll if name == "tagging" else (
            evaluation.load_classification)
        task = load(**spec) if isinstance(spec, dict) else load(spec)
    _TASKS[key] = task
    return task


def _builtin_task(kind, corpus):
    """The built-in tasks; book attribution follows the corpus language."""
    from keras_objectives import evaluation

    if kind == "crosswoz":
        return evaluation.crosswoz_domain_task()
    if getattr(corpus, "source", None) == "embedded-zh" and kind == "book":
        return evaluation.chinese_book_attribution_task(corpus=corpus)
    return evaluation.book_attribution_task(corpus=corpus, label=kind)


def _numbers(result):
    return {k: float(v) for k, v in result.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool)
            and k not in _PER_RUN_KEYS}


def _call(entry, model, objective, corpus):
    """`(status, reason, per_seed)`; not applicable when the instrument
    returns a `reason` and no numbers (e.g. held-out LM loss of an MLM)."""
    name = entry["name"]
    fn = evaluation_function(name)
    options = evaluation_options(entry)
    if name in ("linear_probe", "fine_tune", "tagging"):
        options["task"] = resolve_task(name, options.get("task"), corpus)
    seeds = entry["seeds"]
    if name in MULTI_SEED:
        calls = [(None, fn(model, objective, corpus, seed=list(seeds),
                           **options))]
    else:
        calls = [(s, fn(model, objective, corpus, seed=s, **options))
                 for s in seeds]
    per_seed = {}
    for seed, result in calls:
        if not isinstance(result, dict):
            raise TypeError(f"{fn.__name__} returned {type(result)}")
        numbers = _numbers(result)
        reason = result.get("reason") or result.get("not_applicable")
        if reason and not any(v == v for v in numbers.values()):
            return "not_applicable", str(reason), {}
        runs = result.get("per_seed")
        if isinstance(runs, list) and runs:
            for run in runs:
                per_seed[str(run.get("seed"))] = _numbers(run)
        else:
            per_seed[str(seed)] = numbers
    return "ok", None, per_seed


def evaluate_run(path, recipe, steps, steps_per_checkpoint, log=None,
                 load_fn=None, untrained=False):
    """Run the recipe's evaluations on one run dir; cache in `evals.json`.

    Args:
        path: a completed run dir.
        recipe: the validated comparison recipe.
        steps, steps_per_checkpoint: the run's planned steps.
        log: optional `callable(str)` for progress lines.
        load_fn: `(run_dir, step) -> (model, objective, corpus, config)`,
            default `training.load_run`.
        untrained: bool, also evaluate the run's initial weights (step 0):
            the run is its attention mode's untrained reference. Step 0
            goes through exactly the same loading and evaluation code as
            every other checkpoint.

    Returns:
        The `evals.json` entries dict.
    """
    if load_fn is None:
        from keras_objectives.training import load_run as load_fn
    import keras

    from keras_objectives.evaluation import reuse
    from keras_objectives.evaluation.shared_model import shared_model

    entries = read_evals(path)
    todo = {}
    for entry in recipe["evaluations"]:
        count = recipe["checkpoints_for_curves"] if entry[
            "along_training"] else 0
        evaluated = curve_steps(steps, steps_per_checkpoint, count)
        for step in [0] * bool(untrained) + evaluated:
            key = f"{entry['label']}@{step}"
            cached = entries.get(key, {})
            if (cached.get("status") in ("ok", "not_applicable")
                    and cached.get("options") == evaluation_options(entry)
                    and cached.get("seeds") == entry["seeds"]):
                continue
            todo.setdefault(step, []).append((key, entry))
    for step in sorted(todo):
        try:
            model, objective, corpus, _ = load_fn(path, step)
            # The traced functions of the first model of this shape.
            model = shared_model(model, objective)
        except (ValueError, OSError) as e:
            for key, entry in todo[step]:
                entries[key] = _entry(entry, step, "error",
                                      f"cannot load step {step}: {e}", {}, 0)
            _write(path, entries)
            continue
        with reuse.shared_features():  # One feature pass per checkpoint.
            _evaluate_step(path, entries, todo[step], step, model,
                           objective, corpus, log)
        del model
    if todo:
        keras.backend.clear_session()
    return entries


def _evaluate_step(path, entries, todo, step, model, objective, corpus,
                   log):
    """Every pending evaluation of one checkpoint, each written at once."""
    for key, entry in todo:
        started = time.perf_counter()
        try:
            status, reason, per_seed = _call(entry, model, objective, corpus)
        except Exception as e:  # An evaluation bug must not stop a grid.
            status, reason, per_seed = "error", f"{type(e).__name__}: " \
                f"{e}", {}
        entries[key] = _entry(entry, step, status, reason, per_seed,
                              time.perf_counter() - started)
        _write(path, entries)
        if log:
            shown = _headline(entries[key], entry["metric"])
            log(f"{entry['label']} @ step {step}: {shown} "
                f"({entries[key]['wall_time']:.1f}s)")


def _entry(entry, step, status, reason, per_seed, seconds):
    metrics = {}
    for values in per_seed.values():
        for k, v in values.items():
            metrics.setdefault(k, []).append(v)
    return {
        "label": entry["label"], "evaluation": entry["name"], "step": step,
        "options": evaluation_options(entry), "seeds": entry["seeds"],
        "status": status, "reason": reason,
        "metrics": {k: sum(v) / len(v) for k, v in metrics.items()},
        "per_seed": per_seed, "wall_time": round(seconds, 3),
    }


def _headline(entry, metric):
    if entry["status"] != "ok":
        return f"{entry['status']} ({entry['reason']})"
    value = entry["metrics"].get(metric)
    if value is None and entry["metrics"]:
        metric, value = next(iter(sorted(entry["metrics"].items())))
    return f"{metric}={value:.4f}" if value is not None else "no metrics"
