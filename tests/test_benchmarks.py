"""The benchmarks' machine description, and a smoke run of the masking one.

Benchmarks are not tests (their timings vary with load); these check that
they run and describe the machine they ran on, never how fast they are.
"""

import os
import subprocess
import sys

import pytest

BENCHMARKS = os.path.join(os.path.dirname(__file__), "..", "benchmarks")
sys.path.insert(0, BENCHMARKS)

import machine  # noqa: E402 (benchmarks/)

from keras_objectives import precision  # noqa: E402

CPUINFO = """processor\t: 0
model name\t: Example CPU @ 2.0GHz
flags\t\t: fpu sse avx2 fma avx512f avx512_bf16 amx_tile amx_bf16
processor\t: 1
model name\t: Example CPU @ 2.0GHz
flags\t\t: fpu sse avx2 fma avx512f avx512_bf16 amx_tile amx_bf16
"""


def test_cpu_model_and_flags_from_cpuinfo(tmp_path):
    path = tmp_path / "cpuinfo"
    path.write_text(CPUINFO)
    assert machine.cpu_model(str(path)) == "Example CPU @ 2.0GHz"
    flags = precision.cpu_flags(str(path))
    assert {"avx2", "avx512_bf16", "amx_bf16"} <= flags
    assert precision.bf16_hardware(flags) == ["amx_bf16", "avx512_bf16"]
    assert machine.cpu_model(str(tmp_path / "missing")) == "unknown CPU"


def test_describe_names_flags_bf16_and_load_without_timing():
    lines = machine.describe(peak=False)
    assert lines[0].startswith("cpu: ") and "flags:" in lines[0]
    assert lines[-1].startswith("load average: ")
    emulated = any(line.startswith("no bfloat16 hardware") for line in lines)
    assert emulated == (not precision.bf16_hardware())
    assert not any(line.startswith("matmul peak") for line in lines)


@pytest.mark.large
def test_masking_benchmark_runs_and_prints_ratios():
    result = subprocess.run(
        [sys.executable, os.path.join(BENCHMARKS, "masking.py"), "--rows",
         "2048", "--runs", "2", "--repeats", "1"],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "KERAS_BACKEND": "tensorflow"})
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert "keras-hub MaskedLMMaskGenerator" in out
    assert "1.00x [1.00-1.00]" in out  # the reference row, every run
    for row in ("ours prob_round (default)", "ours whole_word",
                "ours Chinese n-gram 1-4 words", "ours SpanMasker (words)"):
        assert row in out
    assert "matmul peak: float32" in out and "cpu: " in out
