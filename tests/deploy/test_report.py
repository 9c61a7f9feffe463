"""The comparison report's Export section (`deploy.report`)."""

import os

from keras_objectives.compare.report import render_markdown
from keras_objectives.deploy.report import report_blocks


def _run(root, arm, seed, steps):
    path = os.path.join(root, "runs", arm, f"seed-{seed}")
    for step in steps:
        folder = os.path.join(path, "checkpoints", f"ckpt-{step:08d}")
        os.makedirs(folder)
        with open(os.path.join(folder, "state.json"), "w") as f:
            f.write("{}")
    os.makedirs(path, exist_ok=True)
    return {"arm": arm, "seed": seed, "run_dir": path,
            "status": "completed" if steps else "failed"}


def _table(use, label, metric, higher, values, winner, unlearned=()):
    ranking = sorted(values, key=lambda a: max(values[a].values())
                     * (1 if higher else -1), reverse=True)
    return {"use": use, "label": label, "primary": metric,
            "metrics": {metric: {a: {"values": v}
                                 for a, v in values.items()}},
            "verdict": {"metric": metric, "higher_is_better": higher,
                        "ranking": ranking, "winner": winner,
                        "unlearned": list(unlearned)}}


def test_best_arm_commands_and_final_checkpoints(tmp_path):
    root = str(tmp_path)
    runs = [_run(root, "mlm", 0, [2, 4]), _run(root, "mlm", 1, [4]),
            _run(root, "clm", 0, [3]), _run(root, "clm", 1, [3]),
            _run(root, "t5", 0, [])]
    analysis = {"evaluations": [
        _table("understanding", "sst2", "accuracy", True,
               {"mlm": {0: 0.70, 1: 0.75}, "clm": {0: 0.60}}, "mlm"),
        _table("generation", "lm", "perplexity", False,
               {"mlm": {0: 90.0, 1: 80.0}, "clm": {0: 40.0, 1: 30.0}},
               None, unlearned=["clm"])]}
    blocks = report_blocks({"runs": runs}, analysis)
    assert [b[0] for b in blocks] == ["h2", "p", "ul", "table"]
    items = blocks[2][1]
    mlm1, clm1 = (os.path.join(root, "runs", a, "seed-1")
                  for a in ("mlm", "clm"))
    assert items[0] == (
        "**understanding** (sst2, accuracy): best arm mlm, seed 1: "
        f"`keras-objectives export {mlm1} --output exports/mlm-seed-1`")
    assert items[1] == (
        "**generation** (lm, perplexity): best mean (no detected win) clm, "
        "seed 1 (does not beat the untrained body): "
        f"`keras-objectives export {clm1} --output exports/clm-seed-1`")
    header, rows = blocks[3][1], blocks[3][2]
    assert header[-1] == "final checkpoint"
    final = os.path.join(root, "runs", "mlm", "seed-0", "checkpoints",
                         "ckpt-00000004")
    assert rows[0] == ["mlm", "0", "completed", f"`{final}` (step 4)"]
    assert rows[4] == ["t5", "0", "failed", "no checkpoint"]
    markdown = render_markdown(blocks)
    assert markdown.startswith("## Export\n")
    assert f"| mlm | 0 | completed | `{final}` (step 4) |" in markdown
