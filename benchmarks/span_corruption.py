"""T5 span corruption throughput: keras_objectives vs T5's algorithm in NumPy.

    KERAS_BACKEND=tensorflow python benchmarks/span_corruption.py
    KERAS_BACKEND=tensorflow python benchmarks/span_corruption.py --rows 5000

From one process, on the same synthetic data (20,000 rows of 141 raw ids,
the raw length T5's `random_spans_helper` cuts for inputs of 128, targets
29):

* **ours**: `keras_objectives.layers.SpanCorruptor` in-graph, as
  `ds.batch(b).map(layer)` over a cached batched dataset (so each variant
  pays the same pipeline cost), iterated to the end; with
  `num_parallel_calls=1` and `AUTOTUNE`.
* **reference**: a plain NumPy transcription, written for this benchmark, of
  the published `t5.data.preprocessors` functions `random_spans_noise_mask`
  (with its `_random_segmentation`), `noise_span_to_unique_sentinel` and
  `nonnoise_span_to_unique_sentinel`, then EOS and padding to the static
  lengths as seqio's `trim_and_pad` does, one row at a time like seqio's
  `map`. (seqio itself ran ~15-17k sequences/s at length 128 here.)

Timing: one warm-up pass, then `--repeats` passes per method, interleaved so
that load from other processes hits them alike; each method keeps its best.
Prints sequences/s and the ratio to the reference.

Correctness cross-check, before timing: for the noise masks our op draws,
the NumPy sentinel functions give exactly our inputs and targets, and the
NumPy mask generator has the same structure (noise count, span count,
non-noise first, noise last) row for row.
"""

import argparse
import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Run from a checkout without installing the package.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_objectives.layers.span_corruptor import SpanCorruptor  # noqa
from keras_objectives.ops import span_corruption as sc  # noqa: E402
from keras_objectives.ops import span_lengths

VOCABULARY_SIZE = 32100
EOS_ID, PAD_ID = 1, 0  # T5's
SENTINEL_ID = VOCABULARY_SIZE - 1  # <extra_id_0>, counting down
SENTINEL_IDS = [SENTINEL_ID - k for k in range(100)]
NOISE_DENSITY, MEAN_SPAN = 0.15, 3.0


# --- the reference: T5's published algorithm, transcribed to NumPy --------
def t5_random_spans_noise_mask(length, rng, noise_density=NOISE_DENSITY,
                               mean_noise_span_length=MEAN_SPAN):
    orig_length = length
    length = max(length, 2)
    num_noise_tokens = int(np.round(np.float32(length)
                                    * np.float32(noise_density)))
    num_noise_tokens = min(max(num_noise_tokens, 1), length - 1)
    num_noise_spans = int(np.round(np.float32(num_noise_tokens)
                                   / np.float32(mean_noise_span_length)))
    num_noise_spans = max(num_noise_spans, 1)
    num_nonnoise_tokens = length - num_noise_tokens

    def _random_segmentation(num_items, num_segments):
        first_in_segment = np.pad(
            rng.permutation(np.arange(num_items - 1) < num_segments - 1),
            [[1, 0]],
        )
        segment_id = np.cumsum(first_in_segment)
        return np.bincount(segment_id)  # segment_sum of ones

    noise_span_lengths = _random_segmentation(num_noise_tokens,
                                              num_noise_spans)
    nonnoise_span_lengths = _random_segmentation(num_nonnoise_tokens,
                                                 num_noise_spans)
    interleaved_span_lengths = np.stack(
        [nonnoise_span_lengths, noise_span_lengths], axis=1
    ).reshape(-1)
    span_starts = np.cumsum(interleaved_span_lengths)[:-1]
    span_start_indicator = np.zeros(length, np.int32)
    span_start_indicator[span_starts] = 1
    span_num = np.cumsum(span_start_indicator)
    is_noise = span_num % 2 == 1
    return is_noise[:orig_length]


def t5_noise_span_to_unique_sentinel(tokens, noise_mask):
    prev_token_is_noise = np.pad(noise_mask[:-1], [[1, 0]])
    first_noise_tokens = noise_mask & ~prev_token_is_noise
    subsequent_noise_tokens = noise_mask & prev_token_is_noise
    sentinel = SENTINEL_ID + 1 - np.cumsum(first_noise_tokens)
    tokens = np.where(first_noise_tokens, sentinel, tokens)
    return tokens[~subsequent_noise_tokens]


def t5_nonnoise_span_to_unique_sentinel(tokens, noise_mask):
    return t5_noise_span_to_unique_sentinel(tokens, ~noise_mask)


def trim_and_pad(tokens, length):
    out = np.full(length, PAD_ID, np.int32)
    tokens = np.append(tokens, EOS_ID)[:length]
    out[:len(tokens)] = tokens
    return out


def reference(token_ids, inputs_length, targets_length, rng):
    """T5 span corruption of every row, one at a time."""
    inputs, targets = [], []
    for row in token_ids:
        mask = t5_random_spans_noise_mask(len(row), rng)
        inputs.append(trim_and_pad(
            t5_noise_span_to_unique_sentinel(row, mask), inputs_length))
        targets.append(trim_and_pad(
            t5_nonnoise_span_to_unique_sentinel(row, mask), targets_length))
    return np.stack(inputs), np.stack(targets)


# --- the cross-check ---------------------------------------------------------
def cross_check(features, layer, inputs_length, targets_length, rows=2000):
    token_ids = features["token_ids"][:rows]
    lengths = tf.fill([rows], token_ids.shape[1])
    keys = layer.keys({"example_ids": tf.constant(features["example_ids"]
                                                  [:rows])})
    masks = sc.random_spans_noise_mask(keys, lengths, token_ids.shape[1],
                                       NOISE_DENSITY, MEAN_SPAN).numpy()
    ours = layer({k: v[:rows] for k, v in features.items()})
    rng = np.random.default_rng(1)
    for b in range(rows):
        expected_in = trim_and_pad(
            t5_noise_span_to_unique_sentinel(token_ids[b], masks[b]),
            inputs_length)
        expected_tgt = trim_and_pad(
            t5_nonnoise_span_to_unique_sentinel(token_ids[b], masks[b]),
            targets_length)
        np.testing.assert_array_equal(ours["inputs"][b], expected_in)
        np.testing.assert_array_equal(ours["targets"][b], expected_tgt)
        t5_mask = t5_random_spans_noise_mask(token_ids.shape[1], rng)
        for mask in (masks[b], t5_mask):
            starts = np.diff(np.pad(mask.astype(int), [[1, 0]])) == 1
            assert (mask.sum(), starts.sum(), mask[0], mask[-1]) == (
                masks[0].sum(), 7, False, True), "mask structure differs"
    print(f"cross-check: {rows} rows identical to T5's sentinel functions "
          "on our masks; mask structure matches T5's generator")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--inputs-length", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    raw, targets_length = span_lengths.random_spans_helper(args.inputs_length,
                                                 NOISE_DENSITY, MEAN_SPAN)
    rng = np.random.default_rng(0)
    features = {
        "token_ids": rng.integers(2, VOCABULARY_SIZE - 100,
                                  (args.rows, raw)).astype(np.int32),
        "padding_mask": np.ones((args.rows, raw), bool),
        "example_ids": np.arange(args.rows, dtype=np.int64),
    }
    layer = SpanCorruptor(SENTINEL_IDS, EOS_ID, PAD_ID, seed=0)
    cross_check(features, layer, args.inputs_length, targets_length)

    base = tf.data.Dataset.from_tensor_slices(features).batch(
        args.batch_size, drop_remainder=True).cache()
    for _ in base:  # fill the cache
        pass
    rows = (args.rows // args.batch_size) * args.batch_size
    methods = {
        "ours, num_parallel_calls=1": base.map(layer),
        "ours, AUTOTUNE": base.map(layer, num_parallel_calls=tf.data.AUTOTUNE),
        "T5 algorithm, NumPy per row": None,
    }

    def run(name):
        if methods[name] is None:
            reference(features["token_ids"][:rows], args.inputs_length,
                      targets_length, np.random.default_rng(0))
        else:
            for _ in methods[name]:
                pass

    for name in methods:  # warm-up: trace and run once
        run(name)
    best = {name: float("inf") for name in methods}
    for _ in range(args.repeats):
        for name in methods:
            start = time.perf_counter()
            run(name)
            best[name] = min(best[name], time.perf_counter() - start)

    ref = rows / best["T5 algorithm, NumPy per row"]
    print(f"{rows} rows of {raw} raw tokens -> inputs {args.inputs_length}, "
          f"targets {targets_length}; batch {args.batch_size}, best of "
          f"{args.repeats}")
    print(f"{'method':32s} {'seq/s':>10s} {'vs reference':>13s}")
    for name, seconds in best.items():
        rate = rows / seconds
        print(f"{name:32s} {rate:10.0f} {rate / ref:12.2f}x")


if __name__ == "__main__":
    main()
