"""Training throughput and MFU: our MaskedLM pre-trainer vs a keras-hub loop.

    KERAS_BACKEND=tensorflow python benchmarks/train_throughput.py
    KERAS_BACKEND=tensorflow python benchmarks/train_throughput.py --quick
    KERAS_BACKEND=tensorflow python benchmarks/train_throughput.py \
        --mixed-precision mixed_bfloat16 --xla off

From one process:

0. **The CPU.** Its bfloat16/AMX flags (`avx512_bf16`, `amx_bf16`,
   `amx_tile`), or a statement that bfloat16 is emulated there (float32
   stays the default), and whether TensorFlow's oneDNN kernels are on.
1. **Peak.** The machine's own matmul peak: chains of square
   `tf.linalg.matmul` (1024, 2048, 3072) in a `tf.function`, best of several
   calls. MFU is model FLOP/s over this float32 peak (also under
   mixed_bfloat16, where the bf16 matmul peak is printed beside it).
2. **Ours.** `TransformerBody` + `MaskedLM` as a `Pretrainer`, two ways:
   `training.build_model` exactly as a run builds it (AdamW with weight
   decay, global clipnorm, cosine schedule), and the same `Pretrainer`
   compiled with plain Adam like the reference loop.
3. **keras-hub.** A hand-written loop of the same size: `BertBackbone` +
   `MaskedLMHead` tied to its token embedding, a functional `keras.Model`,
   sparse categorical cross-entropy with sample weights, Adam, `model.fit`.

All models: `--layers` blocks of width `--hidden` (heads = hidden / 64,
feedforward 4 x hidden), vocabulary 7,877 (the shipped one), dropout 0
(the project default; keras-hub's 0.1 would also switch attention off the
fused `dot_product_attention` path), accuracy as a weighted metric. They
train on the same *pre-masked* batches: `--batches` batches of Zipf token ids
go through the objective's transform once and are cached in memory
(`.take(n).cache().repeat()`), so masking cost is excluded.

FLOPs per step come from the project's accounting (`MaskedLM.accounting`,
`objectives/flops.py`): `6 * N * tokens` (N = non-embedding parameters)
`+ 3 * 4 * L * d * layers * tokens` (attention scores and values) `+ 3 *
(2 * d * V + 2 * d * d) * head_positions` (the BERT head at the gathered
`ceil(0.15 L)` slots). Both models are charged the same FLOPs, so the MFU
ratio equals the tokens/s ratio.

Timing: each configuration is warmed up (tracing, XLA compilation), then
`--windows` fit calls of `--steps` steps each are timed in a rotating order,
so load from other processes hits every configuration alike. A window's
rate excludes its first step (iterator start-up): `(steps - 1) * tokens`
over the time between the first and last `on_train_batch_end`. The table
shows the median window, with the min and max, the process CPU seconds per
step (less disturbed by other jobs' load), and the mixed_bfloat16 /
float32 ratios by both. `--profile DIR` adds tf.profiler op self time by
category (dense and attention matmuls, softmax, layer norms, GELU, casts,
the MLM head, loss, optimizer).
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

import keras  # noqa: E402
import keras_hub  # noqa: E402
import tensorflow as tf  # noqa: E402
from machine import matmul_peak  # noqa: E402 (benchmarks/)
from synthetic import zipf_features  # noqa: E402 (benchmarks/)

from keras_objectives import config as config_lib  # noqa: E402
from keras_objectives import precision  # noqa: E402
from keras_objectives.data.special_tokens import SpecialTokens  # noqa
from keras_objectives.data.special_tokens import reserved_tokens  # noqa
from keras_objectives.models import Pretrainer  # noqa: E402
from keras_objectives.models.backbones import make_backbone  # noqa: E402
from keras_objectives.objectives import MaskedLM  # noqa: E402
from keras_objectives.objectives.flops import ModelDims  # noqa: E402
from keras_objectives.training import build_model  # noqa: E402
from keras_objectives.training import model_inputs  # noqa: E402

VOCABULARY_SIZE = 7877  # The shipped vocabulary (docs/data.md).
LEARNING_RATE = 5e-4  # The base config's; it does not change the speed.


# --- data: synthetic Zipf ids, masked once, cached -----------------------
def special_tokens():
    words = VOCABULARY_SIZE - len(reserved_tokens())
    return SpecialTokens.from_vocabulary(
        reserved_tokens() + [f"w{i}" for i in range(words)]
    )


def synthetic_features(rows, length, special, seed=0):
    """Zipf ids over the non-special ids, `[CLS] ... [SEP]`, some padding."""
    return zipf_features(rows, length, VOCABULARY_SIZE,
                         first_id=max(special.special_ids) + 1,
                         bos_id=special.bos_id, eos_id=special.eos_id,
                         pad_id=special.pad_id, seed=seed)


def premasked(objective, features, batch_size, batches):
    """`(ours, keras_hub)` datasets of the same cached, masked batches."""
    masked = (
        tf.data.Dataset.from_tensor_slices(features)
        .batch(batch_size, drop_remainder=True)
        .map(model_inputs(objective))
        .take(batches)
        .cache()
    )
    for _ in masked:  # Fill the cache: masking is never timed.
        pass

    def add_segment_ids(x, y, w):
        x = {**x, "segment_ids": tf.zeros_like(x["token_ids"])}
        return x, y, w

    hub = masked.map(add_segment_ids).cache()
    for _ in hub:
        pass
    return masked.repeat(), hub.repeat()


# --- the models ----------------------------------------------------------
def run_config(args, jit_compile):
    config = config_lib.base_config()
    config["sequence_length"] = args.sequence_length
    config["model"].update(
        num_layers=args.layers, num_heads=args.hidden // 64,
        hidden_dim=args.hidden, intermediate_dim=4 * args.hidden,
        max_sequence_length=args.sequence_length, dropout=0.0,
    )
    config["training"].update(jit_compile=jit_compile)
    return config


def ours_build_model(args, objective, jit_compile):
    """Exactly what `training.train` builds (AdamW, clipnorm, schedule)."""
    return build_model(run_config(args, jit_compile), objective,
                       VOCABULARY_SIZE)


def ours_adam(args, objective, jit_compile):
    """The same `Pretrainer`, compiled like the keras-hub loop."""
    m = run_config(args, jit_compile)["model"]
    del m["backbone"]
    backbone = make_backbone("body", VOCABULARY_SIZE,
                             objective.attention_mode, **m)
    model = Pretrainer(backbone, objective)
    model.compile(
        optimizer=keras.optimizers.Adam(LEARNING_RATE),
        loss=objective.loss(), weighted_metrics=objective.metrics(),
        jit_compile=jit_compile,
    )
    return model


def keras_hub_loop(args, objective, jit_compile):
    """A hand-written BERT MLM: `BertBackbone` + `MaskedLMHead`, Adam."""
    backbone = keras_hub.models.BertBackbone(
        vocabulary_size=VOCABULARY_SIZE, num_layers=args.layers,
        num_heads=args.hidden // 64, hidden_dim=args.hidden,
        intermediate_dim=4 * args.hidden,
        max_sequence_length=args.sequence_length, dropout=0.0,
    )
    head = keras_hub.layers.MaskedLMHead(
        vocabulary_size=VOCABULARY_SIZE,
        token_embedding=backbone.token_embedding,
        intermediate_activation="gelu",
    )
    inputs = {
        name: keras.Input((None,), dtype="int32", name=name)
        for name in ("token_ids", "segment_ids", "padding_mask",
                     "mask_positions")
    }
    sequence = backbone({k: inputs[k] for k in backbone.input})[
        "sequence_output"]
    logits = head(sequence, mask_positions=inputs["mask_positions"])
    model = keras.Model(inputs, logits)
    model.compile(
        optimizer=keras.optimizers.Adam(LEARNING_RATE),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        weighted_metrics=[keras.metrics.SparseCategoricalAccuracy()],
        jit_compile=jit_compile,
    )
    return model


MODELS = {  # name: (build, which batches, short label)
    "ours build_model (AdamW)": (ours_build_model, "ours", "ours AdamW"),
    "ours Pretrainer + Adam": (ours_adam, "ours", "ours Adam"),
    "keras-hub Bert + Adam": (keras_hub_loop, "hub", "hub Adam"),
}
REFERENCE = "keras-hub Bert + Adam"


class StepTimes(keras.callbacks.Callback):
    """Wall and process CPU time at the end of every training step."""

    def on_train_begin(self, logs=None):
        self.times = []

    def on_train_batch_end(self, batch, logs=None):
        self.times.append((time.perf_counter(), time.process_time()))


def fit_window(model, dataset, steps):
    """Wall and CPU seconds per step over `steps - 1` steps, and the loss."""
    timer = StepTimes()
    history = model.fit(dataset, epochs=1, steps_per_epoch=steps,
                        callbacks=[timer], verbose=0)
    (wall0, cpu0), (wall1, cpu1) = timer.times[0], timer.times[-1]
    return ((wall1 - wall0) / (steps - 1), (cpu1 - cpu0) / (steps - 1),
            history.history["loss"][-1])


MATMULS = ("MatMul", "BatchMatMul", "Einsum")
PROJECTIONS = ("query", "key", "value", "attention_output")


def category_of(name, op_type):
    """The profile row of one op, from its type and name scope."""
    parts = name.split("/")
    if op_type == "Cast":
        return "casts (bfloat16 <-> float32)"
    if any(p.startswith("compile_loss") for p in parts):
        return "loss (softmax cross-entropy)"
    if any(p.startswith("adam") for p in parts):
        return "optimizer (AdamW/Adam, clipping)"
    if any(p.startswith(("mlm_head", "masked_lm_head")) for p in parts):
        return "MLM head (gather, dense, tied logits)"
    if "layer_norm" in name:
        return "layer norms"
    if "Gelu" in name or "gelu" in name:
        return "GELU"
    attention = any(p.startswith("self_attention") for p in parts)
    projection = any(p.startswith(PROJECTIONS) for p in parts)
    if any(m in op_type for m in MATMULS):
        if attention and not projection:
            return "attention batch-matmuls (QK^T, PV)"
        return "dense matmuls (q/k/v/o, feedforward)"
    if attention and not projection:
        return "softmax, scale, mask"
    if "embedding" in name or "position" in name:
        return "embeddings, positions"
    if op_type in ("BiasAdd", "BiasAddGrad", "AddV2", "AddN"):
        return "bias adds, residual adds, gradient sums"
    return "metrics and other"


def op_profile(model, dataset, steps, logdir):
    """Self time per op category over `steps` traced steps (tf.profiler)."""
    import collections
    import glob
    import json

    from tensorflow.python.profiler.internal import _pywrap_profiler_plugin

    # The profiler's first session starts slowly and charges its start-up
    # to the first ops it sees: trace one step and throw it away.
    tf.profiler.experimental.start(os.path.join(logdir, "discard"))
    model.fit(dataset, epochs=1, steps_per_epoch=1, verbose=0)
    tf.profiler.experimental.stop()
    logdir = os.path.join(logdir, "kept")
    tf.profiler.experimental.start(logdir)
    model.fit(dataset, epochs=1, steps_per_epoch=steps, verbose=0)
    tf.profiler.experimental.stop()
    paths = glob.glob(os.path.join(logdir, "**", "*.xplane.pb"),
                      recursive=True)
    raw = _pywrap_profiler_plugin.xspace_to_tools_data(
        paths, "framework_op_stats", {})[0]
    table = json.loads(raw)[0]
    columns = [c["id"] for c in table["cols"]]
    times = collections.Counter()
    for row in table["rows"]:
        row = dict(zip(columns, [c.get("v") if c else None
                                 for c in row["c"]], strict=True))
        if row["type"] != "IDLE":
            times[category_of(row["operation"], row["type"])] += row[
                "total_self_time"]
    return times


def print_profiles(profiles, steps):
    """Each configuration's op self time by category: ms/step and share."""
    labels = [f"{'bf16 ' if p != 'float32' else ''}{MODELS[name][2]}"
              for p, jit, name in profiles]
    rows = sorted(set().union(*profiles.values()),
                  key=lambda r: -max(t.get(r, 0) for t in profiles.values()))
    print("where time goes (tf.profiler op self time summed over threads, "
          "no XLA; ms/step and share):")
    print(f"  {'ops':42s}" + "".join(f"{x:>20s}" for x in labels))
    for row in rows + ["total"]:
        print(f"  {row:42s}" + "".join(
            f"{cell(times, row, steps):>20s}" for times in profiles.values()))


def cell(times, row, steps):
    total = sum(times.values())
    value = total if row == "total" else times.get(row, 0)
    return f"{value / steps / 1e3:7.0f} {value / total:6.1%}"


def print_machine(peaks):
    """The CPU's bfloat16/AMX flags, oneDNN, and the matmul peaks."""
    print(f"cpu: {precision.describe_cpu()}; oneDNN "
          f"{'on' if precision.onednn_enabled() else 'off'} "
          f"(TF_ENABLE_ONEDNN_OPTS), ONEDNN_MAX_CPU_ISA="
          f"{os.environ.get('ONEDNN_MAX_CPU_ISA', 'unset')}")
    print(f"matmul peak: float32 {peaks['float32']:.0f} GFLOP/s"
          + (f", bfloat16 {peaks['mixed_bfloat16']:.0f} GFLOP/s"
             if "mixed_bfloat16" in peaks else ""))


def print_ratios(rates, cpu, keys):
    """mixed_bfloat16 over float32, by wall time and by CPU time."""
    print("mixed_bfloat16 / float32 (tok/s by wall time, and by CPU time):")
    for policy, jit, name in keys:
        other = ("float32", jit, name)
        if policy == "mixed_bfloat16" and other in rates:
            key = (policy, jit, name)
            print(f"  xla {'on' if jit else 'off':3s} {name:24s} "
                  f"{rates[key] / rates[other]:6.3f} "
                  f"{cpu[other] / cpu[key]:6.3f}")


# --- the run -------------------------------------------------------------
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20,
                        help="Steps per timed window.")
    parser.add_argument("--windows", type=int, default=5,
                        help="Timed windows per configuration (median).")
    parser.add_argument("--warmup", type=int, default=8,
                        help="Untimed steps per configuration first.")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--sequence-length", type=int, default=128)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--hidden", type=int, default=256,
                        help="Width; heads = hidden / 64, FFN 4 x hidden.")
    parser.add_argument("--batches", type=int, default=16,
                        help="Distinct pre-masked batches, cached.")
    parser.add_argument("--xla", choices=("off", "on", "both"),
                        default="both")
    parser.add_argument("--mixed-precision", default="float32",
                        choices=("float32", "mixed_bfloat16", "both"))
    parser.add_argument("--models", default=",".join(MODELS),
                        help="Comma-separated subset of the model rows.")
    parser.add_argument("--quick", action="store_true",
                        help="Smoke run (~1-2 minutes on a quiet machine): "
                        "float32, no XLA, ours build_model vs keras-hub, 3 "
                        "windows of 5 steps.")
    parser.add_argument("--profile", metavar="DIR",
                        help="Also trace --steps steps of each non-XLA "
                        "configuration into DIR and print where time goes.")
    args = parser.parse_args(argv)
    if args.quick:
        args.steps, args.windows, args.warmup, args.batches = 5, 3, 3, 4
        args.xla, args.mixed_precision = "off", "float32"
        args.models = f"{next(iter(MODELS))},{REFERENCE}"
    if args.hidden % 64:
        parser.error("--hidden must be a multiple of 64 (heads of 64).")
    names = args.models.split(",")
    for name in names:
        if name not in MODELS:
            parser.error(f"Unknown model {name!r}; choose from {list(MODELS)}")

    load_before = os.getloadavg()
    started = time.perf_counter()
    policies = (["float32", "mixed_bfloat16"]
                if args.mixed_precision == "both" else [args.mixed_precision])
    xlas = {"off": [False], "on": [True], "both": [False, True]}[args.xla]
    peaks = {"float32": matmul_peak("float32")}
    if "mixed_bfloat16" in policies:
        peaks["mixed_bfloat16"] = matmul_peak("bfloat16")

    special = special_tokens()
    objective = MaskedLM(special, sequence_length=args.sequence_length,
                         seed=0)
    features = synthetic_features(args.batches * args.batch_size,
                                  args.sequence_length, special)
    ours_data, hub_data = premasked(objective, features, args.batch_size,
                                    args.batches)
    data = {"ours": ours_data, "hub": hub_data}

    # Build and warm every configuration, then time them in rotation.
    configs, flops, tokens = {}, None, args.batch_size * args.sequence_length
    for policy in policies:
        keras.mixed_precision.set_dtype_policy(policy)
        for jit in xlas:
            for name in names:
                build, feed, _ = MODELS[name]
                model = build(args, objective, jit)
                if flops is None and feed == "ours":
                    dims = ModelDims.from_backbone(model.backbone,
                                                   args.sequence_length)
                    flops = objective.accounting(
                        dims, args.batch_size)["flops_per_step"]
                model.fit(data[feed], epochs=1, steps_per_epoch=args.warmup,
                          verbose=0)
                configs[(policy, jit, name)] = (model, data[feed])
    keras.mixed_precision.set_dtype_policy("float32")
    if flops is None:  # Only the keras-hub row was asked for.
        m = run_config(args, False)["model"]
        dims = ModelDims.from_backbone(
            make_backbone("body", VOCABULARY_SIZE, **{
                k: v for k, v in m.items() if k != "backbone"}),
            args.sequence_length)
        flops = objective.accounting(dims, args.batch_size)["flops_per_step"]

    seconds = {key: [] for key in configs}
    cpu_seconds = {key: [] for key in configs}
    losses, loads = {}, []
    keys = list(configs)
    for window in range(args.windows):
        shift = window % len(keys)
        for key in keys[shift:] + keys[:shift]:
            model, dataset = configs[key]
            wall, cpu, losses[key] = fit_window(model, dataset, args.steps)
            seconds[key].append(wall)
            cpu_seconds[key].append(cpu)
            loads.append(os.getloadavg()[0])

    # --- the table -------------------------------------------------------
    print_machine(peaks)
    print(f"model: {args.layers} layers x {args.hidden} wide, "
          f"{args.hidden // 64} heads, FFN {4 * args.hidden}, "
          f"V={VOCABULARY_SIZE}, L={args.sequence_length}, "
          f"batch {args.batch_size} ({tokens} tokens/step); "
          f"{flops / 1e9:.1f} GFLOP/step (6N + attention + MLM head); "
          f"N={dims.non_embedding_params:,} non-embedding params")
    print(f"timing: median of {args.windows} windows x {args.steps} steps "
          f"after {args.warmup} warm-up steps, {len(keys)} configurations "
          f"in rotation; {time.perf_counter() - started:.0f} s in all")
    print(f"load (1-min average, {os.cpu_count()} CPUs): {load_before[0]:.2f}"
          f" at start; {min(loads):.2f}-{max(loads):.2f} while timing")
    print(f"{'precision':14s} {'xla':3s} {'model':24s} {'tok/s':>6s} "
          f"{'min-max':>11s} {'MFU':>6s} {'CPU s/step':>10s} {'loss':>6s}")
    rates, cpu = {}, {}
    for key in keys:
        policy, jit, name = key
        rates[key] = tokens / statistics.median(seconds[key])
        cpu[key] = statistics.median(cpu_seconds[key])
        low, high = tokens / max(seconds[key]), tokens / min(seconds[key])
        mfu = rates[key] * flops / tokens / (peaks["float32"] * 1e9)
        print(f"{policy:14s} {'on' if jit else 'off':3s} {name:24s} "
              f"{rates[key]:6.0f} {low:5.0f}-{high:<5.0f} {mfu:6.1%} "
              f"{cpu[key]:10.3f} {losses[key]:6.3f}")
    if REFERENCE in names:
        print("overhead vs the keras-hub loop: hub tok/s / ours, "
              "ours tok/s / hub, ours CPU s/step / hub")
        for key in keys:
            policy, jit, name = key
            ref = (policy, jit, REFERENCE)
            if name != REFERENCE:
                print(f"  {policy:14s} xla {'on' if jit else 'off':3s} "
                      f"{name:24s} {rates[ref] / rates[key]:6.3f} "
                      f"{rates[key] / rates[ref]:6.3f} "
                      f"{cpu[key] / cpu[ref]:6.3f}")
    print_ratios(rates, cpu, keys)
    print(f"load (/proc/loadavg) at the end: {os.getloadavg()}")
    if args.profile:  # XLA clusters are opaque to framework op stats.
        print_profiles({
            key: op_profile(model, dataset, args.steps,
                            os.path.join(args.profile, f"{i}"))
            for i, (key, (model, dataset)) in enumerate(configs.items())
            if not key[1]
        }, args.steps)


if __name__ == "__main__":
    main()
