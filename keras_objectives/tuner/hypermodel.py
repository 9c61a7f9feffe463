"""`ObjectiveHyperModel`: a keras-tuner HyperModel over objectives.

A trial picks an objective (`hp.Choice("objective", ...)`), that
objective's own hyperparameters (conditional on the choice) and the shared
learning rate. `build(hp)` makes the body and the objective's head with
`training.build_model`; `fit(hp, model)` rebuilds the data pipeline from
`hp` (mask rate, span length... act on the data), pre-trains under one
fixed budget (FLOPs or tokens become steps through the objective's own
`accounting`, so objectives get equal compute, not equal steps), and
returns the frozen-feature linear probe's dev accuracy as
`probe_accuracy`. Pre-training loss is never the score: it is not
comparable across objectives or mask rates (docs/methodology.md).
"""

import copy
import json
import math
import os
import time
import warnings

import keras
import tensorflow as tf

from keras_objectives import config as config_lib
from keras_objectives import data
from keras_objectives import distribute
from keras_objectives import evaluation
from keras_objectives import objectives as objectives_lib
from keras_objectives import training
from keras_objectives.api_export import keras_objectives_export
from keras_objectives.compare.budget import steps_for_budget
from keras_objectives.compare.evaluate import resolve_task
from keras_objectives.data.special_tokens import SpecialTokens
from keras_objectives.data.special_tokens import reserved_tokens
from keras_objectives.objectives.flops import ModelDims
from keras_objectives.tuner import executions
from keras_objectives.tuner import require_keras_tuner
from keras_objectives.tuner import spaces
from keras_objectives.tuner.recipe import check_budget
from keras_objectives.utils import atomic_write_json

keras_tuner = require_keras_tuner()

METRIC = executions.METRIC


def probe_objective():
    """The tuner objective: `keras_tuner.Objective("probe_accuracy", "max")`.
    """
    return keras_tuner.Objective(METRIC, direction="max")


@keras_objectives_export("keras_objectives.tuner.ObjectiveHyperModel")
class ObjectiveHyperModel(keras_tuner.HyperModel):
    """Search over pre-training objectives, scored by a downstream probe.

    Args:
        config: the base run config (`keras_objectives.config`); every
            trial shares its data, body, batch, optimizer and seed.
        objectives: names (or `{"class_name", "config"}` with arguments
            kept fixed) to choose from; default `[config["objective"]]`.
        space: restrictions of the search space, see
            `keras_objectives.tuner.spaces.resolve_space`; default the
            objectives' own `search_space` and `SHARED_SPACE`.
        budget: `{"flops": x}`, `{"tokens": x}` or `{"steps": x}` per
            execution; default `{"steps": config["training"]["steps"]}`.
        task: the probe task: `"book_attribution"` (built in), a
            classification file or a dict of train/dev/test files, or a
            `keras_objectives.evaluation.ClassificationTask`.
        probe_seeds: the linear probe's seeds (their mean is the score).
        warmup_fraction: warmup as a share of the budget's steps.
        max_epochs: the number of Keras epochs the budget is cut into
            (Hyperband's resource); default the tuner's `max_epochs`, the
            `epochs` passed to `search`, or 1.
        verbose: `model.fit` verbosity.

    A tuner runs `executions_per_trial` executions of a trial with seeds
    `config["seed"] + execution` (data order, noise and initialization).
    Each execution's numbers are written to `execution-<k>.json` in the
    trial directory, so a resumed search reuses finished executions.

    Examples:

    >>> import keras_tuner
    >>> hypermodel = ObjectiveHyperModel(
    ...     objectives=["masked_lm", "causal_lm"],
    ...     space={"masked_lm": {"selection_rate": [0.15, 0.4]}})
    >>> hp = keras_tuner.HyperParameters()
    >>> hypermodel.declare_hyperparameters(hp)
    >>> [p.name for p in hp.space]
    ['objective', 'learning_rate', 'masked_lm/selection_rate']
    >>> hp.is_active("masked_lm/selection_rate")
    True
    >>> hp.values["objective"] = "causal_lm"
    >>> hp.is_active("masked_lm/selection_rate")
    False
    """

    def __init__(self, config=None, objectives=None, space=None,
                 budget=None, task="book_attribution", probe_seeds=(0, 1, 2),
                 warmup_fraction=0.1, max_epochs=None, verbose=0, name=None,
                 tunable=True):
        super().__init__(name=name, tunable=tunable)
        self.config = config_lib.validate(copy.deepcopy(
            config or config_lib.base_config()))
        self.objectives = copy.deepcopy(
            objectives or [self.config["objective"]])
        self.objective_configs = spaces.check_objectives(self.objectives)
        self.space = space
        resolved = spaces.resolve_space(self.objective_configs, space)
        spaces.validate_values(resolved, self.objective_configs,
                               self._dummy_objective)
        self._space = spaces.with_defaults(resolved, self.config)
        self.budget = check_budget(budget or {
            "steps": self.config["training"]["steps"]})
        self.task = task
        self.probe_seeds = [int(s) for s in probe_seeds]
        if not self.probe_seeds:
            raise ValueError("Invalid value received for argument "
                             "`probe_seeds`. Expected at least one seed. "
                             "Received: probe_seeds=[]")
        if not 0.0 <= float(warmup_fraction) < 1.0:
            raise ValueError(
                "Invalid value received for argument `warmup_fraction`. "
                "Expected a float in [0, 1). Received: "
                f"warmup_fraction={warmup_fraction!r}")
        self.warmup_fraction = float(warmup_fraction)
        self.max_epochs = max_epochs
        self.verbose = verbose
        self.trainings = 0  # Executions actually trained in this process.
        self._corpus = self._task = None
        self._dims, self._rows = {}, {}
        self._values_seen, self._execution = None, 0

    # --- the search space ------------------------------------------------
    def _dummy_objective(self, name, kwargs):
        vocabulary = reserved_tokens() + [f"t{i}" for i in range(1000)]
        with warnings.catch_warnings():  # Only errors matter here.
            warnings.simplefilter("ignore")
            return objectives_lib.get(
                {"class_name": name, "config": kwargs},
                special_tokens=SpecialTokens.from_vocabulary(vocabulary),
                sequence_length=self.config["sequence_length"], seed=0)

    def declare_hyperparameters(self, hp):
        """Register every objective's space, each in its conditional scope.
        """
        names = list(self.objective_configs)
        hp.Choice(spaces.OBJECTIVE, names, default=names[0])
        for key, spec in self._space["shared"].items():
            spaces.declare(hp, key, spec)
        for name in names:
            with hp.conditional_scope(spaces.OBJECTIVE, [name]):
                for argument, spec in self._space["objectives"][name].items():
                    spaces.declare(hp, f"{name}/{argument}", spec)

    def trial_values(self, hp):
        """`(objective name, {hyperparameter: value})` of a trial."""
        names = list(self.objective_configs)
        name = hp.Choice(spaces.OBJECTIVE, names, default=names[0])
        values = {key: spaces.declare(hp, key, spec)
                  for key, spec in self._space["shared"].items()}
        with hp.conditional_scope(spaces.OBJECTIVE, [name]):
            for argument, spec in self._space["objectives"][name].items():
                values[argument] = spaces.declare(hp, f"{name}/{argument}",
                                                  spec)
        return name, values

    # --- data, lazily ----------------------------------------------------
    @property
    def corpus(self):
        """The prepared corpus (tokenized once, cached on disk)."""
        if self._corpus is None:
            self._corpus = training.prepare_corpus(self.config)
        return self._corpus

    @property
    def probe_task(self):
        """The probe's `ClassificationTask`."""
        if self._task is None:
            self._task = self.task if hasattr(self.task, "splits") else (
                resolve_task("linear_probe", self.task, self.corpus))
        return self._task

    def _model_dims(self, config, objective):
        """Body dimensions for FLOP accounting (one throwaway build per
        attention mode)."""
        key = json.dumps([config["model"], objective.attention_mode,
                          objective.architecture], sort_keys=True)
        if key not in self._dims:
            model = training.build_model(
                config, objective, self.corpus.special_tokens.vocabulary_size)
            self._dims[key] = ModelDims.from_backbone(
                model.backbone, config["sequence_length"])
        return self._dims[key]

    def run_config(self, hp, execution=0):
        """The run config, objective and per-step accounting of a trial.

        The config is what `training.train` takes: the objective with the
        trial's arguments, the learning rate, `seed + execution`, and the
        steps the budget pays for with this objective.

        Returns:
            `(config, objective, accounting)`.
        """
        name, values = self.trial_values(hp)
        config = copy.deepcopy(self.config)
        arguments = dict(self.objective_configs[name])
        for key, value in values.items():
            if key in spaces.SHARED_FIELDS:
                section, field = spaces.SHARED_FIELDS[key]
                config[section][field] = value
            else:
                arguments[key] = value
        config["objective"] = {"class_name": name, "config": arguments}
        config["seed"] = self.config["seed"] + int(execution)
        objective = training.build_objective(config, self.corpus)
        t = config["training"]
        accounting = objective.accounting(
            self._model_dims(config, objective), t["global_batch_size"])
        steps, per_checkpoint = steps_for_budget(self.budget, accounting,
                                                 name, log_intervals=10)
        t.update(steps=steps, steps_per_checkpoint=per_checkpoint,
                 warmup_steps=int(round(self.warmup_fraction * steps)))
        return config, objective, accounting

    # --- keras-tuner's interface -----------------------------------------
    def build(self, hp):
        """The compiled pre-trainer of the trial's objective."""
        if hp.values != self._values_seen:
            self._values_seen, self._execution = dict(hp.values), 0
        config, objective, _ = self.run_config(hp, self._execution)
        t = config["training"]
        if t["deterministic"]:
            tf.config.experimental.enable_op_determinism()
        if t["mixed_precision"]:
            keras.mixed_precision.set_dtype_policy(t["mixed_precision"])
        keras.utils.set_random_seed(config["seed"])
        return training.build_model(
            config, objective, self.corpus.special_tokens.vocabulary_size)

    def fit(self, hp, model, *args, callbacks=None, epochs=None,
            initial_epoch=0, verbose=None, **kwargs):
        """Pre-train under the budget, then probe; `{"probe_accuracy": x}`.

        Args:
            hp: the trial's `HyperParameters`.
            model: the model `build(hp)` returned.
            callbacks: passed to `model.fit`; keras-tuner's own callbacks
                instead receive the probe score once it is known.
            epochs, initial_epoch: Hyperband's resource: train epochs
                `[initial_epoch, epochs)` of `max_epochs` equal parts of
                the budget.
            verbose: the search's display verbosity (keras-tuner's own);
                `model.fit` uses the constructor's `verbose`.
        """
        unknown = set(kwargs) - {"shuffle"}
        if args or unknown:
            raise ValueError(
                "ObjectiveHyperModel builds its data from the run config; "
                "call `tuner.search()` without data. Received: "
                f"{len(args)} positional argument(s) and keyword(s) "
                f"{sorted(unknown)}.")
        if hp.values != self._values_seen:
            self._values_seen, self._execution = dict(hp.values), 0
        execution = self._execution
        try:
            result = self._fit_execution(hp, model, execution, callbacks,
                                         epochs, initial_epoch)
        except BaseException:
            self._values_seen = None  # A retry restarts at execution 0.
            raise
        self._execution = execution + 1
        return result

    def _units(self, tuner, epochs):
        oracle_epochs = getattr(getattr(tuner, "oracle", None),
                                "max_epochs", None)
        return int(self.max_epochs or oracle_epochs or epochs or 1)

    def _fit_execution(self, hp, model, execution, callbacks, epochs,
                       initial_epoch):
        tuner, trial = executions.tuner_and_trial(callbacks)
        config, objective, accounting = self.run_config(hp, execution)
        units = self._units(tuner, epochs)
        per_epoch = max(1, config["training"]["steps"] // units)
        first, last = int(initial_epoch or 0), int(epochs or units)
        key = {"hyperparameters": dict(hp.values), "config": config,
               "epochs": [first, last], "steps_per_epoch": per_epoch,
               "task": repr(self.task), "probe_seeds": self.probe_seeds}
        key = json.loads(json.dumps(key, default=str))
        path = (os.path.join(tuner.get_trial_dir(trial.trial_id),
                             f"execution-{execution}.json") if tuner else None)
        cached = executions.read_record(path, key)
        if cached is not None:
            executions.notify(callbacks, model, last, cached["score"], True)
            return {METRIC: cached["score"]}

        batch = config["training"]["global_batch_size"]
        distribute.per_replica_batch_size(batch, model.distribute_strategy)
        if objective.raw_length not in self._rows:
            self._rows[objective.raw_length] = self.corpus.pack(
                "train", objective.raw_length)
        start = first * per_epoch
        if not model.optimizer.built:
            # Building the slots before `fit` saves `fit` a second trace of
            # the train step (about 40% of a tiny trial's time on a CPU).
            with model.distribute_strategy.scope():
                model.optimizer.build(model.trainable_variables)
        if start:  # Hyperband: continue the schedule and the data stream.
            model.optimizer.iterations.assign(start)
        dataset = data.make_dataset(
            self._rows[objective.raw_length], batch, seed=config["seed"],
            start_example=start * batch,
            transform=training.model_inputs(objective))
        started = time.perf_counter()
        history = model.fit(
            dataset, epochs=last, initial_epoch=first,
            steps_per_epoch=per_epoch, shuffle=False,
            callbacks=[c for c in callbacks or []
                       if not executions.is_tuner_callback(c)],
            verbose=self.verbose)
        self.trainings += 1
        train_time = time.perf_counter() - started
        losses = history.history.get("loss") or [float("nan")]
        if not all(math.isfinite(v) for v in losses):
            raise keras_tuner.errors.FailedTrialError(
                f"Pre-training diverged: loss {losses[-1]} with "
                f"hyperparameters {hp.values}. Lower the learning rate.")
        probe = evaluation.evaluate_linear_probe(
            model, objective, self.corpus, self.probe_task,
            seed=self.probe_seeds)
        score = float(probe["dev_accuracy"])
        trained = (last - first) * per_epoch
        record = {
            **key,
            "trial_id": trial.trial_id if trial else None,
            "execution": execution,
            "seed": config["seed"],
            "objective": config["objective"]["class_name"],
            "score": score,
            "metric": f"{self.probe_task.name} dev accuracy (linear probe)",
            "probe": {k: v for k, v in probe.items() if k != "per_seed"},
            "steps_trained": trained,
            "steps_total": last * per_epoch,
            "tokens": last * per_epoch * accounting["tokens_per_step"],
            "flops": last * per_epoch * accounting["flops_per_step"],
            "loss_positions": (last * per_epoch
                               * accounting["loss_positions_per_step"]),
            "accounting": accounting,
            "final_loss": float(losses[-1]),
            "train_time": train_time,
            "wall_time": time.perf_counter() - started,
        }
        if path:
            atomic_write_json(path, json.loads(json.dumps(record,
                                                          default=str)))
        executions.notify(callbacks, model, last, score, False)
        return {METRIC: score}

    def get_config(self):
        task = self.task if isinstance(self.task, (str, dict)) or (
            self.task is None) else repr(self.task)
        return {"config": self.config, "objectives": self.objectives,
                "space": self.space, "budget": self.budget, "task": task,
                "probe_seeds": self.probe_seeds,
                "warmup_fraction": self.warmup_fraction,
                "max_epochs": self.max_epochs, "verbose": self.verbose,
                "name": self.name, "tunable": self.tunable}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
