"""Comparison recipes that test the published claims, sized to a machine.

`recipes/claims/<claim>.py` and `recipes/claims/suite.py` are thin files
over `claim_recipe`: one comparison per claim (its two arms, the
evaluations that measure it, the budget axis it was published on), or
one comparison holding the arms of several claims (arms shared between
claims train once).

Two sizes, chosen by the recipe argument:

| size | body | length x batch | runs on |
|---|---|---|---|
| `cpu` | 2 layers x 128 | 64 x 32 | 2 CPU cores |
| full (no argument) | 6 layers x 512 (`small`) | 128 x 128 | one GPU |

The `cpu` size is the smallest at which every arm of the structural
claims learned something the probes see in our search
(docs/methodology.md records what was tried). The full size states its
cost from the FLOPs accounting: `cost_hours` divides the grid's planned
FLOPs by a stated device throughput.
"""

import copy

from keras_objectives import config as config_lib
from keras_objectives.compare import sweeps
from keras_objectives.compare.published import CLAIMS
from keras_objectives.compare.recipe import _error
from keras_objectives.compare.recipe import apply_comparison_args
from keras_objectives.compare.recipe import comparison_args

# One GPU's sustained throughput assumed by the full size's cost
# estimates: an A100 at 35% of its 312 TFLOP/s bf16 peak.
GPU_FLOPS_PER_SECOND = 1.1e14

_ARMS = {
    "mlm": {"name": "mlm", "objective": "masked_lm"},
    "clm": {"name": "clm", "objective": "causal_lm"},
    "prefix-lm": {"name": "prefix-lm", "objective": "prefix_lm"},
    "bart-shuffle": {"name": "bart-shuffle", "objective": {
        "class_name": "denoising",
        "config": {"infill_rate": 0.0, "permute_sentences_rate": 1.0}}},
    "span-masking": {"name": "span-masking", "objective": "span_masking"},
}


def _named(arms, **renames):
    out = []
    for arm in arms:
        arm = copy.deepcopy(arm)
        arm["name"] = renames.get(arm["name"], arm["name"])
        out.append(arm)
    return out


def _claim_arms(key):
    """The two arms that test claim `key` (names are the report's)."""
    a = _ARMS
    if key == "electra_vs_mlm":
        return sweeps.electra_vs_mlm(include_electra_15=False)
    if key == "electra_all_tokens":
        return sweeps.electra_vs_mlm(include_electra_15=True)[1:]
    if key == "mask_rate_flat":
        return sweeps.mask_rate_sweep([0.15, 0.40])
    if key == "mask_rate_high":
        return sweeps.mask_rate_sweep([0.15, 0.80])
    if key == "mask_replacement":
        return sweeps.mask_replacement()
    if key == "static_dynamic":
        return sweeps.static_vs_dynamic(dupe_factors=(10,))
    if key == "hybrid_share":
        return [a["mlm"]] + sweeps.clm_mlm_ratio([1 / 16])
    pairs = {
        "sentence_corruption": ("mlm", "bart-shuffle"),
        "bidirectional_understanding": ("mlm", "clm"),
        "causal_likelihood": ("clm", "prefix-lm"),
        "span_masking": ("mlm", "span-masking"),
    }
    return [copy.deepcopy(a[name]) for name in pairs[key]]


# The claims the CPU suite tests together: the structural contrasts that
# small bodies can show (docs/methodology.md).
SUITE = ("sentence_corruption", "bidirectional_understanding",
         "causal_likelihood")

_UNDERSTANDING = [
    {"name": "linear_probe", "task": "book_attribution", "seeds": [0]},
    {"name": "tagging", "task": "punctuation", "seeds": [0]},
]
_GENERATION = ["held_out_lm"]


def _evaluations(keys):
    uses = {claim.key: claim.use for claim in CLAIMS}
    out = []
    if any(uses[k] == "understanding" for k in keys):
        out += copy.deepcopy(_UNDERSTANDING)
    if any(uses[k] == "generation" for k in keys):
        out += copy.deepcopy(_GENERATION)
    return out


def _base(cpu):
    base = config_lib.base_config()
    if cpu:
        base["model"].update(num_layers=2, num_heads=4, hidden_dim=128,
                             intermediate_dim=512, max_sequence_length=128)
        base["sequence_length"] = 64
        base["training"].update(global_batch_size=32, learning_rate=3e-3,
                                eval_batches=4)
    else:
        config_lib.set_model_size(base, "small")
        base["sequence_length"] = 128
        base["model"]["max_sequence_length"] = 256
        base["training"].update(global_batch_size=128, learning_rate=1e-3,
                                mixed_precision="mixed_bfloat16")
    base["training"]["warmup_steps"] = 0  # warmup_fraction of each plan
    return base


def claim_recipe(keys, arg=None, cpu_budget=6e12, gpu_budget=1.4e17):
    """A comparison recipe testing the claims `keys` (a key or a list).

    Args:
        keys: a claim key of `compare.published.CLAIMS`, or several (their
            arms are merged by name).
        arg: the recipe argument: `cpu` for the 2-core size, plus the
            usual `seeds=N`, `budget=FLOPS`.
        cpu_budget, gpu_budget: training FLOPs per run at either size.

    Examples:

    >>> r = claim_recipe("sentence_corruption", "cpu")
    >>> [a["name"] for a in r["arms"]], len(r["seeds"]), r["claims"]
    (['mlm', 'bart-shuffle'], 5, ['sentence_corruption'])
    """
    keys = [keys] if isinstance(keys, str) else list(keys)
    known = [claim.key for claim in CLAIMS]
    for key in keys:
        if key not in known:
            raise _error("claims", key, f"one of {known}")
    args = comparison_args(arg, cpu=False)
    cpu = args["cpu"] or args["runlocal"]
    arms, seen = [], set()
    for key in keys:
        for arm in _claim_arms(key):
            if arm["name"] not in seen:
                seen.add(arm["name"])
                arms.append(arm)
    budget_axis = {claim.key: claim.budget for claim in CLAIMS}
    axis = "flops" if all(budget_axis[k] in (None, "flops")
                          for k in keys) else budget_axis[keys[0]]
    recipe = {
        "name": "claims-" + ("suite" if len(keys) > 1 else keys[0]) + (
            "-cpu" if cpu else ""),
        "description": "Published claims tested at "
                       + ("2-CPU" if cpu else "one-GPU") + " scale: "
                       + ", ".join(keys) + ".",
        "seeds": list(range(5)),
        "budget": {axis: cpu_budget if cpu else gpu_budget},
        "base": _base(cpu),
        "arms": arms,
        "evaluations": _evaluations(keys),
        "claims": keys,
        "checkpoints_for_curves": 0,
        "log_intervals": 10,
    }
    return apply_comparison_args(recipe, args)


def cost_hours(recipe, flops_per_second=GPU_FLOPS_PER_SECOND):
    """Training hours of `recipe`'s grid at a stated device throughput.

    >>> round(cost_hours({"budget": {"flops": 3.6e14}, "seeds": [0, 1],
    ...                   "arms": [{}, {}]}, 1e11), 1)
    4.0
    """
    runs = len(recipe["seeds"]) * len(recipe["arms"])
    return runs * recipe["budget"]["flops"] / flops_per_second / 3600
