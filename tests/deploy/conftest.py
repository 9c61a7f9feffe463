"""Tiny runs and tasks shared by the deploy tests (built once per session).

Every run trains a 2 x 64 body (or BERT / GPT-2 of the same size) for a
few steps on 40 short book excerpts, so the whole folder stays fast.
"""

import os
import random

import pytest

from keras_objectives import config as config_lib
from keras_objectives import training
from keras_objectives.data import embedded_corpus

POSITIVE = "good great fine lovely superb".split()
NEGATIVE = "bad awful poor dreadful weak".split()
FILLER = "the movie was and it a plot story actors".split()


def tiny_config(corpus_dir, backbone="body", objective="masked_lm",
                steps=4):
    config = config_lib.base_config()
    config["objective"] = objective
    config["sequence_length"] = 32
    config["data"].update(source=corpus_dir, vocabulary_size=600)
    config_lib.set_model_size(config, "tiny")
    config["model"].update(backbone=backbone, max_sequence_length=64)
    config["training"].update(global_batch_size=8, steps=steps,
                              steps_per_checkpoint=2, warmup_steps=1,
                              eval_batches=1, deterministic=True,
                              learning_rate=3e-3)
    config["strategy"] = "cpu"
    return config


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus")
    docs = iter(embedded_corpus("train"))
    for i in range(40):
        with open(folder / f"doc{i:02d}.txt", "w", encoding="utf-8") as f:
            f.write(next(docs)[:3000])
    return str(folder)


def _train(tmp_path_factory, corpus_dir, name, initial=False, **kwargs):
    workdir = str(tmp_path_factory.mktemp(name) / "run")
    config = tiny_config(corpus_dir, **kwargs)
    config["training"]["save_initial_weights"] = initial
    training.train(config, workdir, verbose=0)
    return workdir


@pytest.fixture(scope="session")
def body_run(tmp_path_factory, corpus_dir):
    return _train(tmp_path_factory, corpus_dir, "body", initial=True)


@pytest.fixture(scope="session")
def bert_run(tmp_path_factory, corpus_dir):
    return _train(tmp_path_factory, corpus_dir, "bert", backbone="bert",
                  steps=2)


@pytest.fixture(scope="session")
def gpt2_run(tmp_path_factory, corpus_dir):
    return _train(tmp_path_factory, corpus_dir, "gpt2", backbone="gpt2",
                  objective="causal_lm", steps=2)


def keyword_lines(n, seed):
    """`<label> <text>` lines whose label is given by one keyword."""
    r = random.Random(seed)
    lines = []
    for _ in range(n):
        label = r.randint(0, 1)
        words = r.sample(FILLER, 4) + [r.choice(POSITIVE if label
                                                else NEGATIVE)]
        r.shuffle(words)
        lines.append(f"{'pos' if label else 'neg'} {' '.join(words)}")
    return lines


@pytest.fixture(scope="session")
def keyword_task(tmp_path_factory):
    folder = tmp_path_factory.mktemp("keywords")
    for split, n, seed in (("train", 96, 0), ("dev", 48, 1),
                           ("test", 100, 2)):
        (folder / f"{split}.txt").write_text(
            "\n".join(keyword_lines(n, seed)) + "\n")
    return str(folder)


@pytest.fixture(scope="session")
def conll_task(tmp_path_factory):
    """Noun/verb chunks: a word's tag is given by the word itself."""
    folder = tmp_path_factory.mktemp("chunks")
    nouns, verbs = ["cat", "dog", "man"], ["sat", "ran", "ate"]
    r = random.Random(0)
    for split, n in (("train", 40), ("dev", 12), ("test", 12)):
        sentences = []
        for _ in range(n):
            rows = ["the DT B-NP", f"{r.choice(nouns)} NN I-NP",
                    f"{r.choice(verbs)} VBD B-VP"]
            sentences.append("\n".join(rows))
        (folder / f"{split}.txt").write_text("\n\n".join(sentences) + "\n")
    return str(folder)


def small_finetune_overrides(epochs=2, sequence_length=32):
    return [f"--config.epochs={epochs}", "--config.batch_size=16",
            "--config.learning_rate=3e-3",
            f"--config.sequence_length={sequence_length}"]


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
