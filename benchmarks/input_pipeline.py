"""Does preprocessing keep up with training? Every objective's input pipeline.

    KERAS_BACKEND=tensorflow python benchmarks/input_pipeline.py
    KERAS_BACKEND=tensorflow python benchmarks/input_pipeline.py \
        --objectives masked_lm,ul2 --batches 100

For each objective recipe in `recipes/` (full-run config: length 128, batch
32), this builds the input pipeline exactly as `train` feeds `model.fit`:
the embedded books tokenized and packed once (`training.prepare_corpus`,
`corpus.pack`), then `training.input_stream`, the very stream `train`
builds: `data.make_dataset` (seeded per-epoch order, batching) with the
objective's transform (`training.model_inputs`) mapped over each batch.
It then iterates `--batches` batches two ways:

* **1 thread**: `num_parallel_calls=1` and a private thread pool of one
  thread, so the time is the CPU cost of preprocessing on one core;
* **AUTOTUNE**: as `train` runs it, on all cores.

The demand side is a training rate in tokens/s (`--train-tokens-per-second`,
default 2,907: the fastest `model.fit` measured on this 2-core machine by
`benchmarks/train_throughput.py`, the keras-hub BERT loop of a 4 x 256 body
with XLA, float32, on pre-masked batches; an objective that computes the
softmax at every position trains slower, so it asks less of its pipeline).
The table's `core share` is that rate over the 1-thread rate: the fraction
of one core preprocessing takes while training runs at that rate. Below
about 0.1 the pipeline cannot starve training; `prefetch` overlaps it with
the step.

Timing: one warm-up pass of `--warmup` batches (tracing, thread start-up),
then `--repeats` timed passes per mode; the best is kept.
"""

import argparse
import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Run from a checkout without installing the package.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import tensorflow as tf  # noqa: E402

from keras_objectives import config as config_lib  # noqa: E402
from keras_objectives import training  # noqa: E402

OBJECTIVES = (
    "masked_lm", "span_masking", "causal_lm", "prefix_lm", "span_corruption",
    "iid_denoising", "replaced_token_detection", "denoising",
    "fill_in_the_middle", "ul2", "hybrid_clm_mlm",
)


def pipeline(rows, objective, config, one_thread):
    """The batches `train` feeds `fit`, with 1 thread or AUTOTUNE."""
    parallel = 1 if one_thread else tf.data.AUTOTUNE
    dataset = training.input_stream(rows, objective, config,
                                    num_parallel_calls=parallel, prefetch=1)
    if one_thread:
        options = tf.data.Options()
        options.threading.private_threadpool_size = 1
        options.autotune.enabled = False
        dataset = dataset.with_options(options)
    return dataset


def rate(dataset, batches, warmup, repeats):
    """Best batches per second over `repeats` passes of `batches`."""
    for _ in dataset.take(warmup):
        pass
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in dataset.take(batches):
            pass
        best = max(best, batches / (time.perf_counter() - start))
    return best


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objectives", default=",".join(OBJECTIVES),
                        help="Comma-separated recipe names in recipes/.")
    parser.add_argument("--batches", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--train-tokens-per-second", type=float,
                        default=2907.0,
                        help="The training rate the pipeline must feed.")
    args = parser.parse_args(argv)
    names = args.objectives.split(",")
    for name in names:
        if not os.path.isfile(os.path.join(ROOT, "recipes", name + ".py")):
            parser.error(f"No recipe recipes/{name}.py; choose from "
                         f"{', '.join(OBJECTIVES)}.")

    corpus = None
    print(f"input pipeline of `train` per objective: best of {args.repeats} "
          f"passes of {args.batches} batches; demand "
          f"{args.train_tokens_per_second:,.0f} training tokens/s")
    print(f"{'objective':26s} {'batch x len':>11s} {'1 thread':>10s} "
          f"{'AUTOTUNE':>10s} {'core share':>10s}")
    print(f"{'':26s} {'':>11s} {'tok/s':>10s} {'tok/s':>10s} {'':>10s}")
    for name in names:
        config = config_lib.load_recipe(
            os.path.join(ROOT, "recipes", name + ".py"))
        if corpus is None:  # Every recipe reads the same embedded books.
            corpus = training.prepare_corpus(config)
        objective = training.build_objective(config, corpus)
        rows = corpus.pack("train", objective.raw_length)
        batch = config["training"]["global_batch_size"]
        tokens = batch * config["sequence_length"]
        single, parallel = (
            rate(pipeline(rows, objective, config, one), args.batches,
                 args.warmup, args.repeats) * tokens
            for one in (True, False)
        )
        share = args.train_tokens_per_second / single
        print(f"{name:26s} {batch:4d} x {config['sequence_length']:<4d} "
              f"{single:10,.0f} {parallel:10,.0f} {share:10.3f}")


if __name__ == "__main__":
    main()
