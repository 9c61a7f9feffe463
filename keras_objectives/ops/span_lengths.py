"""The static lengths of T5 span corruption, computed at construction.

T5's `random_spans_helper` (the raw length whose corrupted inputs fit an
encoder length) and the budgets that size every static shape of
`keras_objectives.ops.span_corruption`: plain NumPy arithmetic on lengths,
in T5's float32 and round-half-to-even, run once when a layer or an
objective is built.
"""

import numpy as np

from keras_objectives.utils import check_int
from keras_objectives.utils import invalid


def random_spans_helper(
    inputs_length,
    noise_density,
    mean_noise_span_length,
    extra_tokens_per_span_inputs=1,
    extra_tokens_per_span_targets=1,
):
    """Raw tokens to cut so that span corruption fills `inputs_length`.

    T5's `random_spans_helper`, line for line: the largest raw length whose
    corrupted inputs (non-noise tokens, one sentinel per span, EOS) fit in
    `inputs_length`, and the targets length it then needs (noise tokens, one
    sentinel per span, EOS).

    Args:
        inputs_length: int, the model's encoder (inputs) length.
        noise_density: float, the share of tokens to corrupt.
        mean_noise_span_length: float, the mean noise span length.
        extra_tokens_per_span_inputs: int, tokens each span adds to inputs.
        extra_tokens_per_span_targets: int, tokens each span adds to targets.

    Returns:
        `(tokens_length, targets_length)`.

    Examples:

    >>> random_spans_helper(128, 0.15, 3.0)
    (141, 29)
    >>> random_spans_helper(512, 0.15, 3.0)
    (568, 114)
    """
    check_int("inputs_length", inputs_length, minimum=2)
    check_int("extra_tokens_per_span_inputs", extra_tokens_per_span_inputs,
              minimum=0)
    if not 0.0 <= float(noise_density) < 1.0:  # < 1: the loop ends.
        raise invalid("noise_density", noise_density, "a float in [0, 1)")
    if float(mean_noise_span_length) < 1.0:
        raise invalid("mean_noise_span_length", mean_noise_span_length,
                      "a float >= 1")

    def lengths(tokens_length):
        num_noise = int(round(tokens_length * noise_density))
        num_spans = int(round(num_noise / mean_noise_span_length))
        return (
            tokens_length - num_noise
            + num_spans * extra_tokens_per_span_inputs + 1,
            num_noise + num_spans * extra_tokens_per_span_targets + 1,
        )

    tokens_length = inputs_length - 1
    while lengths(tokens_length + 1)[0] <= inputs_length:
        tokens_length += 1
    _, targets_length = lengths(tokens_length)
    # T5: with density 0.5, make targets equal the (round) inputs length.
    if noise_density == 0.5 and targets_length > inputs_length:
        tokens_length -= 1
        targets_length -= 1
    return tokens_length, targets_length


def span_budget(raw_length, noise_density, mean_noise_span_length,
                random_roll=False):
    """Static lengths that random-spans corruption of any row needs.

    NumPy twin of `ops.span_corruption.span_counts` (same float32
    arithmetic), maximized over every real length `1 <= n <= raw_length`.
    With `random_roll` a noise span can wrap around the row end and split
    in two: one more span.

    Returns:
        dict with `inputs_length`, `targets_length`, `num_spans` (the most
        sentinels a row uses) and `total_length` (inputs plus targets,
        the decoder-only form's length).

    Examples:

    >>> span_budget(141, 0.15, 3.0)
    {'inputs_length': 128, 'targets_length': 29, 'num_spans': 7,
     'total_length': 157}
    """
    n = np.arange(1, raw_length + 1)
    m = np.zeros_like(n)
    s = np.zeros_like(n)
    if noise_density > 0:
        n2 = np.maximum(n, 2)
        m = np.round(n2.astype(np.float32) * np.float32(noise_density))
        m = np.minimum(np.maximum(m.astype(np.int64), 1), n2 - 1)
        s = np.round(m.astype(np.float32) / np.float32(mean_noise_span_length))
        s = np.minimum(np.maximum(s.astype(np.int64), 1), n2 - m)
        s = s + int(bool(random_roll))
        # A length-1 row keeps its only token (T5 slices the mask).
        m, s = np.where(n >= 2, m, 0), np.where(n >= 2, s, 0)
    inputs = n - m + s + 1
    targets = m + s + 1
    return {
        "inputs_length": int(inputs.max()),
        "targets_length": int(targets.max()),
        "num_spans": int(s.max()),
        "total_length": int((inputs + targets).max()),
    }


def iid_budget(raw_length, noise_density, num_sigmas=3.0):
    """Lengths that iid denoising of `raw_length` tokens needs, w.h.p.

    An iid mask has a random number of noise tokens `m ~ Binomial(n, p)` and
    of noise spans `s` (runs of noise; mean `p + (n - 1) p q`, variance
    below). Inputs never exceed `n + 1`; targets (`m + s + 1`) and the
    decoder-only total (`n + 2 s + 2`) are budgeted at mean plus
    `num_sigmas` standard deviations. Rows beyond the budget keep their
    trailing spans uncorrupted (`limit_noise_spans`).

    Returns:
        dict with `inputs_length`, `targets_length`, `num_spans` and
        `total_length`, as `span_budget`.

    Examples:

    >>> iid_budget(127, 0.15)
    {'inputs_length': 128, 'targets_length': 58, 'num_spans': 26,
     'total_length': 181}
    """
    n, p = int(raw_length), float(noise_density)
    q = 1.0 - p
    spans_mean = p + (n - 1) * p * q
    spans_sd = max(p * q + (n - 1) * p * q * (1 - p * q) - 2 * p * p * q
                   - 2 * max(n - 2, 0) * (p * q) ** 2, 0.0) ** 0.5
    targets = n * p + spans_mean + num_sigmas * ((n * p * q) ** 0.5 + spans_sd)
    num_spans = min(int(np.ceil(spans_mean + num_sigmas * spans_sd)),
                    (n + 1) // 2)
    return {
        "inputs_length": n + 1,
        "targets_length": min(int(np.ceil(targets)) + 1, n + 1 + (n + 1) // 2),
        "num_spans": num_spans,
        "total_length": n + 2 * num_spans + 2,
    }
