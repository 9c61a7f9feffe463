"""One-line helpers that build the arms of the standard experiments.

The experiments are those of docs/methodology.md.

Each helper returns a list of arms (`{"name", "objective", "overrides"}`)
for a comparison recipe's `arms`. Fields under `objective.config.` go into
the objective's config, so the recipe's `variable` stays `"objective"`;
any other field becomes an override, and the recipe must name it in
`variable` (validation says so otherwise), e.g.
`sweep("masked_lm", "training.learning_rate", [3e-4, 1e-3])` with
`variable="training.learning_rate"`.

Examples:

>>> [a["name"] for a in sweep("masked_lm", "objective.config.selection_rate",
...                           [0.15, 0.4])]
['masked_lm-selection_rate=0.15', 'masked_lm-selection_rate=0.4']
"""

import copy

from keras_objectives.api_export import keras_objectives_export


def _arm(arm):
    if isinstance(arm, str):
        return {"name": arm, "objective": {"class_name": arm, "config": {}},
                "overrides": {}}
    arm = copy.deepcopy(arm)
    objective = arm["objective"]
    if isinstance(objective, str):
        objective = {"class_name": objective, "config": {}}
    objective = {**objective, "config": dict(objective.get("config") or {})}
    name = arm.get("name") or objective["class_name"]
    return {"name": name, "objective": objective,
            "overrides": dict(arm.get("overrides") or {})}


def _label(value):
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


@keras_objectives_export("keras_objectives.compare.sweep")
def sweep(arm, field, values, names=None):
    """Copies of `arm` with `field` set to each of `values`.

    Args:
        arm: an objective name or an arm dict.
        field: a dotted run-config field, e.g.
            `"objective.config.selection_rate"` or `"training.learning_rate"`.
        values: the values to sweep.
        names: optional arm names (default `<arm>-<leaf>=<value>`).
    """
    base = _arm(arm)
    names = list(names) if names is not None else [
        f"{base['name']}-{field.rsplit('.', 1)[-1]}={_label(v)}"
        for v in values]
    if len(names) != len(values):
        raise ValueError(
            "Invalid value received for argument `names`. Expected one name "
            f"per value ({len(values)}). Received: names={names!r}"
        )
    arms = []
    for name, value in zip(names, values, strict=True):
        new = copy.deepcopy(base)
        new["name"] = name
        if field.startswith("objective.config."):
            new["objective"]["config"][field[len("objective.config."):]] = (
                value)
        else:
            new["overrides"][field] = value
        arms.append(new)
    return arms


def mask_rate_sweep(rates=(0.10, 0.15, 0.25, 0.40, 0.60)):
    """MLM selection rates (T5 Table 5; Wettig et al. 2023).

    >>> [a["name"] for a in mask_rate_sweep([0.15, 0.4])]
    ['mlm-15%', 'mlm-40%']
    """
    return sweep("masked_lm", "objective.config.selection_rate", list(rates),
                 names=[f"mlm-{r:.0%}" for r in rates])


def span_length_sweep(lengths=("iid", 2, 3, 5, 10), noise_density=0.15):
    """T5 span corruption by mean span length; `"iid"` is length 1.

    >>> [a["name"] for a in span_length_sweep(["iid", 3])]
    ['span-iid', 'span-3']
    """
    arm = {"name": "span", "objective": {
        "class_name": "span_corruption",
        "config": {"noise_density": noise_density}}}
    values = [1.0 if v == "iid" else float(v) for v in lengths]
    return sweep(arm, "objective.config.mean_noise_span_length", values,
                 names=[f"span-{_label(v)}" for v in lengths])


def mask_replacement(rates=((0.8, 0.1), (1.0, 0.0))):
    """80/10/10 vs `[MASK]`-only (expected null: pair with a margin).

    >>> [a["name"] for a in mask_replacement()]
    ['mlm-80-10-10', 'mlm-mask-only']
    """
    arms = []
    for mask, random in rates:
        keep = 1.0 - mask - random
        name = ("mlm-mask-only" if mask == 1.0 else
                f"mlm-{mask * 100:.0f}-{random * 100:.0f}-{keep * 100:.0f}")
        arms.append({"name": name, "objective": {
            "class_name": "masked_lm",
            "config": {"mask_token_rate": mask, "random_token_rate": random}},
            "overrides": {}})
    return arms


def static_vs_dynamic(dupe_factors=(10,)):
    """Dynamic (RoBERTa) vs static (BERT `dupe_factor`) MLM masking.

    Static masking with `dupe_factor=k` repeats each example's noise every
    `k` epochs, so the contrast depends on how many epochs the budget
    buys: cross it with epochs by running the same recipe at several
    budgets (`--config.budget.tokens=...`, one workdir each); the report
    shows each arm's epochs over the corpus.

    >>> [a["name"] for a in static_vs_dynamic((1, 10))]
    ['dynamic', 'static-x1', 'static-x10']
    """
    arms = [{"name": "dynamic", "objective": {
        "class_name": "masked_lm", "config": {"dupe_factor": None}},
        "overrides": {}}]
    for dupe in dupe_factors:
        arms.append({"name": f"static-x{dupe}", "objective": {
            "class_name": "masked_lm", "config": {"dupe_factor": dupe}},
            "overrides": {}})
    return arms


def objective_by_attention(pairs, encoder_decoder_backbone=None):
    """Objective × attention mask (T5 Table 2): one arm per pairing.

    An objective fixes its attention: `masked_lm` bidirectional,
    `causal_lm` causal, `prefix_lm` and `span_corruption` a prefix mask on
    the shared decoder (`form="decoder"`) or a real encoder-decoder
    (`form="encoder_decoder"`). So crossing objective and mask means
    pairing each objective with a form.

    Args:
        pairs: `[(objective, form)]`; `form` is set as the objective's
            `form` config, `None` keeps the objective's own attention.
        encoder_decoder_backbone: the `model.backbone` for
            `form="encoder_decoder"` arms (then set the recipe's
            `variable=["model.backbone"]`: the body is no longer shared).

    >>> [a["name"] for a in objective_by_attention(
    ...     [("causal_lm", None), ("prefix_lm", "decoder"),
    ...      ("masked_lm", None)])]
    ['causal_lm', 'prefix_lm-decoder', 'masked_lm']
    """
    arms = []
    for objective, form in pairs:
        arm = _arm(objective)
        if form is not None:
            arm["objective"]["config"]["form"] = form
            arm["name"] = f"{arm['name']}-{form}"
            if form == "encoder_decoder" and encoder_decoder_backbone:
                arm["overrides"]["model.backbone"] = encoder_decoder_backbone
        arms.append(arm)
    return arms


def electra_vs_mlm(include_electra_15=True):
    """ELECTRA vs MLM (use a FLOPs budget); optionally ELECTRA-15%.

    >>> [a["name"] for a in electra_vs_mlm()]
    ['mlm', 'electra', 'electra-15%']
    """
    arms = [_arm({"name": "mlm", "objective": "masked_lm"}),
            _arm({"name": "electra",
                  "objective": "replaced_token_detection"})]
    if include_electra_15:
        arms.append(_arm({"name": "electra-15%", "objective": {
            "class_name": "replaced_token_detection",
            "config": {"disc_loss_on": "masked"}}}))
    return arms


def clm_mlm_ratio(ratios=(0.0, 1 / 16, 1 / 4, 1 / 2, 1.0)):
    """Hybrid CLM:MLM ratios (GPT-BERT style); 0 is all MLM, 1 all CLM.

    Every arm, end points included, is a `mixture` of `causal_lm` and
    `masked_lm` with rates `[ratio, 1 - ratio]`, so all arms share one
    prefix-mode body and one tied LM head and only the share of causal
    examples changes.

    >>> arms = clm_mlm_ratio([0.0, 0.25])
    >>> [a["name"] for a in arms], arms[1]["objective"]["config"]["rates"]
    (['clm-0', 'clm-0.25'], [0.25, 0.75])
    """
    arms = []
    for ratio in ratios:
        arms.append(_arm({"name": f"clm-{_label(float(ratio))}",
                          "objective": {"class_name": "mixture", "config": {
                              "members": ["causal_lm", "masked_lm"],
                              "rates": [float(ratio), 1.0 - float(ratio)]}}}))
    return arms
