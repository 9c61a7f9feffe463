"""What a comparison computes once: token ids (cached by content and
vocabulary), traced functions (one per body shape) and features (one
pass per checkpoint); and the equalities that make reuse safe."""

import os

import keras
import keras_hub
import numpy as np
import pytest

from keras_objectives.evaluation import common
from keras_objectives.evaluation import reuse
from keras_objectives.evaluation import shared_model as shared_lib
from keras_objectives.evaluation.tasks import load_classification
from tests.evaluation.test_common import VOCABULARY
from tests.evaluation.test_common import Stub
from tests.evaluation.test_common import tiny_body
from tests.evaluation.test_common import toy_corpus


@pytest.fixture
def counted(monkeypatch):
    """Count the real tokenizer calls; start with an empty memory."""
    calls = []
    real = common.tokenize

    def tokenize(tokenizer, texts):
        calls.append(list(texts))
        return real(tokenizer, texts)

    monkeypatch.setattr(common, "tokenize", tokenize)
    monkeypatch.setattr(reuse, "_ROWS", {})
    return calls


def _files(root):
    folder = os.path.join(root, "tokens")
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


def test_token_ids_are_cached_by_content_and_vocabulary(tmp_path, counted):
    tokenizer = toy_corpus().tokenizer
    texts = ["the cat sat", "the dog ran to the house"]
    expected = common.tokenize(tokenizer, texts)
    counted.clear()
    first = reuse.tokenize_cached(tokenizer, texts, cache_dir=str(tmp_path))
    assert first == expected and len(counted) == 1
    assert len(_files(tmp_path)) == 1
    # A hit in memory, then (memory cleared) on disk: no tokenizer call.
    assert reuse.tokenize_cached(tokenizer, texts, str(tmp_path)) == first
    reuse._ROWS.clear()
    assert reuse.tokenize_cached(tokenizer, texts, str(tmp_path)) == first
    assert len(counted) == 1
    # Other texts, or the same texts with another vocabulary: new entries.
    reuse.tokenize_cached(tokenizer, texts[:1] + ["the bird"], str(tmp_path))
    other = keras_hub.tokenizers.WordPieceTokenizer(
        vocabulary=VOCABULARY + ["cats"], lowercase=True, oov_token="[UNK]")
    reuse.tokenize_cached(other, texts, str(tmp_path))
    assert len(counted) == 3 and len(_files(tmp_path)) == 3


def test_a_changed_task_file_is_tokenized_again(tmp_path, monkeypatch,
                                                counted):
    monkeypatch.setenv("KERAS_OBJECTIVES_CACHE", str(tmp_path / "cache"))
    path = tmp_path / "task" / "train.txt"
    path.parent.mkdir()
    dev = tmp_path / "task" / "dev.txt"
    dev.write_text("a the cat\nb the dog\n")
    corpus = toy_corpus()

    def encoded(lines):
        path.write_text("\n".join(lines) + "\n")
        task = load_classification(str(path), str(dev))
        texts = [t for split in task.splits.values() for t in split[0]]
        return texts, common.encode(corpus, texts, 8)[0]

    lines = ["a the cat sat", "b the dog ran", "a the old man",
             "b she walked"]
    texts, ids = encoded(lines)
    assert encoded(lines)[1].tolist() == ids.tolist()
    assert len(counted) == 1
    texts, changed = encoded(lines[:3] + ["b we saw a bird"])
    assert len(counted) == 2 and len(_files(tmp_path / "cache")) == 2
    assert changed.tolist() != ids.tolist()
    assert changed.tolist() == [
        [3] + row + [3] + [0] * (6 - len(row)) for row in
        common.tokenize(corpus.tokenizer, texts)]


def test_batched_extraction_equals_unbatched():
    body = tiny_body("bidirectional", length=16)
    objective = Stub("masked_lm", "bidirectional")
    rng = np.random.default_rng(0)
    token_ids = rng.integers(110, len(VOCABULARY), (9, 12))
    mask = np.arange(12)[None, :] < rng.integers(3, 13, 9)[:, None]
    one = common.mean_pooled_features(body, objective, token_ids, mask, 1)
    for batch_size in (4, 64):
        np.testing.assert_allclose(common.mean_pooled_features(
            body, objective, token_ids, mask, batch_size), one, atol=1e-6)


def test_one_trace_per_body_shape_gives_each_model_its_own_numbers(
        monkeypatch):
    monkeypatch.setattr(shared_lib, "_TEMPLATES", type(
        shared_lib._TEMPLATES)())
    objective = Stub("masked_lm", "bidirectional")
    token_ids = np.array([[2, 111, 112, 113, 3, 0]] * 3)
    mask = token_ids > 0

    def features(model):
        return common.mean_pooled_features(model, objective, token_ids,
                                           mask)

    first, second = tiny_body(seed=0), tiny_body(seed=1)
    expected = features(second)  # Its own trace.
    assert shared_lib.shared_model(first, objective) is first
    features(first)
    traced = common._CACHE[first][("states", "bidirectional")]
    template = shared_lib.shared_model(second, objective)
    assert template is first
    np.testing.assert_array_equal(features(template), expected)
    assert common._CACHE[first][("states", "bidirectional")] is traced
    # Another shape, or a Lambda layer (any Python), is never shared.
    wider = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4)])
    assert shared_lib.shared_model(wider) is wider
    x = keras.Input((3,))
    with_lambda = keras.Model(x, keras.layers.Lambda(lambda t: t + 1)(x))
    assert shared_lib.architecture_key(with_lambda) is None


def test_features_are_computed_once_per_checkpoint(monkeypatch):
    calls = []
    real = common._mean_pooled

    def pooled(*args):
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(common, "_mean_pooled", pooled)
    body = tiny_body("causal", length=8)
    objective = Stub("causal_lm", "causal")
    token_ids = np.array([[2, 111, 112, 3]])
    mask = token_ids > 0
    with reuse.shared_features():
        a = common.mean_pooled_features(body, objective, token_ids, mask)
        b = common.mean_pooled_features(body, objective, token_ids, mask)
        common.mean_pooled_features(body, objective, token_ids + 1, mask)
    assert a is b and len(calls) == 2
    # Outside a checkpoint's evaluations, always read afresh.
    common.mean_pooled_features(body, objective, token_ids, mask)
    common.mean_pooled_features(body, objective, token_ids, mask)
    assert len(calls) == 4


@pytest.mark.parametrize("n, d, k", [(540, 64, 17), (9000, 64, 4)])
def test_the_probe_fit_is_the_same_as_with_threaded_logits(monkeypatch, n,
                                                           d, k):
    import contextlib

    from keras_objectives.evaluation import logistic_regression as lr

    rng = np.random.default_rng(n)
    y = rng.integers(0, k, n)
    x = rng.normal(size=(n, d)) + 0.3 * np.eye(k, d)[y]

    def fit():
        probe = lr.LogisticRegression(max_iterations=40, seed=1,
                                      class_weight="balanced")
        return probe.fit(x, y, num_classes=k).coef_

    ours = fit()
    monkeypatch.setattr(lr, "one_blas_thread", contextlib.nullcontext)
    monkeypatch.setattr(lr, "_row_max",
                        lambda z: z.max(1, keepdims=True))
    np.testing.assert_array_equal(ours, fit())
