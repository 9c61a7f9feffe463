"""What a comparison report says about deploying its arms.

`report_blocks(collection, analysis)` gives the report's "Export" section:
per use, the export command of the best arm (its best seed on the use's
primary metric), and per arm and seed the path of the final checkpoint.
It is pure: it reads the collected run records and the analysis only (the
checkpoint paths come from the run dirs' listings).
"""

import os

from keras_objectives import checkpointing
from keras_objectives.deploy.export import export_command


def _best_seed(table, arm):
    """The seed of `arm` with the best primary-metric value."""
    metric = table["verdict"]["metric"]
    values = table["metrics"].get(metric, {}).get(arm, {}).get("values", {})
    if not values:
        return None
    higher = table["verdict"]["higher_is_better"]
    return sorted(values, key=lambda s: values[s], reverse=higher)[0]


def best_arm_lines(collection, analysis):
    """Markdown items: per evaluation, the export command of its best arm."""
    run_dirs = {(r["arm"], r["seed"]): r["run_dir"]
                for r in collection["runs"]}
    lines = []
    for table in analysis["evaluations"]:
        ranking = table["verdict"]["ranking"]
        if not ranking:
            continue
        arm = ranking[0]
        seed = _best_seed(table, arm)
        if (arm, seed) not in run_dirs:
            continue
        verdict = table["verdict"]
        how = ("best arm" if verdict.get("winner") == arm
               else "best mean (no detected win)")
        flat = (" (does not beat the untrained body)"
                if arm in verdict.get("unlearned", ()) else "")
        command = export_command(run_dirs[(arm, seed)],
                                 os.path.join("exports", f"{arm}-seed-{seed}"))
        lines.append(
            f"**{table['use']}** ({table['label']}, "
            f"{table['verdict']['metric']}): {how} {arm}, seed {seed}"
            f"{flat}: "
            f"`{command}`")
    return lines


def checkpoint_rows(collection):
    """`[arm, seed, status, final checkpoint]` rows, one per run."""
    rows = []
    for run in collection["runs"]:
        saved = checkpointing.list_checkpoints(run["run_dir"])
        final = (f"`{saved[-1][1]}` (step {saved[-1][0]})" if saved
                 else "no checkpoint")
        rows.append([run["arm"], str(run["seed"]), run["status"], final])
    return rows


def report_blocks(collection, analysis):
    """The report's "Export" section as renderer-neutral blocks.

    Args:
        collection: `compare.results.collect(workdir)`.
        analysis: `compare.analysis.analyze(collection, rows)`.

    Returns:
        A list of `("h2", text)`, `("p", text)`, `("ul", items)` and
        `("table", header, rows)` blocks (markdown inline text).

    Examples:

    >>> blocks = report_blocks({"runs": []}, {"evaluations": []})
    >>> [b[0] for b in blocks]
    ['h2', 'p']
    """
    blocks = [("h2", "Export"), ("p", (
        "Turn a run into a keras-hub preset, then fine-tune it on your "
        "task: `keras-objectives export RUN_DIR --output DIR`, then "
        "`keras-objectives finetune DIR --task TASK --workdir D` (see "
        "docs/deploy.md)."))]
    lines = best_arm_lines(collection, analysis)
    if lines:
        blocks.append(("ul", lines))
    rows = checkpoint_rows(collection)
    if rows:
        blocks.append(("table", ["arm", "seed", "status",
                                 "final checkpoint"], rows))
    return blocks
