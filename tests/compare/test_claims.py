"""The claims registry matches arms by configuration, not by name."""

import pytest

from keras_objectives.compare import claims
from keras_objectives.compare import sweeps
from keras_objectives.compare.published import CLAIMS


def _arm(name, objective, **config):
    return {"name": name, "objective": {"class_name": objective,
                                        "config": config}}


def _matched(*arms):
    return {m["claim"].key: (m["a"], m["b"])
            for m in claims.match_claims({"arms": list(arms)})}


def test_every_claim_has_a_source_numbers_scale_and_a_valid_kind():
    keys = [c.key for c in CLAIMS]
    assert len(keys) == len(set(keys)) >= 10
    for claim in CLAIMS:
        assert claim.source and claim.published and claim.scale
        assert claim.kind in ("greater", "equivalent", "not_worse")
        assert claim.use in ("understanding", "generation", "intrinsic")
        if claim.kind != "greater":
            assert claim.margin and claim.margin > 0
        assert claim.a != claim.b


def test_mlm_vs_clm_matches_the_bidirectional_claim():
    found = _matched(_arm("mlm", "masked_lm"), _arm("clm", "causal_lm"))
    assert found == {"bidirectional_understanding": ("mlm", "clm")}


def test_text_infilling_never_matches_the_sentence_level_claim():
    # BART's default (text infilling + permutation) is token-level noise.
    infilling = _arm("bart", "denoising")
    assert "sentence_corruption" not in _matched(
        _arm("mlm", "masked_lm"), infilling)
    shuffle = _arm("shuffle", "denoising", infill_rate=0.0)
    assert _matched(_arm("mlm", "masked_lm"), shuffle)[
        "sentence_corruption"] == ("mlm", "shuffle")
    rotate = _arm("rotate", "denoising", infill_rate=0.0,
                  permute_sentences_rate=0.0, rotate_rate=1.0)
    assert "sentence_corruption" in _matched(_arm("mlm", "masked_lm"),
                                             rotate)


def test_electra_15_is_not_electra():
    electra15 = _arm("e15", "replaced_token_detection",
                     disc_loss_on="masked")
    found = _matched(_arm("mlm", "masked_lm"), electra15)
    assert "electra_vs_mlm" not in found
    found = _matched(_arm("mlm", "masked_lm"),
                     _arm("electra", "replaced_token_detection"), electra15)
    assert found["electra_vs_mlm"] == ("electra", "mlm")
    assert found["electra_all_tokens"] == ("electra", "e15")


def test_a_40_percent_mask_rate_is_not_a_15_percent_mlm():
    found = _matched(_arm("mlm40", "masked_lm", selection_rate=0.4),
                     _arm("clm", "causal_lm"))
    assert "bidirectional_understanding" not in found


def test_mask_rate_sweep_matches_both_rate_claims():
    arms = sweeps.sweep("masked_lm", "objective.config.selection_rate",
                        [0.15, 0.4, 0.8], names=["m15", "m40", "m80"])
    found = _matched(*arms)
    assert found["mask_rate_flat"] == ("m40", "m15")
    assert found["mask_rate_high"] == ("m15", "m80")
    assert "mask_replacement" not in found


def test_overrides_of_the_objective_config_are_resolved():
    arm = {"name": "m80", "objective": "masked_lm",
           "overrides": {"objective.config.selection_rate": 0.8}}
    assert claims.arm_objective(arm)[1]["selection_rate"] == 0.8
    assert "mask_rate_high" in _matched(_arm("m15", "masked_lm"), arm)


def test_equivalence_claims_match_their_sweeps():
    found = _matched(
        _arm("801010", "masked_lm"),
        _arm("mask-only", "masked_lm", mask_token_rate=1.0,
             random_token_rate=0.0),
        _arm("static", "masked_lm", dupe_factor=5))
    assert found["mask_replacement"] == ("801010", "mask-only")
    assert found["static_dynamic"] == ("801010", "static")
    assert claims.get_claim("mask_replacement").kind == "equivalent"


def test_hybrid_matches_by_its_members():
    hybrid = {"name": "hybrid", "objective": {
        "class_name": "mixture", "config": {
            "members": ["causal_lm", {"class_name": "masked_lm",
                                      "config": {}}]}}}
    ul2 = _arm("ul2", "ul2")
    found = _matched(_arm("mlm", "masked_lm"), hybrid, ul2)
    assert found["hybrid_share"] == ("hybrid", "mlm")


def test_named_claims_the_arms_cannot_test_fail_before_training():
    recipe = {"arms": [_arm("mlm", "masked_lm"), _arm("clm", "causal_lm")],
              "evaluations": [{"name": "tagging"}],
              "claims": ["electra_vs_mlm"]}
    with pytest.raises(ValueError, match="electra_vs_mlm.*replaced_token_"
                       "detection.*Received arms"):
        claims.check_named_claims(recipe)
    recipe["claims"] = ["bidirectional_understanding"]
    claims.check_named_claims(recipe)
    recipe["evaluations"] = [{"name": "held_out_lm"}]
    with pytest.raises(ValueError, match="measured by one of"):
        claims.check_named_claims(recipe)
    recipe["claims"] = ["no_such_claim"]
    with pytest.raises(ValueError, match="no_such_claim"):
        claims.check_named_claims(recipe)


@pytest.mark.parametrize("kind,verdict,ci_low,equivalent,outcome", [
    ("greater", "a", 0.01, None, "reproduced"),
    ("greater", "b", -0.3, None, "contradicted"),
    ("greater", "no detectable difference", -0.01, None, "inconclusive"),
    ("equivalent", "no detectable difference", -0.005, True, "reproduced"),
    ("equivalent", "no detectable difference", -0.05, False,
     "inconclusive"),
    ("equivalent", "a", 0.02, False, "contradicted"),
    ("not_worse", "no detectable difference", -0.005, None, "reproduced"),
    ("not_worse", "no detectable difference", -0.05, None, "inconclusive"),
    ("not_worse", "b", -0.2, None, "contradicted"),
])
def test_judge(kind, verdict, ci_low, equivalent, outcome):
    claim = next(c for c in CLAIMS if c.kind == kind)
    test = {"verdict": verdict, "ci_low": ci_low, "mean_difference": 0.0}
    eq = None if equivalent is None else {"equivalent": equivalent}
    assert claims.judge(claim, test, eq) == outcome
