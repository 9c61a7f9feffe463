"""The published claims a comparison can test, as data.

Each `Claim` names its source (paper, table, numbers), the two arm
`Pattern`s it contrasts (an objective plus conditions on its resolved
configuration), the use and evaluations that measure it, the expected
outcome (`greater`, `equivalent` within a margin, or `not_worse` within a
margin) and the scale it was published at. `keras_objectives.compare.
claims` matches them to a recipe's arms and judges them. The numbers come
from models 100-1000x larger than a CPU comparison: expect directions, not
magnitudes.
"""

import dataclasses

KINDS = ("greater", "equivalent", "not_worse")
SCALE_NOTE = ("Published numbers come from models 100-1000x larger trained "
              "100-10000x longer; at CPU scale expect directions, not "
              "magnitudes.")


@dataclasses.dataclass(frozen=True)
class Pattern:
    """An arm a claim is about: an objective and conditions on its config.

    Args:
        objective: the registered objective name.
        where: `{field: condition}` on the objective's resolved config (its
            constructor defaults updated with the arm's config). A condition
            is a value (equal), a `(low, high)` tuple (inclusive range;
            `None` leaves a side open), `("in", v1, v2, ...)` (one of the
            values) or `("members", n1, n2, ...)` (a mixture whose members
            are exactly these objectives, in any order).
        label: how the report names this side of the claim.
    """

    objective: str
    where: tuple = ()
    label: str = ""

    def matches(self, name, config):
        if name != self.objective:
            return False
        return all(_holds(config.get(field), condition)
                   for field, condition in self.where)


def _member_name(member):
    return member if isinstance(member, str) else (member or {}).get(
        "class_name")


def _holds(value, condition):
    if isinstance(condition, tuple) and condition and condition[0] == "in":
        return value in condition[1:]
    if isinstance(condition, tuple) and condition[:1] == ("members",):
        return isinstance(value, (list, tuple)) and sorted(
            map(_member_name, value)) == sorted(condition[1:])
    if isinstance(condition, tuple) and len(condition) == 2:
        low, high = condition
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return False
        return ((low is None or value >= low)
                and (high is None or value <= high))
    return value == condition


@dataclasses.dataclass(frozen=True)
class Claim:
    """One published finding a comparison can test.

    Args:
        key: a short identifier (recipes name claims by it).
        title: the finding in one line.
        source: paper and table.
        published: the published numbers, as text.
        scale: the model and data scale it was published at.
        a, b: the two `Pattern`s; `kind` is read as "a <kind> b".
        kind: `"greater"`, `"equivalent"` or `"not_worse"`.
        use: `"understanding"`, `"generation"` or `"intrinsic"`.
        evaluations: recipe evaluation names that measure it, best first.
        effect: the published difference in the metric's own units where
            the units carry over (accuracy as a fraction), else `None`.
        margin: the equivalence / non-inferiority margin (metric units).
        budget: the axis the published contrast held equal, if any.
    """

    key: str
    title: str
    source: str
    published: str
    scale: str
    a: Pattern
    b: Pattern
    kind: str = "greater"
    use: str = "understanding"
    evaluations: tuple = ("tagging", "linear_probe", "fine_tune")
    effect: float = None
    margin: float = None
    budget: str = None


_MLM15 = Pattern("masked_lm", (("selection_rate", (0.1, 0.2)),
                               ("whole_word", False)),
                 "masked LM, 10-20% masking")
_CLM = Pattern("causal_lm", (), "causal LM")
_TOKEN_LEVEL = ("tagging", "linear_probe", "fine_tune")

CLAIMS = (
    Claim(
        key="sentence_corruption",
        title="Sentence-level-only corruption is far worse than token "
              "masking",
        source="BART (Lewis et al. 2020), Table 1; T5 (Raffel et al. 2020),"
               " Table 4 (deshuffling)",
        published="SQuAD F1 / MNLI: masked LM 90.0 / 83.5, sentence "
                  "shuffling 85.4 / 81.5, document rotation 77.2 / 75.3. "
                  "T5 GLUE: BERT-style 82.96, deshuffling 73.17.",
        scale="BART-base size (6+6 layers x 768), 1M steps on books and "
              "Wikipedia",
        a=_MLM15,
        b=Pattern("denoising", (("infill_rate", 0.0), ("mask_rate", 0.0),
                                ("delete_rate", 0.0)),
                  "BART sentence permutation / rotation only"),
        effect=0.02,
    ),
    Claim(
        key="bidirectional_understanding",
        title="Bidirectional masked LM beats causal LM on understanding, "
              "most on token-level tasks that need right context",
        source="BERT (Devlin et al. 2019), Table 5; BART, Table 1",
        published="MLM vs left-to-right: SQuAD F1 87.9 vs 77.8, MNLI 83.9 "
                  "vs 82.1, SST-2 92.6 vs 92.1 (BERT); SQuAD 90.0 vs 76.7 "
                  "(BART).",
        scale="BERT-base (12 x 768, 110M parameters), 1M steps x 256 x "
              "512 tokens",
        a=_MLM15,
        b=_CLM,
        evaluations=_TOKEN_LEVEL,
        effect=0.018,
    ),
    Claim(
        key="causal_likelihood",
        title="Causal LM gives the best held-out next-token likelihood",
        source="BART, Table 1 (ELI5, XSum, ConvAI2, CNN/DM perplexity)",
        published="The left-to-right LM has the best ELI5 perplexity "
                  "(21.40) of all objectives; masked and permuted LMs lag "
                  "on generation.",
        scale="BART-base size, 1M steps",
        a=_CLM,
        b=Pattern("prefix_lm", (), "prefix LM"),
        use="generation",
        evaluations=("held_out_lm",),
    ),
    Claim(
        key="electra_vs_mlm",
        title="ELECTRA beats masked LM at equal training FLOPs",
        source="ELECTRA (Clark et al. 2020), Table 1 and Figure 1",
        published="GLUE dev: ELECTRA-Small 79.9 vs BERT-Small 75.1 at "
                  "equal FLOPs (1.4e18, generator included).",
        scale="ELECTRA-Small (12 x 256, 14M parameters), 1M steps x 128 x "
              "128 tokens",
        a=Pattern("replaced_token_detection",
                  (("disc_loss_on", "all"), ("replace_mlm", False),
                   ("selection_rate", (0.1, 0.2))), "ELECTRA"),
        b=_MLM15,
        effect=0.048,
        budget="flops",
    ),
    Claim(
        key="electra_all_tokens",
        title="ELECTRA's gain comes from the loss on all tokens: "
              "ELECTRA-15% falls back toward masked LM",
        source="ELECTRA, Table 5",
        published="GLUE dev: ELECTRA 85.0, ELECTRA-15% 82.4, BERT 82.2.",
        scale="ELECTRA-Base size, 1M steps",
        a=Pattern("replaced_token_detection",
                  (("disc_loss_on", "all"), ("replace_mlm", False)),
                  "ELECTRA"),
        b=Pattern("replaced_token_detection",
                  (("disc_loss_on", "masked"),), "ELECTRA-15%"),
        effect=0.026,
    ),
    Claim(
        key="mask_rate_flat",
        title="The masked-LM curve is flat from 15% to 40% masking",
        source="Wettig et al. 2023, Figure 2; T5, Table 5",
        published="T5 GLUE at 15/25/50% corruption: 83.28 / 83.00 / 81.27; "
                  "Wettig: 40% matches or beats 15% at 354M parameters.",
        scale="Wettig: 124M-354M parameters; T5-base",
        a=Pattern("masked_lm", (("selection_rate", (0.3, 0.45)),),
                  "masked LM, 30-45% masking"),
        b=_MLM15,
        kind="not_worse",
        margin=0.01,
    ),
    Claim(
        key="mask_rate_high",
        title="Masking 60-80% of tokens hurts",
        source="Wettig et al. 2023, Figure 2 and Table 2",
        published="Downstream scores fall once the mask rate passes about "
                  "60%; at 80% masking over 95% of fine-tuning performance "
                  "remains but below the 15-40% range.",
        scale="124M-354M parameters",
        a=_MLM15,
        b=Pattern("masked_lm", (("selection_rate", (0.6, None)),),
                  "masked LM, >= 60% masking"),
    ),
    Claim(
        key="span_masking",
        title="Span masking (mean span about 3) is at least as good as "
              "i.i.d. token masking",
        source="SpanBERT (Joshi et al. 2020), Table 6; T5, Table 7",
        published="T5 GLUE: i.i.d. 83.28, mean span 3: 83.49; SpanBERT: "
                  "geometric spans beat random tokens on SQuAD and "
                  "coreference.",
        scale="T5-base; SpanBERT-large",
        a=Pattern("span_masking", (), "span masking (SpanBERT)"),
        b=_MLM15,
        kind="not_worse",
        margin=0.01,
    ),
    Claim(
        key="mask_replacement",
        title="80/10/10 replacement is no better than [MASK]-only",
        source="Wettig et al. 2023, Table 3",
        published="80/10/10 and 100% [MASK] are within noise on GLUE and "
                  "SQuAD.",
        scale="Wettig: 124M parameters",
        a=Pattern("masked_lm", (("mask_token_rate", (0.7, 0.9)),
                                ("random_token_rate", (0.05, 0.15))),
                  "80/10/10"),
        b=Pattern("masked_lm", (("mask_token_rate", 1.0),),
                  "[MASK]-only"),
        kind="equivalent",
        margin=0.01,
    ),
    Claim(
        key="static_dynamic",
        title="Static and dynamic masking perform alike",
        source="RoBERTa (Liu et al. 2019), Table 1",
        published="Static vs dynamic: SQuAD 2.0 78.3 vs 78.7, MNLI 84.3 "
                  "vs 84.0, SST-2 92.5 vs 92.9.",
        scale="BERT-base, 1M steps",
        a=Pattern("masked_lm", (("dupe_factor", None),), "dynamic"),
        b=Pattern("masked_lm", (("dupe_factor", (1, None)),), "static"),
        kind="equivalent",
        margin=0.01,
    ),
    Claim(
        key="hybrid_share",
        title="A masked LM with a small causal share is not worse than "
              "pure masked LM",
        source="GPT-BERT (Charpentier & Samuel 2024)",
        published="On BabyLM, a 1:15 causal-to-masked hybrid outperforms "
                  "masked-only and causal-only models.",
        scale="BabyLM: 10M-100M words, 30M-120M parameters",
        a=Pattern("mixture", (("members", ("members", "causal_lm",
                                            "masked_lm")),),
                  "hybrid CLM + MLM mixture"),
        b=_MLM15,
        kind="not_worse",
        margin=0.01,
    ),
)
