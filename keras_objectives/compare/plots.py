"""The report's figures as PNG bytes (matplotlib, Agg backend).

* training loss against FLOPs and against tokens, per arm: the mean over
  seeds with a min-max band (each arm's loss is its own objective's, so
  the curves show progress, not a ranking);
* every evaluation's primary metric per arm: mean with SD error bars and
  each seed as a dot;
* sample efficiency: evaluation score against training FLOPs at the
  checkpoints evaluated along training;
* throughput: tokens per second per arm.
"""

import io

import numpy as np

from keras_objectives.compare.results import PRETRAINING


# CJK fonts tried, in order, after DejaVu Sans when a label has Chinese (an
# arm named in Chinese): matplotlib falls back glyph by glyph along the
# list. The built-in recipes keep plot labels ASCII, so no plot needs one;
# `apt-get install fonts-noto-cjk` provides the first.
CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Source Han Sans SC",
             "WenQuanYi Zen Hei", "Microsoft YaHei", "SimHei", "PingFang SC",
             "Heiti SC", "Arial Unicode MS")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    found = [name for name in CJK_FONTS if name in installed]
    if found and matplotlib.rcParams["font.family"] == ["sans-serif"]:
        first = matplotlib.rcParams["font.sans-serif"][0]
        matplotlib.rcParams["font.family"] = [first, *found]
    return plt


def _png(fig):
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=96, bbox_inches="tight")
    _pyplot().close(fig)
    return buffer.getvalue()


def _compute_axis(axis):
    """Engineering notation (100 k, 4 T) for token and FLOP axes."""
    from matplotlib.ticker import EngFormatter

    axis.xaxis.set_major_formatter(EngFormatter())
    axis.tick_params(axis="x", labelsize=8)


def _colors(arms):
    cycle = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
             "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
    return {a: cycle[i % len(cycle)] for i, a in enumerate(arms)}


def _by_step(rows, arm, evaluation, metric, x):
    """`(xs, mean, low, high)` over seeds at each step."""
    steps = {}
    for r in rows:
        if (r["arm"] == arm and r["evaluation"] == evaluation
                and r["metric"] == metric and r.get(x) is not None):
            steps.setdefault(r["step"], []).append((r[x], r["value"]))
    if not steps:
        return None
    keys = sorted(steps)
    xs = np.array([np.mean([p[0] for p in steps[k]]) for k in keys])
    ys = [np.array([p[1] for p in steps[k]]) for k in keys]
    return (xs, np.array([y.mean() for y in ys]),
            np.array([y.min() for y in ys]), np.array([y.max() for y in ys]))


def loss_curves(rows, arms):
    """Training loss vs FLOPs and vs tokens; `None` without curves."""
    plt = _pyplot()
    colors = _colors(arms)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    drawn = False
    for axis, x, label in ((axes[0], "flops", "training FLOPs"),
                           (axes[1], "tokens", "tokens seen")):
        for arm in arms:
            curve = _by_step(rows, arm, PRETRAINING, "loss", x)
            if curve is None:
                continue
            xs, mean, low, high = curve
            axis.plot(xs, mean, marker="o", ms=3, color=colors[arm],
                      label=arm)
            axis.fill_between(xs, low, high, color=colors[arm], alpha=0.2)
            drawn = True
        axis.set_xlabel(label)
        _compute_axis(axis)
        axis.set_ylabel("training loss (own objective)")
        axis.grid(alpha=0.3)
    if not drawn:
        plt.close(fig)
        return None
    axes[0].legend(fontsize=8)
    return _png(fig)


def scores(tables, arms):
    """One panel per evaluation: primary metric per arm, mean ± SD, seeds.

    A dot plot, not bars: the axis is zoomed to the seeds' range so small
    differences stay visible, and a bar whose base is not zero would make
    them look larger than they are.
    """
    panels = [t for t in tables if t["metrics"].get(t["primary"])]
    if not panels:
        return None
    plt = _pyplot()
    colors = _colors(arms)
    fig, axes = plt.subplots(1, len(panels), figsize=(
        max(4.5 * len(panels), 5), 3.8), squeeze=False)
    for axis, table in zip(axes[0], panels, strict=True):
        by_arm = table["metrics"][table["primary"]]
        names = [a for a in arms if a in by_arm]
        means = [by_arm[a]["mean"] for a in names]
        sds = [np.nan_to_num(by_arm[a]["sd"]) for a in names]
        for i, a in enumerate(names):
            axis.errorbar(i, means[i], yerr=sds[i], fmt="D", markersize=8,
                          capsize=6, color=colors[a], zorder=2)
            seeds = list(by_arm[a]["values"].values())
            axis.scatter(np.full(len(seeds), i + 0.15), seeds,
                         color="black", s=12, alpha=0.7, zorder=3)
        axis.set_xlim(-0.6, len(names) - 0.4)
        axis.set_xticks(range(len(names)), names, rotation=20, ha="right")
        axis.set_title(table["label"], fontsize=10)
        axis.set_ylabel(table["primary"])
        lines = _reference_lines(axis, table)
        lo = min([np.nanmin(np.array(
            list(by_arm[a]["values"].values()))) for a in names] + lines)
        hi = max([np.nanmax(np.array(
            list(by_arm[a]["values"].values()))) for a in names] + lines)
        pad = max((hi - lo) * 0.5, abs(hi) * 0.02, 1e-3)
        axis.set_ylim(lo - pad, hi + pad)
        axis.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return _png(fig)


_GROUP_STYLE = {"bidirectional": "--", "causal": "-.", "encoder": ":"}


def _reference_lines(axis, table):
    """Draw the untrained references and the majority line; their values."""
    values = []
    primary = table["primary"]
    for group, d in sorted(table.get("untrained", {}).get(primary,
                                                          {}).items()):
        axis.axhline(d["mean"], color="#555555", lw=1.2,
                     ls=_GROUP_STYLE.get(group, "--"),
                     label=f"untrained ({group})", zorder=1)
        values.append(d["mean"])
    majority = table.get("majority", {}).get(primary)
    if majority is not None:
        axis.axhline(majority, color="#b45309", lw=1.0, ls=":",
                     label="majority class", zorder=1)
        values.append(majority)
    if values:
        axis.legend(fontsize=7, loc="best")
    return values


def sample_efficiency(rows, tables, arms):
    """Score vs FLOPs at checkpoints along training; `None` if no curves."""
    panels = []
    for table in tables:
        steps = {}
        for r in rows:
            if (r["evaluation"] == table["label"]
                    and r["metric"] == table["primary"]):
                steps.setdefault(r["arm"], set()).add(r["step"])
        if any(len(s) > 1 for s in steps.values()):
            panels.append(table)
    if not panels:
        return None
    plt = _pyplot()
    colors = _colors(arms)
    fig, axes = plt.subplots(1, len(panels), figsize=(
        max(4.5 * len(panels), 5), 3.8), squeeze=False)
    for axis, table in zip(axes[0], panels, strict=True):
        for arm in arms:
            curve = _by_step(rows, arm, table["label"], table["primary"],
                             "flops")
            if curve is None:
                continue
            xs, mean, low, high = curve
            axis.plot(xs, mean, marker="o", color=colors[arm], label=arm)
            axis.fill_between(xs, low, high, color=colors[arm], alpha=0.2)
        axis.set_xlabel("training FLOPs")
        _compute_axis(axis)
        axis.set_ylabel(table["primary"])
        axis.set_title(table["label"], fontsize=10)
        axis.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    return _png(fig)


def throughput(arm_table):
    """Tokens per second per arm (mean ± SD over seeds)."""
    names = [a["arm"] for a in arm_table
             if a["tokens_per_second"]["n"]]
    if not names:
        return None
    plt = _pyplot()
    colors = _colors([a["arm"] for a in arm_table])
    by = {a["arm"]: a["tokens_per_second"] for a in arm_table}
    fig, axis = plt.subplots(figsize=(max(1.3 * len(names), 5), 3.2))
    axis.bar(range(len(names)), [by[a]["mean"] for a in names],
             yerr=[np.nan_to_num(by[a]["sd"]) for a in names], capsize=5,
             color=[colors[a] for a in names], alpha=0.75)
    axis.set_xticks(range(len(names)), names, rotation=20, ha="right")
    axis.set_ylabel("tokens / second")
    axis.grid(axis="y", alpha=0.3)
    return _png(fig)


def all_figures(analysis, arms):
    """`[(file_stem, title, caption, png_bytes)]` of the figures drawn."""
    rows = analysis["rows"]
    figures = [
        ("loss_curves", "Training loss vs compute",
         "Mean over seeds, band = min-max. Each arm minimizes its own "
         "objective, so losses are not comparable across arms; "
         "read them as progress, never as a ranking.",
         loss_curves(rows, arms)),
        ("scores", "Evaluation scores",
         "Final checkpoint. Diamond = mean over pre-training seeds, error "
         "bar = SD, dots = seeds. Grey lines: the untrained body of each "
         "attention mode (same seeds, step 0); orange dotted: the "
         "majority class.", scores(analysis["evaluations"], arms)),
        ("sample_efficiency", "Sample efficiency",
         "Score at checkpoints along training against training FLOPs "
         "(ELECTRA Figure 1 style). Band = min-max over seeds.",
         sample_efficiency(rows, analysis["evaluations"], arms)),
        ("throughput", "Throughput",
         "Training tokens per second (mean ± SD over seeds) on this "
         "machine.", throughput(analysis["arms"])),
    ]
    return [f for f in figures if f[3] is not None]
