"""The report from synthetic run dirs: tables, verdicts, failed and broken
runs, tidy results. Nothing here trains."""

import csv
import json
import os

import numpy as np

from keras_objectives.compare import write_report
from keras_objectives.compare.recipe import validate_recipe
from keras_objectives.compare.results import collect
from keras_objectives.compare.results import tidy_rows
from keras_objectives.config import base_config
from keras_objectives.config import set_model_size

STEPS = 20


def _write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def fake_run(root, arm, seed, objective, probe, status="completed",
             flops_per_step=1e9, lm=None, untrained=None):
    """A run dir as `training.train` + `compare.evaluate` would leave it."""
    path = os.path.join(root, "runs", arm, f"seed-{seed}")
    rows = ["step,tokens,flops,wall_time,tokens_per_second,loss,val_loss"]
    for step in (10, 20):
        loss = 6.0 - step / 10 if status == "completed" or step == 10 else (
            float("nan"))
        rows.append(f"{step},{step * 256},{step * flops_per_step},"
                    f"{step * 0.1},{2560 + seed},{loss},{loss + 0.1}")
    _write(os.path.join(path, "metrics.csv"), "\n".join(rows) + "\n")
    _write(os.path.join(path, "config.json"), json.dumps(
        {"objective": objective, "seed": seed}))
    summary = {"status": status, "objective": objective, "steps": STEPS,
               "failure": None if status == "completed" else
               "non-finite loss (nan) at step 20",
               "held_out_loss": 4.0 + seed * 0.01, "tokens_seen": 5120,
               "training_flops": STEPS * flops_per_step,
               "loss_positions_seen": 768, "tokens_per_second": 2560 + seed,
               "parameters": 1000, "wall_time": 2.0, "seed": seed}
    _write(os.path.join(path, "summary.json"), json.dumps(summary))
    entries = {}
    steps = ((10, 0.9), (20, 1.0))
    if untrained is not None:  # this run is its mode's untrained reference
        steps = ((0, untrained / probe),) + steps
    for step, scale in steps:
        value = probe * scale
        per_seed = {str(s): {"accuracy": value + d, "no_context_accuracy":
                             0.55 + d, "majority_accuracy": 0.5}
                    for s, d in ((0, -0.01), (1, 0.01))}
        entries[f"linear_probe@{step}"] = {
            "label": "linear_probe", "evaluation": "linear_probe",
            "step": step, "status": "ok", "options": {}, "seeds": [0, 1],
            "metrics": {"accuracy": value, "no_context_accuracy": 0.55,
                        "majority_accuracy": 0.5},
            "per_seed": per_seed}
    if lm is None:
        entries[f"held_out_lm@{STEPS}"] = {
            "label": "held_out_lm", "evaluation": "held_out_lm",
            "step": STEPS, "status": "not_applicable", "options": {},
            "seeds": [0], "reason": "bidirectional", "metrics": {},
            "per_seed": {}}
    else:
        entries[f"held_out_lm@{STEPS}"] = {
            "label": "held_out_lm", "evaluation": "held_out_lm",
            "step": STEPS, "status": "ok", "options": {}, "seeds": [0],
            "metrics": {"bits_per_byte": lm}, "per_seed": {}}
    _write(os.path.join(path, "evals.json"), json.dumps(
        {"version": 1, "entries": entries}))
    return path


def fake_comparison(root, arms, seeds=(0, 1, 2), untrained=None):
    """`arms`: {name: (objective, probe_per_seed, status_per_seed, lm)};
    `untrained`: {arm: step-0 probe score per seed} for reference arms."""
    base = set_model_size(base_config(), "tiny")
    recipe = validate_recipe({
        "name": "synthetic", "seeds": list(seeds),
        "budget": {"flops": 2e10}, "base": base,
        "arms": [{"name": n, "objective": o} for n, (o, *_) in arms.items()],
        "evaluations": ["linear_probe", "held_out_lm"],
        "checkpoints_for_curves": 2,
    })
    plan = {n: {"objective": o, "attention_mode": "bidirectional",
                "architecture": "encoder", "steps": STEPS,
                "steps_per_checkpoint": 10, "tokens": 5120, "flops": 2e10,
                "loss_positions": 768, "loss_position_share": 0.15,
                "parameters": 1000, "vocabulary_size": 7877}
            for n, (o, *_) in arms.items()}
    _write(os.path.join(root, "comparison.json"),
           json.dumps({"recipe": recipe, "plan": plan}))
    for name, (objective, probes, statuses, lm) in arms.items():
        for seed, probe, status in zip(seeds, probes, statuses, strict=True):
            if status == "absent":
                continue
            fake_run(root, name, seed, objective, probe, status,
                     lm=None if lm is None else lm + seed * 0.01,
                     untrained=(untrained or {}).get(name, {}).get(seed))
    return recipe


def test_report_marks_failed_and_broken_runs(tmp_path):
    root = str(tmp_path)
    ok = ["completed"] * 3
    fake_comparison(root, {
        "mlm": ("masked_lm", [0.80, 0.82, 0.81], ok, None),
        "clm": ("causal_lm", [0.60, 0.62, 0.61], ok, 1.5),
        "bad": ("causal_lm", [0.5, 0.5, 0.5],
                ["diverged", "completed", "completed"], 2.0),
    })
    # A broken run dir: summary.json cut in the middle of a write.
    _write(os.path.join(root, "runs", "bad", "seed-2", "summary.json"),
           '{"status": "compl')
    paths = write_report(root)
    markdown = open(paths["markdown"]).read()
    page = open(paths["html"]).read()

    assert "FAILED (diverged)" in markdown
    assert "non-finite loss (nan) at step 20" in markdown
    assert "skipped bad seed 2: broken run dir" in markdown
    assert "class=failed" in page
    # The clear probe difference is a win; the verdict says why.
    assert "mlm beats clm" in markdown
    # Held-out LM: not applicable to the MLM, reported with the reason.
    assert "not_applicable: bidirectional" in markdown
    # The published finding for MLM vs left-to-right is shown.
    claims = markdown[markdown.index("## Published claims"):]
    assert "BERT (Devlin et al. 2019), Table 5" in claims
    assert "| mlm vs clm | linear_probe (accuracy) |" in claims
    assert "**reproduced**" in claims
    # Self-contained HTML: the figures are embedded, no external files.
    assert page.count("data:image/png;base64,") >= 3
    assert "<link" not in page and "src='plots/" not in page
    for stem in ("loss_curves", "scores", "sample_efficiency",
                 "throughput"):
        assert os.path.getsize(os.path.join(root, "plots", stem + ".png")) \
            > 1000

    with open(paths["csv"]) as f:
        rows = list(csv.DictReader(f))
    probe = [r for r in rows if r["evaluation"] == "linear_probe"
             and r["metric"] == "accuracy"]
    # mlm 3 seeds + clm 3 + bad 1 (seed 0 diverged, seed 2 broken) x 2
    # steps.
    assert len(probe) == (3 + 3 + 1) * 2
    assert {r["arm"] for r in probe if r["seed"] == "0"} == {"mlm", "clm"}
    row = next(r for r in probe if r["arm"] == "mlm" and r["seed"] == "1"
               and r["step"] == "20")
    assert float(row["value"]) == 0.82
    assert float(row["sd_over_eval_seeds"]) > 0
    assert float(row["flops"]) == 20 * 1e9
    data = json.load(open(paths["json"]))
    assert len(data["rows"]) == len(rows)


def test_no_win_claimed_inside_the_noise(tmp_path):
    root = str(tmp_path)
    ok = ["completed"] * 3
    fake_comparison(root, {
        "mlm": ("masked_lm", [0.70, 0.75, 0.72], ok, None),
        "mlm-copy": ("masked_lm", [0.72, 0.73, 0.71], ok, None),
    })
    markdown = open(write_report(root)["markdown"]).read()
    assert "beats" not in markdown
    assert "no detectable difference between" in markdown


def test_tables_hold_mean_sd_and_ci(tmp_path):
    root = str(tmp_path)
    ok = ["completed"] * 3
    fake_comparison(root, {
        "mlm": ("masked_lm", [0.80, 0.82, 0.81], ok, None),
        "clm": ("causal_lm", [0.60, 0.62, 0.61], ok, 1.5),
    })
    markdown = open(write_report(root)["markdown"]).read()
    line = next(line for line in markdown.splitlines()
                if line.startswith("| mlm |") and "n=3" in line)
    mean = np.mean([0.80, 0.82, 0.81])
    assert f"{mean:.4f} ± 0.01 [0.8000, 0.8200] (n=3)" in line
    # Setup: the held-fixed fields and the budget.
    for text in ("sequence length", "| vocabulary size | 7,877 (requested "
                 "8,192) |", "2 layers × 64",
                 "AdamW", "2e+10 flops", "loss-bearing positions"):
        assert text in markdown, text


def test_report_without_comparison_json_reads_run_dirs(tmp_path):
    root = str(tmp_path)
    for seed in (0, 1):
        fake_run(root, "a", seed, "masked_lm", 0.5)
        fake_run(root, "b", seed, "causal_lm", 0.6, lm=1.0)
    collection = collect(root)
    assert [(r["arm"], r["seed"]) for r in collection["runs"]] == [
        ("a", 0), ("a", 1), ("b", 0), ("b", 1)]
    assert any("no comparison.json" in w for w in collection["warnings"])
    assert len(tidy_rows(collection)) > 0
    markdown = open(write_report(root)["markdown"]).read()
    assert "linear_probe" in markdown


def test_report_of_a_missing_directory_is_a_clear_error(tmp_path):
    import pytest

    with pytest.raises(ValueError, match="workdir"):
        write_report(str(tmp_path / "nope"))
    with pytest.raises(ValueError, match="comparison directory"):
        write_report(str(tmp_path))


def test_one_seed_runs_and_every_verdict_says_so(tmp_path):
    root = str(tmp_path)
    fake_comparison(root, {
        "mlm": ("masked_lm", [0.80], ["completed"], None),
        "clm": ("causal_lm", [0.60], ["completed"], 1.5),
    }, seeds=(0,), untrained={"mlm": {0: 0.6}})
    markdown = open(write_report(root)["markdown"]).read()
    verdicts = [line for line in markdown.splitlines()
                if line.startswith("Verdict")]
    assert verdicts and all("one seed: no statistics" in line
                            for line in verdicts), verdicts
    assert not any("beats" in line for line in verdicts)
    assert "inconclusive (one seed: no statistics)" in markdown


def test_controls_gains_and_power_are_reported(tmp_path):
    root = str(tmp_path)
    ok = ["completed"] * 3
    fake_comparison(root, {
        "mlm": ("masked_lm", [0.80, 0.82, 0.81], ok, None),
        "mlm-flat": ("masked_lm", [0.61, 0.60, 0.62], ok, None),
    }, untrained={"mlm": {0: 0.60, 1: 0.61, 2: 0.62}})
    markdown = open(write_report(root)["markdown"]).read()
    # The untrained reference and the majority line are table rows.
    assert "| untrained (bidirectional) |" in markdown
    assert "| majority class |" in markdown
    # Gains over the untrained body, with a CI; the flat arm is flagged.
    assert "mlm +0.200 [+0.175, +0.225] over the untrained bidirectional body" \
        in markdown
    assert "pre-training taught nothing measurable" in markdown
    # Power: the minimum detectable effect at the seeds run.
    assert "minimum detectable effect" in markdown


def test_a_claim_between_arms_that_learned_nothing_is_not_tested(tmp_path):
    # clm "beats" mlm, but both sit below the untrained body: calling the
    # BERT claim contradicted would be a finding about nothing.
    root = str(tmp_path)
    ok = ["completed"] * 3
    fake_comparison(root, {
        "mlm": ("masked_lm", [0.60, 0.61, 0.60], ok, None),
        "clm": ("causal_lm", [0.70, 0.715, 0.70], ok, 1.5),
    }, untrained={"mlm": {0: 0.80, 1: 0.81, 2: 0.80}})
    markdown = open(write_report(root)["markdown"]).read()
    claims = markdown[markdown.index("## Published claims"):]
    assert "| mlm vs clm | linear_probe (accuracy) |" in claims
    assert ("**not tested: neither mlm nor clm beats the untrained body "
            "here") in claims
    assert "contradicted" not in claims.split("## Setup")[0]
    # The Export section does not recommend a body as if it had learned.
    export = markdown[markdown.index("## Export"):]
    assert "best arm clm, seed 1 (does not beat the untrained body)" \
        in export
    # No untrained reference for held-out LM here: nothing to flag.
    assert "(held_out_lm, bits_per_byte): best mean (no detected win) clm, " \
        "seed 0: `" in export


def test_two_seeds_are_screening_never_a_win(tmp_path):
    # Two seeds whose differences agree closely: a t-test on one degree
    # of freedom would give a tiny p; the report declares nothing.
    root = str(tmp_path)
    ok = ["completed"] * 2
    fake_comparison(root, {
        "mlm": ("masked_lm", [0.80, 0.8101], ok, None),
        "clm": ("causal_lm", [0.60, 0.6100], ok, 1.5),
    }, seeds=(0, 1), untrained={"mlm": {0: 0.50, 1: 0.51}})
    markdown = open(write_report(root)["markdown"]).read()
    verdict = next(line for line in markdown.splitlines()
                   if line.startswith("Verdict: linear_probe"))
    assert "two seeds: screening only" in verdict, verdict
    assert "beats" not in verdict and "taught nothing" not in verdict
    # Held-out LM: one arm and no reference, so no test; still screening.
    lm = next(line for line in markdown.splitlines()
              if line.startswith("Verdict: held_out_lm"))
    assert "nothing to compare" in lm and "two seeds" in lm, lm
    assert "Power: 2 seeds make no win" in markdown
    assert "] ✓" not in markdown
    export = markdown[markdown.index("## Export"):]
    assert "does not beat the untrained body" not in export
