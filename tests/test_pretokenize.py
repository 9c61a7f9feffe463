"""`keras-objectives pretokenize`, and training from its shards."""

import json
import os

import pytest

from keras_objectives import config as config_lib
from keras_objectives import data
from keras_objectives import training
from keras_objectives.cli import main as cli_main
from keras_objectives.data import embedded_corpus

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RECIPE = os.path.join(ROOT, "recipes", "causal_lm.py:runlocal")


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory):
    """About 60 KB of book text in 20 files: fast to tokenize."""
    folder = tmp_path_factory.mktemp("corpus")
    docs = iter(embedded_corpus("train"))
    for i in range(20):
        with open(folder / f"doc{i:02d}.txt", "w", encoding="utf-8") as f:
            f.write(next(docs)[:3000])
    return str(folder)


def _overrides(corpus_dir):
    return [f"--config.data.source={corpus_dir}",
            "--config.data.vocabulary_size=600",
            "--config.sequence_length=32",
            "--config.model.max_sequence_length=64"]


def test_pretokenize_then_train_equals_training_on_text(corpus_dir, tmp_path,
                                                        capsys):
    out = str(tmp_path / "shards")
    assert cli_main(["pretokenize", RECIPE, "--output", out,
                     "--num-shards", "3"] + _overrides(corpus_dir)) == 0
    assert "--config.data.pretokenized=" in capsys.readouterr().out
    with open(os.path.join(out, "metadata.json")) as f:
        metadata = json.load(f)
    assert metadata["sequence_length"] == 33  # causal LM: 32 + 1.
    assert metadata["settings"]["objective"] == "causal_lm"
    assert len(metadata["splits"]["train"]["files"]) == 3

    config = config_lib.apply_overrides(
        config_lib.load_recipe(RECIPE), _overrides(corpus_dir))
    config["training"].update(global_batch_size=8, steps=2,
                              steps_per_checkpoint=2, warmup_steps=1,
                              eval_batches=2, deterministic=True)
    config["strategy"] = "cpu"
    config = config_lib.validate(config)
    text = training.prepare_corpus(config)
    shards = training.prepare_corpus(
        {**config, "data": {**config["data"], "pretokenized": out}})
    assert isinstance(shards, data.PretokenizedCorpus)
    assert shards.vocabulary == text.vocabulary
    assert shards.stats == text.stats
    for split in ("train", "validation"):
        for key, value in text.pack(split, 33).items():
            assert value.tobytes() == shards.pack(split, 33)[key].tobytes()

    # The same run from text and from shards: the same losses.
    a = training.train(config, str(tmp_path / "text"), verbose=0)
    config["data"]["pretokenized"] = out
    b = training.train(config, str(tmp_path / "shards-run"), verbose=0)
    assert a["held_out_loss"] == b["held_out_loss"]
    assert a["final_loss"] == b["final_loss"]


def test_pretokenize_errors(corpus_dir, tmp_path, capsys):
    assert cli_main(["pretokenize", RECIPE] + _overrides(corpus_dir)) == 2
    assert "--output DIR" in capsys.readouterr().err
    out = str(tmp_path / "shards")
    os.makedirs(out)
    with open(os.path.join(out, "metadata.json"), "w") as f:
        f.write("{}")
    assert cli_main(["pretokenize", RECIPE, "--output", out]
                    + _overrides(corpus_dir)) == 2
    assert "already holds pretokenized data" in capsys.readouterr().err
    # A shard directory for another length is refused before training.
    config = config_lib.validate(config_lib.apply_overrides(
        config_lib.load_recipe(RECIPE), _overrides(corpus_dir)
        + [f"--config.data.pretokenized={tmp_path / 'missing'}"]))
    with pytest.raises(FileNotFoundError, match="pretokenize"):
        training.prepare_corpus(config)
