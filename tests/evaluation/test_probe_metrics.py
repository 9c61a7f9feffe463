import numpy as np
import pytest

from keras_objectives.evaluation import LogisticRegression
from keras_objectives.evaluation import accuracy
from keras_objectives.evaluation import bio_chunks
from keras_objectives.evaluation import chunk_f1
from keras_objectives.evaluation import macro_f1
from keras_objectives.evaluation import summarize_seeds


def _separable(n, seed, classes=3, dims=10):
    rng = np.random.default_rng(seed)
    w = np.random.default_rng(99).normal(size=(dims, classes))
    x = rng.normal(size=(n, dims)) * 3.0 + 5.0  # Off-centre, scaled.
    return x, np.argmax(x @ w - (5.0 * w).sum(0), 1)


def test_probe_recovers_a_linearly_separable_task():
    x, y = _separable(600, seed=0)
    x_dev, y_dev = _separable(600, seed=1)
    probe = LogisticRegression(seed=0).fit(x, y)
    assert accuracy(y_dev, probe.predict(x_dev)) >= 0.95
    p = probe.predict_proba(x_dev)
    np.testing.assert_allclose(p.sum(1), 1.0, rtol=1e-9)


def test_probe_is_at_chance_on_shuffled_labels():
    x, y = _separable(600, seed=0)
    x_dev, y_dev = _separable(900, seed=1)
    # Labels shuffled in train and dev: independent of the features.
    shuffled = np.random.default_rng(5).permutation(y)
    shuffled_dev = np.random.default_rng(6).permutation(y_dev)
    probe = LogisticRegression(seed=0).fit(x, shuffled)
    chance = np.max(np.bincount(y_dev)) / len(y_dev)
    # 4 sigma of a binomial proportion at n=900 is below 0.07.
    assert accuracy(shuffled_dev, probe.predict(x_dev)) < chance + 0.07
    # The same probe on the true labels is far above chance.
    assert accuracy(y_dev, LogisticRegression().fit(x, y).predict(
        x_dev)) > chance + 0.3


def test_probe_solution_does_not_depend_on_the_seed():
    x, y = _separable(300, seed=2)
    a = LogisticRegression(seed=0).fit(x, y)
    b = LogisticRegression(seed=1).fit(x, y)
    np.testing.assert_allclose(a.decision_function(x),
                               b.decision_function(x), atol=1e-3)
    assert a.iterations_ < a.max_iterations


def test_probe_validates_inputs():
    with pytest.raises(ValueError, match="l2"):
        LogisticRegression(l2=-1.0)
    with pytest.raises(ValueError, match="int labels"):
        LogisticRegression().fit(np.zeros((2, 1)), [0, 3], num_classes=2)


def test_macro_f1_by_hand():
    # Class 0: P=1, R=1/2 -> 2/3. Class 1: P=2/3, R=1 -> 4/5.
    assert macro_f1([0, 0, 1, 1], [0, 1, 1, 1]) == pytest.approx(
        (2 / 3 + 4 / 5) / 2)
    assert accuracy([1, 2], [1, 1]) == 0.5


def test_chunks_follow_conlleval():
    assert bio_chunks(["B-NP", "I-NP", "B-VP", "O", "B-PP"]) == [
        ("NP", 0, 2), ("VP", 2, 3), ("PP", 4, 5)]
    # An I- tag after O or after another type starts a chunk.
    assert bio_chunks(["O", "I-NP", "I-NP", "I-VP"]) == [
        ("NP", 1, 3), ("VP", 3, 4)]
    assert bio_chunks(["S-NP", "B-NP", "E-NP", "O"]) == [
        ("NP", 0, 1), ("NP", 1, 3)]
    assert bio_chunks(["O", "O"]) == []


def test_chunk_f1_by_hand():
    truth = [["B-NP", "I-NP", "B-VP", "B-NP"], ["B-PP", "B-NP"]]
    guess = [["B-NP", "I-NP", "B-VP", "I-VP"], ["B-PP", "O"]]
    # Gold chunks: NP VP NP | PP NP (5). Predicted: NP VP(2..4) | PP (3).
    # Correct: NP(0,2), PP(0,1) -> P = 2/3, R = 2/5, F1 = 1/2.
    result = chunk_f1(truth, guess)
    assert (result["true"], result["predicted"], result["correct"]) == (
        5, 3, 2)
    assert result["precision"] == pytest.approx(2 / 3)
    assert result["recall"] == pytest.approx(2 / 5)
    assert result["f1"] == pytest.approx(0.5)
    assert chunk_f1(truth, truth)["f1"] == 1.0
    assert chunk_f1([["O"]], [["O"]])["f1"] == 0.0


def test_seed_summary_uses_the_sample_sd():
    runs = [{"a": 0.5, "b": None}, {"a": 0.7, "b": None},
            {"a": 0.9, "b": None}]
    out = summarize_seeds(runs, ["a", "b"])
    assert out["a"] == pytest.approx(0.7)
    assert out["a_sd"] == pytest.approx(0.2)
    assert out["b"] is None
