"""A Chinese whole-word run resumes after kill -9 to bitwise-equal weights.

The machinery of `tests/test_training.py`, on a segmented Chinese corpus
(jieba) with whole-word MLM: word boundaries are cached with the tokens and
the masks are keyed per example, so the resumed stream is the same.
"""

import json
import os
import sys

import numpy as np
import pytest

from keras_objectives.data import embedded_zh_corpus
from tests.test_training import ROOT
from tests.test_training import _kill_after_checkpoint
from tests.test_training import _metric
from tests.test_training import _run
from tests.test_training import _weights
from tests.test_training import tiny_config

pytest.importorskip("jieba", reason="the [zh] extra (jieba)")


@pytest.fixture(scope="module")
def chinese_dir(tmp_path_factory):
    """About 40 k characters of the embedded Chinese works in 30 files."""
    folder = tmp_path_factory.mktemp("zh_corpus")
    docs = embedded_zh_corpus("train")
    for i in range(30):
        (folder / f"doc{i:02d}.txt").write_text(docs[i * 80][:1500],
                                                encoding="utf-8")
    return str(folder)


@pytest.mark.large
def test_killed_chinese_whole_word_run_resumes_bitwise(chinese_dir, tmp_path):
    config = tiny_config(chinese_dir, steps=8, steps_per_checkpoint=2)
    config["objective"] = {"class_name": "masked_lm",
                           "config": {"whole_word": True}}
    config["data"]["segmenter"] = "jieba"
    recipe = tmp_path / "recipe.py"
    recipe.write_text(f"def get_config(arg=None):\n    return {config!r}\n")
    straight, killed = str(tmp_path / "straight"), str(tmp_path / "killed")
    command = [sys.executable, "-m", "keras_objectives.cli", "train",
               str(recipe), "--workdir"]
    env = dict(os.environ, PYTHONPATH=ROOT,
               KERAS_OBJECTIVES_CACHE=str(tmp_path / "cache"))
    _run(command + [straight], env)
    first = _kill_after_checkpoint(command + [killed], env, killed, 0)
    assert 0 < first < 8, first
    _run(command + [killed], env)
    summaries = []
    for workdir in (straight, killed):
        with open(os.path.join(workdir, "summary.json")) as f:
            summaries.append(json.load(f))
    assert summaries[0]["corpus"]["segmentation"]["segmenter"] == "jieba"
    assert summaries[0]["final_loss"] == summaries[1]["final_loss"]
    np.testing.assert_array_equal(_metric(straight, "loss"),
                                  _metric(killed, "loss"))
    for x, y in zip(_weights(straight), _weights(killed), strict=True):
        np.testing.assert_array_equal(x, y)
