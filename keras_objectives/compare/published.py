"""Published findings (METHOD.md) matched to the arms of a comparison.

Each finding names the objectives (and the objective setting) it is about.
`match(recipe)` returns the findings that apply to a recipe's arms, with
the arm pair (or the sweep's arms) to measure the same contrast here. The
numbers come from far larger models: at small scale expect directions,
not magnitudes.
"""

import re

SCALE_NOTE = ("Published numbers come from models 100-1000x larger; at this "
              "scale expect directions, not magnitudes.")


def objective_name(objective):
    """The snake-case objective name of an arm's `objective` field.

    >>> objective_name({"class_name": "MaskedLM", "config": {}})
    'masked_lm'
    """
    name = objective if isinstance(objective, str) else (
        (objective or {}).get("class_name", ""))
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    name = re.sub(r"(?<=[A-Z])(?=[A-Z][a-z])", "_", name)
    return {"masked_l_m": "masked_lm", "causal_l_m": "causal_lm",
            "prefix_l_m": "prefix_lm"}.get(name.lower(), name.lower())


def objective_config(objective):
    return dict((objective or {}).get("config") or {}) if isinstance(
        objective, dict) else {}


FINDINGS = [
    {
        "key": "bert_table5",
        "source": "BERT, Table 5",
        "published": "MLM beats left-to-right LM: MNLI 83.9 vs 82.1, "
                     "SQuAD F1 87.9 vs 77.8, SST-2 92.6 vs 92.1.",
        "pair": ("masked_lm", "causal_lm"),
        "expected": "a",
    },
    {
        "key": "t5_table4",
        "source": "T5, Table 4",
        "published": "BERT-style denoising beats prefix LM: GLUE 82.96 vs "
                     "80.69, SQuAD 80.65 vs 77.99.",
        "pair": ("masked_lm", "prefix_lm"),
        "expected": "a",
    },
    {
        "key": "electra_table1",
        "source": "ELECTRA, Tables 1 and 5",
        "published": "At equal FLOPs (1.4e18) ELECTRA-Small 79.9 vs "
                     "BERT-Small 75.1 GLUE dev; ELECTRA 85.0 vs BERT 82.2, "
                     "ELECTRA-15% 82.4.",
        "pair": ("replaced_token_detection", "masked_lm"),
        "expected": "a",
        "budget": "flops",
    },
    {
        "key": "bart_table1",
        "source": "BART, Table 1",
        "published": "Text infilling 90.8 / 84.0 (SQuAD F1 / MNLI) vs MLM "
                     "90.0 / 83.5 vs LM 76.7 / 80.1; LM has the best ELI5 "
                     "perplexity (21.40).",
        "pair": ("denoising", "causal_lm"),
        "expected": "a",
    },
    {
        "key": "t5_span",
        "source": "T5, Tables 4-7",
        "published": "BERT-style MLM 82.96 vs replace-corrupted-spans "
                     "(i.i.d.) 83.28 vs span length 3 83.49 GLUE: close.",
        "pair": ("span_corruption", "masked_lm"),
        "expected": None,
    },
    {
        "key": "mask_rate",
        "source": "T5 Table 5; Wettig et al. 2023",
        "published": "Corruption 10/15/25/50%: GLUE 82.82 / 83.28 / 83.00 / "
                     "81.27 (T5). The best mask rate grows with size: 15% "
                     "at 51M, 40% at 354M (Wettig).",
        "sweep": ("masked_lm", "selection_rate"),
    },
    {
        "key": "span_length",
        "source": "T5, Table 7",
        "published": "Mean span length iid/2/3/5/10: GLUE 83.28 / 83.54 / "
                     "83.49 / 83.40 / 82.85: flat, 10 slightly worse.",
        "sweep": ("span_corruption", "mean_noise_span_length"),
    },
    {
        "key": "roberta_dynamic",
        "source": "RoBERTa, Table 1",
        "published": "Static vs dynamic masking: SQuAD 2.0 78.3 vs 78.7, "
                     "MNLI 84.3 vs 84.0, SST-2 92.5 vs 92.9: no real "
                     "difference.",
        "sweep": ("masked_lm", "dupe_factor"),
        "expected": None,
    },
    {
        "key": "wettig_801010",
        "source": "Wettig et al. 2023",
        "published": "80/10/10 replacement is no better than [MASK]-only.",
        "sweep": ("masked_lm", "mask_token_rate"),
        "expected": None,
    },
]


def match(recipe):
    """Findings that apply to the recipe's arms.

    Returns:
        list of `{**finding, "arms": [arm names]}`; for a pair finding the
        arms are `[a, b]` in the finding's order.

    Examples:

    >>> recipe = {"arms": [{"name": "mlm", "objective": "masked_lm"},
    ...                    {"name": "clm", "objective": "causal_lm"}]}
    >>> [(f["key"], f["arms"]) for f in match(recipe)]
    [('bert_table5', ['mlm', 'clm'])]
    """
    by_objective = {}
    for arm in recipe.get("arms", []):
        by_objective.setdefault(objective_name(arm["objective"]),
                                []).append(arm)
    found = []
    for finding in FINDINGS:
        if "pair" in finding:
            a, b = finding["pair"]
            if by_objective.get(a) and by_objective.get(b):
                found.append({**finding, "arms": [by_objective[a][0]["name"],
                                                  by_objective[b][0]["name"]]})
            continue
        objective, field = finding["sweep"]
        arms = by_objective.get(objective, [])
        values = {repr(_setting(arm, field)) for arm in arms}
        if len(arms) >= 2 and len(values) >= 2:
            found.append({**finding, "arms": [a["name"] for a in arms]})
    return found


def _setting(arm, field):
    config = objective_config(arm["objective"])
    for dotted, value in (arm.get("overrides") or {}).items():
        if dotted == f"objective.config.{field}":
            config[field] = value
    return config.get(field)
