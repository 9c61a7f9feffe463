"""Every registered objective runs under XLA (`jit_compile=True`).

Each case goes through the code path of `keras_objectives.training`: the
objective from `build_objective` (vocabulary bound), the model from
`build_model` (compiled with `training.jit_compile=True`), the stream from
`data.make_dataset` with `model_inputs(objective)` as its transform.

* The pipeline: the stream has static shapes and no strings, and the
  transform compiled with XLA gives exactly the stream's batch.
* The model: three `fit` steps run the XLA-compiled train step and give a
  finite loss (for prefix LM, equal to the TF executor's).

XLA compiles a train step in 15-60 CPU-seconds, so by default the fit test
runs once per distinct model graph (causal, bidirectional with the MLM head,
prefix, T5); the other cases (same graphs on other data, ELECTRA, BART),
the transforms of the two mixtures (15-20 CPU-seconds each) and the
`mixed_bfloat16` runs of the TPU recipes' objectives are `large`:
`pytest -m ""` runs them all.
"""

import inspect
import types

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_objectives import config as config_lib
from keras_objectives import data
from keras_objectives import objectives
from keras_objectives import training
from keras_objectives.data.special_tokens import SpecialTokens
from tests.test_case import packed_features
from tests.test_case import tiny_vocabulary

VOCAB = 200
LENGTH = 32
BATCH = 4
STEPS = 3


def _vocabulary():
    # One word becomes "." so BART's sentence permutation has sentences.
    vocabulary = tiny_vocabulary(VOCAB)
    vocabulary[150] = "."
    return vocabulary


@pytest.fixture(autouse=True)
def _without_op_determinism():
    # Op determinism is process-wide (a deterministic `train` earlier in the
    # suite turns it on), and Keras silently drops XLA under it.
    from tensorflow.python.framework import config as tf_config

    before = tf_config.is_op_determinism_enabled()
    training.set_op_determinism(False)
    yield
    training.set_op_determinism(before)


# The stand-in for `data.prepare_corpus`: all `build_objective` reads.
CORPUS = types.SimpleNamespace(
    vocabulary=_vocabulary(),
    special_tokens=SpecialTokens.from_vocabulary(_vocabulary()),
)


def _name(identifier):
    return identifier if isinstance(identifier, str) else (
        identifier["class_name"])


# Fit under XLA by default: one case per distinct model graph.
FIT_BY_DEFAULT = ("causal_lm", "masked_lm", "prefix_lm",
                  "span_corruption_encoder_decoder")


def package_objectives():
    """The registry's objectives defined in the package (test modules
    register their own)."""
    return {name: objectives.get_class(name) for name in objectives.names()
            if objectives.get_class(name).__module__.startswith(
                "keras_objectives.")}


def is_mixture(cls):
    return issubclass(cls, objectives.Mixture)


def mixture_members():
    """Every objective a mixture can hold: one decoder body, the compiled
    loss (no joint loss of its own), not itself a mixture."""
    return [name for name, cls in sorted(package_objectives().items())
            if not is_mixture(cls)
            and cls.compute_loss is objectives.Objective.compute_loss]


def cases():
    """id -> (identifier, backbone): every registered objective, and the
    encoder-decoder form of every objective that has one (on its own
    `encoder_decoder_backbone`)."""
    out = {}
    for name, cls in package_objectives().items():
        out[name] = (name, "body")
        backbone = getattr(cls, "encoder_decoder_backbone", None)
        if backbone:
            out[f"{name}_encoder_decoder"] = (
                {"class_name": name, "config": {"form": "encoder_decoder"}},
                backbone)
    # The general mixture holds every member, with UL2 mode tokens on some.
    members = mixture_members()
    modes = [None, "[NLU]", None, "[S2S]", "[NLG]"]
    out["mixture"] = ({"class_name": "mixture", "config": {
        "members": members,
        "mode_tokens": [modes[i % len(modes)] for i in range(len(members))],
    }}, "body")
    return out


CASES = cases()
# Transforms that take XLA 15-20 CPU-seconds to compile (many members).
LARGE_PIPELINES = tuple(
    case for case, (identifier, _) in CASES.items()
    if is_mixture(objectives.get_class(_name(identifier))))


def tiny_config(identifier, backbone, jit_compile=True):
    """`base_config()` at the tiny size, shrunk further to compile fast."""
    config = config_lib.set_model_size(config_lib.base_config(), "tiny")
    config["objective"] = identifier
    config["sequence_length"] = LENGTH
    config["model"].update(backbone=backbone, num_layers=1, num_heads=2,
                           hidden_dim=32, intermediate_dim=64,
                           max_sequence_length=2 * LENGTH)
    config["training"].update(global_batch_size=BATCH, steps=STEPS,
                              warmup_steps=1, jit_compile=jit_compile)
    return config_lib.validate(config)


def packed_rows(raw_length, rows=3 * BATCH):
    """Packed rows as `corpus.pack` gives them: two documents, padding."""
    features = packed_features(batch=rows, length=raw_length,
                               vocabulary_size=VOCAB, seed=1)
    token_ids = features["token_ids"].numpy()
    token_ids[:, raw_length // 2] = 3  # A [SEP] ends a first document.
    eos = (token_ids == 3).astype("int32")
    # Document index: the number of [SEP] strictly before a position.
    document_ids = np.cumsum(eos, axis=1) - eos
    return {
        "token_ids": token_ids,
        "padding_mask": features["padding_mask"].numpy(),
        "document_ids": document_ids.astype("int32"),
    }


def build(config):
    """Objective, compiled model and training stream, as `train` builds them."""
    keras.utils.set_random_seed(config["seed"])
    if config["training"]["mixed_precision"]:
        keras.mixed_precision.set_dtype_policy(
            config["training"]["mixed_precision"])
    objective = training.build_objective(config, CORPUS)
    model = training.build_model(config, objective, len(CORPUS.vocabulary))
    return objective, model, stream(config, objective)


def stream(config, objective, transform=True):
    """The training stream of `train`, over synthetic packed rows."""
    return data.make_dataset(
        packed_rows(objective.raw_length), BATCH, seed=config["seed"],
        transform=training.model_inputs(objective) if transform else None,
    )


def xla_train_step(model):
    """The `tf.function(jit_compile=True)` step inside `model.train_function`.

    Keras' TensorFlow trainer wraps `one_step_on_data` (the jit-compiled
    function) in `_autoconvert_optionals`; both are closures.
    """
    step = inspect.getclosurevars(model.train_function).nonlocals
    wrapper = step["one_step_on_data"]
    return inspect.getclosurevars(wrapper).nonlocals["step_func"]


def must_compile_calls(model):
    """`_XlaMustCompile` of the calls in the traced multi-step graph."""
    outer = inspect.getclosurevars(model.train_function).nonlocals[
        "multi_step_on_iterator"]
    flags = []
    for function in outer._list_all_concrete_functions():
        for op in function.graph.get_operations():
            if op.type in ("StatefulPartitionedCall", "PartitionedCall"):
                try:
                    flags.append(op.get_attr("_XlaMustCompile"))
                except ValueError:
                    flags.append(False)
    return flags


def _params(cases, large):
    return [pytest.param(c, marks=pytest.mark.large) if c in large else c
            for c in sorted(cases)]


def _assert_equal(a, b):
    tf.nest.assert_same_structure(a, b)
    for x, y in zip(tf.nest.flatten(a), tf.nest.flatten(b), strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def test_cases_follow_the_registry():
    registered = package_objectives()
    assert {_name(i) for i, _ in CASES.values()} == set(registered)
    forms = {c for c in CASES if c.endswith("_encoder_decoder")}
    assert forms == {f"{n}_encoder_decoder" for n, cls in registered.items()
                     if getattr(cls, "encoder_decoder_backbone", None)}
    # Each member of the general mixture is an objective of its own.
    members = CASES["mixture"][0]["config"]["members"]
    assert set(members) < set(registered) and len(members) >= 8
    assert set(FIT_BY_DEFAULT) <= set(CASES)


@pytest.mark.parametrize("case", sorted(CASES))
def test_stream_is_static_and_string_free(case):
    identifier, backbone = CASES[case]
    config = tiny_config(identifier, backbone)
    dataset = stream(config, training.build_objective(config, CORPUS))
    for spec in tf.nest.flatten(dataset.element_spec):
        assert spec.shape.is_fully_defined(), (case, spec)
        assert spec.dtype != tf.string, (case, spec)
        assert spec.dtype != tf.bool, (case, spec)  # Masks travel as int32.


@pytest.mark.parametrize("case", _params(CASES, LARGE_PIPELINES))
def test_transform_compiles_with_xla(case):
    # The transform compiled with XLA gives exactly the stream's batch.
    identifier, backbone = CASES[case]
    config = tiny_config(identifier, backbone)
    objective = training.build_objective(config, CORPUS)
    features = next(iter(stream(config, objective, transform=False)))
    compiled = tf.function(training.model_inputs(objective), jit_compile=True)
    _assert_equal(compiled(features), next(iter(stream(config, objective))))


# case -> (model, fit history) of the XLA run, for the comparison below.
_FITS = {}


def fit(case, jit_compile=True):
    """Three `fit` steps of the case's tiny model, as `train` runs them."""
    key = (case, jit_compile)
    if key not in _FITS:
        identifier, backbone = CASES[case]
        _, model, dataset = build(
            tiny_config(identifier, backbone, jit_compile=jit_compile))
        assert model.jit_compile is jit_compile
        history = model.fit(dataset, steps_per_epoch=STEPS, epochs=1,
                            verbose=0, shuffle=False)
        _FITS[key] = model, history.history
    return _FITS[key]


@pytest.mark.parametrize(
    "case", _params(CASES, set(CASES) - set(FIT_BY_DEFAULT)))
def test_objective_trains_under_xla(case):
    model, history = fit(case)
    assert model.objective.name == _name(CASES[case][0])
    assert np.all(np.isfinite(history["loss"])), (case, history)
    # The XLA step was traced (and so ran), and the graph that ran calls it
    # with `_XlaMustCompile`: no silent fallback to the TF executor.
    step = xla_train_step(model)
    assert step._jit_compile is True
    assert step.experimental_get_tracing_count() >= 1
    assert any(must_compile_calls(model)), case


def test_xla_loss_matches_the_tf_executor():
    # Same seed, same initial weights, same batches: the same mean loss
    # over the three steps, to float32 rounding.
    _, xla = fit("prefix_lm")
    _, executor = fit("prefix_lm", jit_compile=False)
    np.testing.assert_allclose(xla["loss"], executor["loss"], rtol=1e-4)
    np.testing.assert_allclose(xla["accuracy"], executor["accuracy"],
                               rtol=1e-4)


@pytest.mark.large
@pytest.mark.parametrize(
    "case", ["causal_lm", "masked_lm", "span_corruption_encoder_decoder"])
def test_mixed_bfloat16_under_xla(case):
    # The objectives of recipes/tpu/, with their bfloat16 policy.
    identifier, backbone = CASES[case]
    config = tiny_config(identifier, backbone)
    config["training"]["mixed_precision"] = "mixed_bfloat16"
    policy = keras.mixed_precision.dtype_policy()
    try:
        _, model, dataset = build(config)
        assert model.backbone.compute_dtype == "bfloat16"
        history = model.fit(dataset, steps_per_epoch=STEPS, epochs=1,
                            verbose=0, shuffle=False)
    finally:
        keras.mixed_precision.set_dtype_policy(policy)
    assert np.all(np.isfinite(history.history["loss"])), history.history
    assert any(must_compile_calls(model)), case
