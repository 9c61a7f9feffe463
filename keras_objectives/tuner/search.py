"""`run_search(recipe, workdir)`: what `keras-objectives tune` runs.

The keras-tuner project lives in `<workdir>/tuner/` (one `trial_<id>/`
per trial, with keras-tuner's `trial.json` and this package's
`execution-<k>.json`). Rerunning with the same workdir resumes: keras-tuner
reloads its oracle (`overwrite=False`), finished trials are kept, an
interrupted trial is retried and its finished executions are reused. A
recipe that changed anything but `max_trials` or `description` is refused,
so a resumed search never mixes two setups.
"""

import datetime
import json
import os
import time

from keras_objectives import distribute
from keras_objectives.tuner import require_keras_tuner
from keras_objectives.tuner.recipe import RESUMABLE
from keras_objectives.tuner.recipe import changed_fields
from keras_objectives.tuner.recipe import validate_tuning_recipe
from keras_objectives.utils import atomic_write_json
from keras_objectives.utils import check_local_dir

PROJECT = "tuner"  # keras-tuner's project_name inside the workdir.
RECIPE_FILE = "tuning.json"
SESSIONS_FILE = "sessions.json"


def make_hypermodel(recipe):
    """The recipe's `ObjectiveHyperModel`."""
    from keras_objectives.tuner.hypermodel import ObjectiveHyperModel

    options = recipe["tuner_options"]
    return ObjectiveHyperModel(
        config=recipe["base"], objectives=recipe["objectives"],
        space=recipe["space"], budget=recipe["budget"],
        task=recipe["task"], probe_seeds=recipe["probe_seeds"],
        warmup_fraction=recipe["warmup_fraction"],
        max_epochs=options.get("max_epochs") if recipe["tuner"] == (
            "Hyperband") else None)


def make_tuner(recipe, hypermodel, workdir, overwrite=False,
               distribution_strategy=None):
    """The recipe's keras-tuner tuner over `hypermodel` in `workdir`.

    Args:
        recipe: a validated tuning recipe.
        hypermodel: an `ObjectiveHyperModel`.
        workdir: the search directory (the project is `workdir/tuner`).
        overwrite: bool, start afresh instead of resuming.
        distribution_strategy: a `tf.distribute.Strategy` or `None`,
            passed through to the tuner.
    """
    keras_tuner = require_keras_tuner()
    from keras_objectives.tuner.hypermodel import probe_objective

    cls = getattr(keras_tuner, recipe["tuner"])
    kwargs = {
        "hypermodel": hypermodel,
        "objective": probe_objective(),
        "executions_per_trial": recipe["executions_per_trial"],
        "directory": workdir,
        "project_name": PROJECT,
        "overwrite": overwrite,
        "distribution_strategy": distribution_strategy,
        "seed": recipe["seed"],
        **recipe["tuner_options"],
    }
    if recipe["tuner"] != "Hyperband":
        kwargs["max_trials"] = recipe["max_trials"]
    try:
        return cls(**kwargs)
    except ImportError as e:  # BayesianOptimization needs scipy.
        raise ValueError(
            f"Invalid value received for recipe field `tuner`: "
            f"keras_tuner.{recipe['tuner']} cannot run here: {e} Install "
            "it, or use tuner='RandomSearch' or 'Hyperband'.") from None
    except TypeError as e:
        raise ValueError(
            "Invalid value received for recipe field `tuner_options`. "
            f"keras_tuner.{recipe['tuner']} refused them: {e}. Received: "
            f"tuner_options={recipe['tuner_options']!r}") from None


def _check_workdir(recipe, workdir, overwrite):
    path = os.path.join(workdir, RECIPE_FILE)
    new = json.loads(json.dumps(recipe, default=str))
    if os.path.isfile(path) and not overwrite:
        with open(path) as f:
            old = json.load(f)["recipe"]
        changed = [f for f in changed_fields(old, new)
                   if f.split(".")[0] not in RESUMABLE]
        if changed:
            raise ValueError(
                f"The workdir {workdir!r} holds a search with a different "
                f"recipe (changed: {changed}). Resuming may only change "
                f"{list(RESUMABLE)}. Use a new --workdir, or --overwrite to "
                "start the search again.")
    os.makedirs(workdir, exist_ok=True)
    if overwrite and os.path.isfile(os.path.join(workdir, SESSIONS_FILE)):
        os.remove(os.path.join(workdir, SESSIONS_FILE))
    atomic_write_json(path, {"recipe": new})


def _strategy(recipe):
    name = recipe["distribution_strategy"] or recipe["base"]["strategy"]
    if name == "auto" and recipe["distribution_strategy"] is None:
        import tensorflow as tf

        strategy = distribute.get_strategy("auto", recipe["devices"])
        return None if strategy is tf.distribute.get_strategy() else strategy
    return distribute.get_strategy(name, devices=recipe["devices"])


def _log_session(workdir, record):
    path = os.path.join(workdir, SESSIONS_FILE)
    sessions = []
    if os.path.isfile(path):
        with open(path) as f:
            sessions = json.load(f)
    atomic_write_json(path, sessions + [record])


def run_search(recipe, workdir, overwrite=False, verbose=1):
    """Run (or resume) a search and write its report.

    Args:
        recipe: a tuning recipe dict (`load_tuning_recipe`).
        workdir: the search directory.
        overwrite: bool, delete a previous search in `workdir` first.
        verbose: keras-tuner's progress display (0 or 1).

    Returns:
        dict with `best_hyperparameters` (the best trial's values),
        `best_score`, `trials`, `trainings` (executions trained in this
        call), `wall_time`, `report` (the written paths) and `tuner`.
    """
    from keras_objectives.tuner.report import write_tuning_report

    check_local_dir("workdir", workdir)
    recipe = validate_tuning_recipe(recipe)
    strategy = _strategy(recipe)  # First: multi-worker starts before TF.
    _check_workdir(recipe, workdir, overwrite)
    started = time.perf_counter()
    hypermodel = make_hypermodel(recipe)
    tuner = make_tuner(recipe, hypermodel, workdir, overwrite, strategy)
    tuner.search(verbose=verbose)
    wall_time = time.perf_counter() - started
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    _log_session(workdir, {
        "finished": datetime.datetime.now().isoformat(timespec="seconds"),
        "wall_time": wall_time, "trainings": hypermodel.trainings,
        "load_average": list(load) if load else None,
        "cpu_count": os.cpu_count()})
    paths = write_tuning_report(workdir)
    best = tuner.oracle.get_best_trials(1)
    return {
        "best_hyperparameters": dict(best[0].hyperparameters.values)
        if best else None,
        "best_score": best[0].score if best else None,
        "trials": len(tuner.oracle.trials),
        "trainings": hypermodel.trainings,
        "wall_time": wall_time,
        "report": paths,
        "tuner": tuner,
    }
