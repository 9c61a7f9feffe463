"""Under mixed_bfloat16 the matmuls run in bfloat16; softmax, loss and
optimizer state stay float32; float32 graphs hold no bfloat16 at all."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_objectives import config as config_lib
from keras_objectives import objectives
from keras_objectives import precision
from keras_objectives.data.special_tokens import SpecialTokens
from keras_objectives.data.special_tokens import reserved_tokens
from keras_objectives.training import build_model
from keras_objectives.training import model_inputs

MATMULS = ("MatMul", "BatchMatMulV2", "BatchMatMulV3", "Einsum")


@pytest.fixture
def policy():
    """Restore the global dtype policy after the test."""
    before = keras.mixed_precision.dtype_policy()
    yield keras.mixed_precision.set_dtype_policy
    keras.mixed_precision.set_dtype_policy(before)


def tiny_mlm(mixed_precision):
    special = SpecialTokens.from_vocabulary(
        reserved_tokens() + [f"w{i}" for i in range(60)])
    objective = objectives.get("masked_lm", special_tokens=special,
                               sequence_length=16, seed=0)
    config = config_lib.base_config()
    config["sequence_length"] = 16
    config["model"].update(num_layers=1, num_heads=2, hidden_dim=16,
                           intermediate_dim=32, max_sequence_length=16)
    config["training"].update(mixed_precision=mixed_precision, steps=4)
    model = build_model(config, objective, special.vocabulary_size)
    ids = np.random.default_rng(0).integers(
        max(special.special_ids) + 1, special.vocabulary_size, (4, 16))
    batch = model_inputs(objective)(
        {"token_ids": tf.constant(ids, "int32")})
    return model, batch


def step_graph(model, batch):
    """The graph of one forward, loss and backward pass."""
    x, y, w = batch

    @tf.function
    def step(x, y, w):
        with tf.GradientTape() as tape:
            y_pred = model(x, training=True)
            loss = model.compute_loss(x, y, y_pred, w)
        return loss, tape.gradient(loss, model.trainable_variables)

    return step.get_concrete_function(x, y, w).graph


def dtypes_of(graph, op_types):
    return [op.get_attr("T") for op in graph.get_operations()
            if op.type in op_types]


def test_mixed_bfloat16_dtypes(policy):
    policy("mixed_bfloat16")
    model, batch = tiny_mlm("mixed_bfloat16")
    graph = step_graph(model, batch)
    matmuls = dtypes_of(graph, MATMULS)
    # q/k/v/o, scores and values, the FFN, the head's dense and its tied
    # vocabulary projection (which Keras' Embedding would leave float32),
    # forward and backward: all bfloat16.
    assert len(matmuls) > 20
    assert set(matmuls) == {tf.bfloat16}
    assert set(dtypes_of(graph, ("Softmax",))) == {tf.float32}
    # The loss (fused softmax cross-entropy, or log-softmax under op
    # determinism) reads float32 logits and computes in float32.
    loss = {op.get_attr("T") for op in graph.get_operations()
            if "compile_loss" in op.name and "T" in op.node_def.attr
            and op.get_attr("T").is_floating}
    assert loss == {tf.float32}
    # The exact GELU runs in float32 between two bfloat16 matmuls.
    assert set(dtypes_of(graph, ("Erfc",))) == {tf.float32}
    model.fit(tf.data.Dataset.from_tensors(batch).repeat(), epochs=1,
              steps_per_epoch=1, verbose=0)
    assert {v.dtype for v in model.optimizer.variables} == {"float32",
                                                            "int64"}
    assert {v.dtype for v in model.trainable_variables} == {"float32"}


def test_float32_graph_has_no_bfloat16(policy):
    policy("float32")
    model, batch = tiny_mlm(None)
    graph = step_graph(model, batch)
    assert set(dtypes_of(graph, MATMULS)) == {tf.float32}
    casts = [op for op in graph.get_operations() if op.type == "Cast"
             and tf.bfloat16 in (op.get_attr("SrcT"), op.get_attr("DstT"))]
    assert not casts


@pytest.mark.parametrize("jit, mixed, steps, flags, replicas, expected", [
    ("auto", None, 100, {"amx_bf16"}, 1, False),  # short run
    ("auto", "mixed_bfloat16", 10**5, {"amx_bf16"}, 1, False),
    ("auto", "mixed_bfloat16", 10**5, {"avx2"}, 1, True),
    ("auto", None, 10**5, {"avx2"}, 2, False),  # mirrored
    (False, "mixed_bfloat16", 10**5, {"avx2"}, 1, False),
    (True, None, 10, {"avx2"}, 1, True),
])
def test_resolve_jit_compile(jit, mixed, steps, flags, replicas, expected):
    assert precision.resolve_jit_compile(
        jit, mixed, steps, replicas=replicas, flags=flags) is expected


def test_describe_cpu_says_when_bf16_is_emulated():
    assert "emulated" in precision.describe_cpu({"avx2", "fma"})
    assert "float32" in precision.describe_cpu({"avx2", "fma"})
    assert precision.describe_cpu({"avx512_bf16"}).startswith(
        "bfloat16 hardware")
