"""Masked-LM corruption throughput: keras_objectives vs keras-hub.

    KERAS_BACKEND=tensorflow python benchmarks/masking.py
    KERAS_BACKEND=tensorflow python benchmarks/masking.py --batch-size 256

From one process, on the same synthetic token data (20,000 rows of 128 ids,
Zipf over a 30,522-id vocabulary, `[CLS] ... [SEP]` and some padding, fixed
numpy seed), each transform runs in-graph as `ds.batch(b).map(layer)` and the
dataset is iterated. The batched dataset is cached first, so every row shares
the same pipeline cost (the `identity` row). Timing: one warm-up pass, then
`--repeats` passes per method, interleaved across methods (in a rotating
order) so load from other processes hits them alike, keeping each method's
best. Prints sequences/s and
the ratio to `keras_hub.layers.MaskedLMMaskGenerator` (which selects
`ceil(0.15 n)` tokens, like our `exact_ceil`). Takes about a minute.
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
from synthetic import zipf_features  # noqa: E402 (benchmarks/)

from keras_objectives.layers.masked_lm_masker import MaskedLMMasker  # noqa
from keras_objectives.layers.span_masker import SpanMasker  # noqa: E402

VOCABULARY_SIZE = 30522
SPECIAL_IDS = [0, 1, 2, 3, 4]  # [PAD] [UNK] [CLS] [SEP] [MASK]
MASK_ID = 4


def synthetic_features(rows, length, seed=0):
    """Zipf-distributed ids with `[CLS]`/`[SEP]` and trailing padding."""
    return zipf_features(rows, length, VOCABULARY_SIZE,
                         first_id=len(SPECIAL_IDS), bos_id=2, eos_id=3,
                         pad_id=0, seed=seed)


def continuation_ids():
    """Every 4th non-special id is a `##` piece (about 1.3 pieces a word)."""
    return [i for i in range(len(SPECIAL_IDS), VOCABULARY_SIZE) if i % 4 == 3]


def methods(selection_length):
    common = dict(vocabulary_size=VOCABULARY_SIZE, mask_token_id=MASK_ID,
                  special_token_ids=SPECIAL_IDS, seed=0)
    out = {"identity": lambda f: f}
    import keras_hub

    generator = keras_hub.layers.MaskedLMMaskGenerator(
        vocabulary_size=VOCABULARY_SIZE, mask_selection_rate=0.15,
        mask_token_id=MASK_ID, mask_selection_length=selection_length,
        unselectable_token_ids=SPECIAL_IDS)
    out["keras-hub MaskedLMMaskGenerator"] = lambda f: generator(
        f["token_ids"])
    out["ours prob_round (default)"] = MaskedLMMasker(**common)
    for mode in ("exact_ceil", "exact_round", "bernoulli"):
        out[f"ours {mode}"] = MaskedLMMasker(count_mode=mode, **common)
    out["ours whole_word"] = MaskedLMMasker(
        whole_word=True, continuation_token_ids=continuation_ids(), **common)
    out["ours SpanMasker (tokens)"] = SpanMasker(**common)
    out["ours SpanMasker (words)"] = SpanMasker(
        whole_word=True, continuation_token_ids=continuation_ids(), **common)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--length", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    features = synthetic_features(args.rows, args.length)
    base = tf.data.Dataset.from_tensor_slices(features).batch(
        args.batch_size, drop_remainder=True).cache()
    for _ in base:  # fill the cache
        pass
    rows = (args.rows // args.batch_size) * args.batch_size
    selection_length = int(np.ceil(0.15 * args.length))
    datasets = {name: base.map(fn)
                for name, fn in methods(selection_length).items()}
    for ds in datasets.values():  # warm-up: trace and run once
        for _ in ds:
            pass
    best = {name: float("inf") for name in datasets}
    names = list(datasets)
    for repeat in range(args.repeats):
        # Rotate the order so no method always follows the same one.
        shift = repeat % len(names)
        for name in names[shift:] + names[:shift]:
            start = time.perf_counter()
            for _ in datasets[name]:
                pass
            best[name] = min(best[name], time.perf_counter() - start)

    reference = rows / best["keras-hub MaskedLMMaskGenerator"]
    print(f"{rows} x {args.length} tokens, batch {args.batch_size}, "
          f"best of {args.repeats}")
    print(f"{'method':34s} {'seq/s':>10s} {'vs keras-hub':>13s}")
    for name, seconds in best.items():
        rate = rows / seconds
        print(f"{name:34s} {rate:10.0f} {rate / reference:12.2f}x")


if __name__ == "__main__":
    main()
