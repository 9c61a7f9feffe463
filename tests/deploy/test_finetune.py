"""`finetune` and `predict`: outputs, serving parity, resume, bad input."""

import json
import os
import shutil
import subprocess
import sys
import warnings

import keras
import keras_hub
import numpy as np
import pytest

from keras_objectives import checkpointing
from keras_objectives.cli import main as cli_main
from keras_objectives.deploy import export_run
from keras_objectives.deploy import finetune
from keras_objectives.deploy import load_predictor
from tests.deploy.conftest import ROOT
from tests.deploy.conftest import small_finetune_overrides
from tests.test_training import _kill_after_checkpoint

LONG = "good " * 40  # 40 pieces: longer than the sequence length (32).


@pytest.fixture(scope="module")
def tuned(body_run, keyword_task, tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp("tuned") / "ft")
    scores = finetune(body_run, keyword_task, workdir,
                      overrides=small_finetune_overrides(), verbose=0)
    return workdir, scores


def _load_keras(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return keras.saving.load_model(path)


def test_finetune_writes_metrics_plots_model_and_saved_model(tuned):
    workdir, scores = tuned
    for name in ("config.json", "metrics.csv", "metrics.json",
                 "labels.json", "confusion_matrix.png", "model.keras",
                 "best.weights.h5", "saved_model/saved_model.pb",
                 "preset/config.json"):
        assert os.path.exists(os.path.join(workdir, name)), name
    assert os.listdir(os.path.join(workdir, "tensorboard"))
    assert [s for s, _ in checkpointing.list_checkpoints(workdir)] == [1, 2]
    with open(os.path.join(workdir, "metrics.json")) as f:
        assert json.load(f) == json.loads(json.dumps(scores))
    assert scores["label_names"] == ["neg", "pos"]
    assert scores["kind"] == "classification" and scores["epochs_run"] == 2
    assert scores["best_epoch"] in (1, 2)
    for split, n in (("dev", 48), ("test", 100)):
        assert scores[f"{split}_examples"] == n
        assert 0 <= scores[f"{split}_accuracy"] <= 1
        assert np.sum(scores[f"{split}_confusion_matrix"]) == n
        assert 0.3 < scores[f"{split}_majority_class_accuracy"] < 0.7
    history = scores["history"]
    assert [r["epoch"] for r in history] == [1, 2]
    assert history[1]["loss"] < history[0]["loss"]
    best = max(r["val_accuracy"] for r in history)
    assert scores["dev_accuracy"] == pytest.approx(best, abs=1e-6)
    assert not [n for n in os.listdir(workdir) if n.startswith(".")]


SERVE = """
import json, sys
import tensorflow as tf
import tensorflow_text  # noqa: F401  (TF-Text ops, as TF Serving has)
texts = json.load(open(sys.argv[2]))
fn = tf.saved_model.load(sys.argv[1]).signatures["serving_default"]
out = fn(text=tf.constant(texts))
json.dump({k: v.numpy().tolist() if v.dtype != tf.string else
           [[b.decode() for b in r] if v.shape.rank == 2 else r.decode()
            for r in v.numpy()] for k, v in out.items()}, sys.stdout)
assert not [m for m in sys.modules
            if m.startswith(("keras_objectives", "keras_hub"))]
"""


def test_saved_model_model_keras_and_predict_agree(tuned, keyword_task,
                                                   tmp_path, capsys):
    """100 held-out texts, an empty one and one past the sequence length."""
    workdir, _ = tuned
    with open(os.path.join(keyword_task, "test.txt")) as f:
        texts = [line.split(" ", 1)[1].strip() for line in f][:100]
    texts += ["", LONG]
    (tmp_path / "texts.json").write_text(json.dumps(texts))
    (tmp_path / "serve.py").write_text(SERVE)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [sys.executable, str(tmp_path / "serve.py"),
         os.path.join(workdir, "saved_model"), str(tmp_path / "texts.json")],
        capture_output=True, text=True, env=env, cwd=str(tmp_path))
    assert result.returncode == 0, result.stderr[-3000:]
    served = json.loads(result.stdout)
    assert served["classes"][0] == ["neg", "pos"]
    assert served["truncated"] == [False] * 101 + [True]

    model = _load_keras(os.path.join(workdir, "model.keras"))
    probabilities = np.asarray(keras.ops.softmax(
        model.predict(texts, verbose=0)))
    np.testing.assert_allclose(served["probabilities"], probabilities,
                               atol=1e-5)
    labels = [["neg", "pos"][i] for i in probabilities.argmax(-1)]
    assert served["label"] == labels

    (tmp_path / "input.txt").write_text("\n".join(texts) + "\n")
    assert cli_main(["predict", workdir, "--input",
                     str(tmp_path / "input.txt")]) == 0
    out, err = capsys.readouterr()
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["text"] for r in records] == texts
    assert [r["label"] for r in records] == labels
    np.testing.assert_allclose(
        [[r["probabilities"]["neg"], r["probabilities"]["pos"]]
         for r in records], probabilities, atol=1e-5)
    assert "1 of 102 texts were longer than the sequence length" in err
    from_saved = load_predictor(os.path.join(workdir, "saved_model"))(
        texts[-2:])
    assert [r["label"] for r in from_saved] == labels[-2:]


def test_labels_that_differ_between_train_and_test_are_refused(
        body_run, keyword_task, tmp_path, capsys):
    task = tmp_path / "task"
    shutil.copytree(keyword_task, task)
    with open(task / "test.txt", "a") as f:
        f.write("neutral the plot was a story\n")
    workdir = tmp_path / "ft"
    assert cli_main(["finetune", body_run, "--task", str(task),
                     "--workdir", str(workdir)]) == 2
    err = capsys.readouterr().err
    assert "['neutral'] never occur in the training split" in err
    assert not workdir.exists()


def test_a_preset_whose_vocabulary_misses_the_embedding_is_refused(
        body_run, keyword_task, tmp_path, capsys):
    preset = tmp_path / "preset"
    export_run(body_run, str(preset))
    vocabulary = preset / "assets" / "tokenizer" / "vocabulary.txt"
    vocabulary.write_text("\n".join(
        vocabulary.read_text().splitlines()[:-7]) + "\n")
    assert cli_main(["finetune", str(preset), "--task", keyword_task,
                     "--workdir", str(tmp_path / "ft")]) == 2
    err = capsys.readouterr().err
    assert "tokenizer does not match its backbone" in err
    assert "vocabulary size" in err
    with pytest.raises(ValueError, match="vocabulary size"):
        keras_hub.models.TextClassifier.from_preset(str(preset),
                                                    num_classes=2)


@pytest.mark.large  # 25 s: a tagger fine-tune, SavedModel and predict.
def test_tagging_from_conll(body_run, conll_task, tmp_path, capsys):
    workdir = str(tmp_path / "tagger")
    scores = finetune(body_run, conll_task, workdir,
                      overrides=small_finetune_overrides(2, 16), verbose=0)
    assert scores["kind"] == "tagging"
    assert scores["label_names"] == ["B-NP", "B-VP", "I-NP"]
    for key in ("dev_token_accuracy", "dev_chunk_f1", "test_chunk_f1",
                "test_majority_tag_accuracy"):
        assert 0 <= scores[key] <= 1, key
    sentences = ["the cat sat", "", "the " * 40]
    assert cli_main(["predict", workdir, *sentences]) == 0
    out, err = capsys.readouterr()
    records = [json.loads(line) for line in out.splitlines()]
    assert [w for w, _ in records[0]["tags"]] == ["the", "cat", "sat"]
    assert {t for _, t in records[0]["tags"]} <= set(scores["label_names"])
    assert records[1]["tags"] == []
    assert records[2]["truncated_words"] == 40 - 14  # 14 fit in 16.
    assert records[2]["tags"][-1][1] is None
    assert "words in 3 sentences were past the sequence length" in err
    served = load_predictor(os.path.join(workdir, "saved_model"))(sentences)
    assert served == records


@pytest.mark.large  # 42 s: three fine-tunes, one killed in a subprocess.
def test_a_killed_finetune_resumes_to_bitwise_equal_weights(
        body_run, keyword_task, tmp_path):
    """Straight through here; killed in a subprocess, resumed here."""
    overrides = small_finetune_overrides(4) + [
        "--config.early_stopping_patience=4"]
    straight, killed = str(tmp_path / "straight"), str(tmp_path / "killed")
    finetune(body_run, keyword_task, straight, overrides=overrides,
             verbose=0)
    command = [sys.executable, "-m", "keras_objectives.cli", "finetune",
               body_run, "--task", keyword_task, "--workdir", killed,
               *overrides]
    env = dict(os.environ, PYTHONPATH=ROOT)
    stopped_at = _kill_after_checkpoint(command, env, killed, 0)
    assert 0 < stopped_at < 4, stopped_at
    assert not os.path.exists(os.path.join(killed, "metrics.json"))
    assert cli_main(["finetune", body_run, "--task", keyword_task,
                     "--workdir", killed, "--quiet", *overrides]) == 0
    a = _load_keras(os.path.join(straight, "model.keras"))
    b = _load_keras(os.path.join(killed, "model.keras"))
    for x, y in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(x, y)
    with open(os.path.join(straight, "metrics.json")) as f:
        first = json.load(f)
    with open(os.path.join(killed, "metrics.json")) as f:
        second = json.load(f)
    for key in ("dev_accuracy", "test_accuracy", "best_epoch"):
        assert first[key] == second[key], key
    assert [r["loss"] for r in first["history"]] == [
        r["loss"] for r in second["history"]]
