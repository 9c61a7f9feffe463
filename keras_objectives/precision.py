"""Which precision and XLA setting the CPU runs fastest, from its flags.

`train` reads `training.mixed_precision` and `training.jit_compile`. The
second may be `"auto"`: it resolves here, per precision and hardware, from
the measurements in docs/performance.md (4 x 256 MLM body, 2 cores):

* float32: XLA on (it fuses the element-wise ops around the matmuls:
  +16% tokens/s on an AMX Xeon, +40% on an AVX2 EPYC);
* mixed_bfloat16 on a CPU with bfloat16 hardware (AVX512-BF16 or AMX):
  XLA off. XLA's CPU backend does not emit AMX kernels for bfloat16
  dots, while TensorFlow's oneDNN kernels do (2x XLA's tokens/s);
* mixed_bfloat16 on a CPU without it: bfloat16 is emulated, and XLA is
  twice as fast as the emulated kernels, so XLA on;
* short runs (fewer than `XLA_MIN_STEPS` steps) never compile: tracing
  and compiling a train step takes 15-60 CPU-seconds, more than a short
  run saves;
* several replicas: off (Keras 3 cannot XLA-compile a step that spans
  local devices, and multi-worker XLA is untested here); TPUs: on.
"""

import os

# bfloat16 arithmetic in hardware, as /proc/cpuinfo names it (x86).
BF16_FLAGS = ("avx512_bf16", "amx_bf16")
# Below this many steps, compiling costs more than XLA saves.
XLA_MIN_STEPS = 2000


def cpu_flags(path="/proc/cpuinfo"):
    """The set of CPU feature flags (empty where /proc/cpuinfo is absent).

    >>> isinstance(cpu_flags(), frozenset)
    True
    """
    try:
        with open(path) as f:
            for line in f:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def bf16_hardware(flags=None):
    """The CPU's bfloat16 flags, sorted; empty when bfloat16 is emulated.

    >>> bf16_hardware({"avx2", "amx_bf16", "avx512_bf16"})
    ['amx_bf16', 'avx512_bf16']
    >>> bf16_hardware({"avx2", "fma"})
    []
    """
    flags = cpu_flags() if flags is None else flags
    return sorted(set(BF16_FLAGS) & set(flags))


def describe_cpu(flags=None):
    """One line naming the CPU's bfloat16/AMX flags, or saying it emulates.

    >>> describe_cpu({"avx512f", "amx_tile", "amx_bf16", "avx512_bf16"})
    'bfloat16 hardware: avx512_bf16, amx_bf16, amx_tile'
    >>> describe_cpu({"avx2", "fma"})[:40]
    'no bfloat16 hardware (no avx512_bf16 or '
    """
    flags = cpu_flags() if flags is None else set(flags)
    found = [f for f in (*BF16_FLAGS, "amx_tile") if f in flags]
    if bf16_hardware(flags):
        return "bfloat16 hardware: " + ", ".join(found)
    return ("no bfloat16 hardware (no avx512_bf16 or amx_bf16 flag): "
            "mixed_bfloat16 is emulated and slower than float32, which "
            "stays the default")


def resolve_jit_compile(jit_compile, mixed_precision, steps,
                        replicas=1, tpu=False, flags=None):
    """`training.jit_compile` as a bool; `"auto"` picks per precision.

    Args:
        jit_compile: `True`, `False` or `"auto"`.
        mixed_precision: the run's policy (`None` is float32).
        steps: the run's training steps.
        replicas: replicas in sync (`auto` compiles only one; Keras 3
            cannot compile a step over several local devices).
        tpu: whether the strategy is a `TPUStrategy`.
        flags: CPU flags (default: this machine's).

    >>> amx = {"amx_bf16", "avx512_bf16"}
    >>> resolve_jit_compile("auto", None, 10_000, flags=amx)
    True
    >>> resolve_jit_compile("auto", "mixed_bfloat16", 10_000, flags=amx)
    False
    >>> resolve_jit_compile("auto", "mixed_bfloat16", 10_000, flags={"avx2"})
    True
    >>> resolve_jit_compile("auto", None, 100, flags=amx)
    False
    >>> resolve_jit_compile(True, "mixed_bfloat16", 100, flags=amx)
    True
    """
    if jit_compile != "auto":
        return bool(jit_compile)
    if tpu:
        return True
    if replicas > 1 or steps < XLA_MIN_STEPS:
        return False
    if mixed_precision == "mixed_bfloat16":
        return not bf16_hardware(flags)
    return True


def onednn_enabled():
    """Whether TensorFlow's oneDNN kernels are on (its default on x86).

    >>> isinstance(onednn_enabled(), bool)
    True
    """
    value = os.environ.get("TF_ENABLE_ONEDNN_OPTS", "1").strip().lower()
    return value not in ("0", "false")
