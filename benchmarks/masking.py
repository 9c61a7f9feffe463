"""Masked-LM corruption throughput: keras_objectives vs keras-hub.

    KERAS_BACKEND=tensorflow python benchmarks/masking.py
    KERAS_BACKEND=tensorflow python benchmarks/masking.py --batch-size 256

From one process, on the same synthetic token data (20,000 rows of 128 ids,
Zipf over a 30,522-id vocabulary, `[CLS] ... [SEP]` and some padding, fixed
numpy seed), each transform runs in-graph as `ds.batch(b).map(layer)` and the
dataset is iterated. The batched dataset is cached first, so every row shares
the same pipeline cost (the `identity` row). Timing: one warm-up pass, then
`--runs` runs of `--repeats` passes per method, interleaved across methods
(in a rotating order) so load from other processes hits them alike,
keeping each method's best pass per run. Prints sequences/s and the ratio
to `keras_hub.layers.MaskedLMMaskGenerator` (which selects `ceil(0.15 n)`
tokens, like our `exact_ceil`): the median over runs with its range, and
the CPU's flags, load and matmul peak beside them. Takes about two
minutes.

The Chinese rows (`ours Chinese whole_word ...`) mask the same ids as
character tokens whose words come from a `word_starts` feature (words of
1-3 characters, 1.5 on average, about jieba's 1.42 on the embedded
corpus), 80/10/10 per character; keras-hub has no whole-word masking, so
the ratio is to its per-token generator on the same ids. Segmentation is
not a per-step cost (it runs once per corpus and is cached), so it is
reported apart: `--segmentation` times jieba and the token alignment on
the first `--segmentation-mb` MB of the embedded Chinese corpus, in
seconds per MB (needs the `[zh]` extra).
"""

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Run from a checkout without installing the package.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import machine  # noqa: E402 (benchmarks/)
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


def chinese_word_starts(features, seed=0):
    """Synthetic word starts: words of 1-3 characters (mean 1.5)."""
    rng = np.random.default_rng(seed)
    lengths = rng.choice([1, 2, 3], p=[0.6, 0.3, 0.1],
                         size=features["token_ids"].shape)
    flat = np.zeros(lengths.size, bool)
    flat[np.minimum(np.cumsum(lengths.reshape(-1)) - 1, flat.size - 1)] = True
    starts = np.roll(flat, 1).reshape(lengths.shape)
    starts[:, 0] = True
    return {**features, "word_starts": starts}


def segmentation_seconds_per_mb(megabytes):
    """One-off cost of jieba + alignment on the embedded Chinese corpus."""
    from keras_objectives import data
    from keras_objectives.data.segmentation import get_segmenter

    documents, size = [], 0
    for text in data.embedded_zh_corpus("train"):
        documents.append(text)
        size += len(text.encode("utf-8"))
        if size >= megabytes * 1e6:
            break
    vocabulary = data.train_cjk_vocabulary(documents, cache_dir=False)
    tokenizer = data.make_tokenizer(vocabulary)
    ids = data.tokenize_documents(tokenizer, documents, cache_dir=False)
    segmenter = get_segmenter("jieba")
    segmenter.cut("预热")  # jieba loads its dictionary once per process
    start = time.perf_counter()
    segmenter_only = [segmenter.cut(d) for d in documents]
    jieba_seconds = time.perf_counter() - start
    _, stats = data.word_starts(tokenizer, documents, ids, segmenter,
                                cache_dir=False)
    del segmenter_only
    return size / 1e6, jieba_seconds, stats


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
    out["ours Chinese whole_word (per char)"] = MaskedLMMasker(
        whole_word=True, continuation_token_ids=[], **common)
    out["ours Chinese n-gram 1-4 words"] = MaskedLMMasker(
        whole_word=True, continuation_token_ids=[],
        ngram_probabilities=[0.4, 0.3, 0.2, 0.1], **common)
    out["ours SpanMasker (tokens)"] = SpanMasker(**common)
    out["ours SpanMasker (words)"] = SpanMasker(
        whole_word=True, continuation_token_ids=continuation_ids(), **common)
    return out


def time_passes(datasets, repeats, offset=0):
    """Best seconds per pass over each dataset, in a rotating order."""
    best = {name: float("inf") for name in datasets}
    names = list(datasets)
    for repeat in range(repeats):
        # Rotate the order so no method always follows the same one.
        shift = (repeat + offset) % len(names)
        for name in names[shift:] + names[:shift]:
            start = time.perf_counter()
            for _ in datasets[name]:
                pass
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--length", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=3,
                        help="timed passes per method in a run (best kept)")
    parser.add_argument("--runs", type=int, default=3,
                        help="runs; ratios are reported as their median")
    parser.add_argument("--segmentation", action="store_true")
    parser.add_argument("--segmentation-mb", type=float, default=2.0)
    args = parser.parse_args(argv)

    features = chinese_word_starts(synthetic_features(args.rows, args.length))
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
    names = list(datasets)
    reference = "keras-hub MaskedLMMaskGenerator"
    ratios = {name: [] for name in names}
    rates = {name: [] for name in names}
    for run in range(args.runs):
        best = time_passes(datasets, args.repeats, offset=run)
        for name in names:
            rates[name].append(rows / best[name])
            ratios[name].append(best[reference] / best[name])

    print(f"{rows} x {args.length} tokens, batch {args.batch_size}; "
          f"{args.runs} runs of best-of-{args.repeats} passes; median run "
          "[min-max over runs]")
    print(f"{'method':36s} {'seq/s':>10s} {'vs keras-hub':>24s}")
    for name in names:
        r = sorted(ratios[name])
        print(f"{name:36s} {statistics.median(rates[name]):10.0f} "
              f"{statistics.median(r):8.2f}x [{r[0]:.2f}-{r[-1]:.2f}]")
    for line in machine.describe():
        print(line)
    if args.segmentation:
        size, jieba_seconds, stats = segmentation_seconds_per_mb(
            args.segmentation_mb)
        print(f"segmentation (one-off, cached): {size:.2f} MB in "
              f"{stats['seconds']:.1f} s = {stats['seconds_per_mb']:.2f} "
              f"s/MB (jieba alone {jieba_seconds / size:.2f} s/MB); "
              f"{stats['words']} words, {stats['fallbacks']} fallbacks")


if __name__ == "__main__":
    main()
