"""The confusion-matrix figure of a fine-tuned classifier (PNG bytes)."""

import io

import numpy as np


def confusion_matrix_png(confusions, label_names):
    """Row-normalized confusion matrices, one panel per split.

    Args:
        confusions: dict from split name to a `[k, k]` count matrix (rows:
            true label, columns: predicted), or `None` to skip the split.
        label_names: the `k` label names.

    Returns:
        PNG bytes.

    Examples:

    >>> png = confusion_matrix_png({"dev": np.array([[3, 1], [0, 4]])},
    ...                            ["neg", "pos"])
    >>> png[:4]
    b'\\x89PNG'
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    splits = [s for s, c in confusions.items() if c is not None]
    k = len(label_names)
    size = 1.6 + 0.45 * k
    fig, axes = plt.subplots(1, len(splits), squeeze=False,
                             figsize=(size * len(splits) + 0.8, size))
    for ax, split in zip(axes[0], splits, strict=True):
        counts = np.asarray(confusions[split], np.float64)
        rates = counts / np.maximum(counts.sum(1, keepdims=True), 1)
        ax.imshow(rates, cmap="Blues", vmin=0, vmax=1)
        for i in range(k):
            for j in range(k):
                ax.text(j, i, f"{int(counts[i, j])}", ha="center",
                        va="center", fontsize=8,
                        color="white" if rates[i, j] > 0.5 else "black")
        ax.set_xticks(range(k), label_names, rotation=45, ha="right",
                      fontsize=8)
        ax.set_yticks(range(k), label_names, fontsize=8)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        accuracy = np.trace(counts) / max(counts.sum(), 1)
        ax.set_title(f"{split}: accuracy {accuracy:.3f}", fontsize=9)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    return buffer.getvalue()
