"""What machine a benchmark ran on: CPU model, the flags that matter, peak.

Every benchmark prints `describe()` beside its figures, because machines
differ from session to session (AVX2 only, AVX-512, bfloat16 and AMX or
not) and only ratios measured in one run compare. The matmul peak is the
best GFLOP/s of chained square `tf.linalg.matmul`s in this process.
"""

import math
import os
import time

import tensorflow as tf

from keras_objectives import precision

# The instruction-set flags that change what TensorFlow's CPU kernels do.
FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16",
         "avx512_fp16", "amx_tile", "amx_bf16", "amx_int8")


def cpu_model(path="/proc/cpuinfo"):
    """The first CPU's model name ("unknown CPU" where it cannot be read)."""
    try:
        with open(path) as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name":
                    return value.strip()
    except OSError:
        pass
    return "unknown CPU"


def matmul_peak(dtype="float32", sizes=(1024, 2048, 3072), calls=5):
    """Best GFLOP/s of chained square matmuls of `dtype`."""
    best = 0.0
    for n in sizes:
        chain = max(1, round(2e10 / (2 * n**3)))  # ~20 GFLOP per call
        a = tf.random.normal((n, n), dtype="float32")
        b = tf.random.normal((n, n), dtype="float32") / math.sqrt(n)
        a, b = tf.cast(a, dtype), tf.cast(b, dtype)

        @tf.function
        def run(x, b=b, chain=chain):
            for _ in range(chain):  # Each product feeds the next: no CSE.
                x = tf.linalg.matmul(x, b)
            return tf.reduce_sum(x[:1, :1])

        run(a).numpy()
        for _ in range(calls):
            start = time.perf_counter()
            run(a).numpy()
            seconds = time.perf_counter() - start
            best = max(best, 2 * n**3 * chain / seconds / 1e9)
    return best


def describe(peak=True):
    """Lines naming the CPU, its relevant flags, bfloat16, load and peak."""
    flags = precision.cpu_flags()
    present = [f for f in FLAGS if f in flags] or ["none of " + ", ".join(
        FLAGS)]
    lines = [f"cpu: {cpu_model()}, {os.cpu_count()} logical cores; flags: "
             + " ".join(present), precision.describe_cpu(flags)]
    if peak:
        gflops = matmul_peak(sizes=(1024, 2048), calls=3)
        lines.append(f"matmul peak: float32 {gflops:.0f} GFLOP/s")
    lines.append("load average: " + " ".join(
        f"{x:.2f}" for x in os.getloadavg()))
    return lines
