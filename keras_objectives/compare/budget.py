"""One budget, converted into each arm's step count.

The user names one budget axis: training FLOPs, tokens seen, or optimizer
steps. Objectives cost different FLOPs per step (a causal LM pays the
output softmax at every position, an MLM at the ~15% masked ones, ELECTRA
pays its generator), so an equal-FLOP budget means a different number of
steps per arm. Each arm's objective and backbone are built once to read
their `accounting(dims, batch_size)`; then

    steps = floor(budget / cost_per_step),

then trimmed so that `training.steps_per_checkpoint` divides it: the arm
gets the most logging intervals (at most `log_intervals`) that cost at most
1% of its steps, so no arm loses more than 1% of the budget to rounding.
The plan records what each arm will actually consume on all three axes
plus the loss-bearing positions.
"""

import keras

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.compare.recipe import arm_run_config

_PER_STEP = {"flops": "flops_per_step", "tokens": "tokens_per_step"}


def arm_accounting(run_config, corpus):
    """Per-step accounting of one arm's run config on `corpus`.

    Builds the objective (`training.build_objective`) and the compiled
    model (`training.build_model`) exactly as training will, and reads
    `objective.accounting(ModelDims.from_backbone(...), global_batch)`.

    Returns:
        dict with `tokens_per_step`, `flops_per_step`,
        `loss_positions_per_step`, `attention_mode`, `architecture`,
        `objective` (its registered name) and `parameters`.
    """
    from keras_objectives import training
    from keras_objectives.objectives.flops import ModelDims

    objective = training.build_objective(run_config, corpus)
    model = training.build_model(
        run_config, objective, corpus.special_tokens.vocabulary_size
    )
    dims = ModelDims.from_backbone(model.backbone,
                                   run_config["sequence_length"])
    batch = run_config["training"]["global_batch_size"]
    out = dict(objective.accounting(dims, batch))
    out.update(
        objective=objective.name,
        attention_mode=objective.attention_mode,
        architecture=objective.architecture,
        parameters=int(model.count_params()),
    )
    keras.backend.clear_session()
    return out


def steps_for_budget(budget, accounting, arm_name, log_intervals=10):
    """Convert the budget into `(steps, steps_per_checkpoint)` for one arm.

    Args:
        budget: `{"flops": x}`, `{"tokens": x}` or `{"steps": x}`.
        accounting: the arm's per-step accounting dict.
        arm_name: used in the error message.
        log_intervals: metrics rows / checkpoints wanted per run.

    Raises:
        ValueError: the budget does not pay for one step of this arm.

    Examples:

    >>> acc = {"flops_per_step": 1e9, "tokens_per_step": 4096}
    >>> steps_for_budget({"flops": 2.003e11}, acc, "mlm", log_intervals=10)
    (200, 20)
    >>> steps_for_budget({"flops": 3.9e10}, acc, "clm", log_intervals=5)
    (39, 13)
    """
    axis, amount = next(iter(budget.items()))
    if axis == "steps":
        raw = int(amount)
    else:
        raw = int(amount // accounting[_PER_STEP[axis]])
    if raw < 1:
        per_step = accounting[_PER_STEP[axis]] if axis != "steps" else 1
        raise ValueError(
            f"Invalid value received for recipe field `budget.{axis}`. "
            f"Expected enough for at least one step of arm `{arm_name}`, "
            f"which costs {per_step:.4g} {axis} per step. Received: "
            f"budget.{axis}={amount:.4g}. Raise the budget to at least "
            f"{per_step:.4g} (better: 100x that), or shrink the model, "
            "batch or sequence length."
        )
    intervals = max(k for k in range(1, min(log_intervals, raw) + 1)
                    if raw % k <= 0.01 * raw)
    steps = raw - raw % intervals
    return steps, steps // intervals


@keras_objectives_export("keras_objectives.compare.plan_budget")
def plan_budget(recipe, corpus, accounting_fn=None):
    """Each arm's steps and its tokens, FLOPs and loss positions.

    Args:
        recipe: a validated comparison recipe.
        corpus: the prepared corpus (`training.prepare_corpus`), or any
            object with `special_tokens` and `vocabulary`.
        accounting_fn: `(run_config, corpus) -> accounting dict`,
            default `arm_accounting`.

    Returns:
        dict `{arm_name: plan}` where a plan has `steps`,
        `steps_per_checkpoint`, the per-step accounting, and the planned
        `tokens`, `flops` and `loss_positions` over the whole run.
    """
    accounting_fn = accounting_fn or arm_accounting
    plans = {}
    for arm in recipe["arms"]:
        config = arm_run_config(recipe, arm, recipe["seeds"][0])
        accounting = accounting_fn(config, corpus)
        steps, per_ckpt = steps_for_budget(
            recipe["budget"], accounting, arm["name"],
            recipe["log_intervals"])
        plans[arm["name"]] = {
            **accounting,
            "steps": steps,
            "steps_per_checkpoint": per_ckpt,
            "tokens": steps * accounting["tokens_per_step"],
            "flops": steps * accounting["flops_per_step"],
            "loss_positions": steps * accounting["loss_positions_per_step"],
            "loss_position_share": (accounting["loss_positions_per_step"]
                                    / accounting["tokens_per_step"]),
            "epochs": _epochs(steps * accounting["tokens_per_step"], corpus),
            "vocabulary_size": _vocabulary_size(corpus),
        }
    return plans


def _vocabulary_size(corpus):
    special = getattr(corpus, "special_tokens", None)
    return getattr(special, "vocabulary_size", None)


def _epochs(tokens, corpus):
    """Passes over the training split (its tokens plus one EOS per
    document), or `None` when the corpus has no stats."""
    train = (getattr(corpus, "stats", None) or {}).get("train") or {}
    size = (train.get("tokens") or 0) + (train.get("documents") or 0)
    return tokens / size if size else None
