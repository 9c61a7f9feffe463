"""`--task` specs of `finetune` beyond files: the built-in tasks."""

import pytest

from keras_objectives.deploy.config import finetune_config
from keras_objectives.deploy.tasks import resolve_task
from keras_objectives.evaluation import book_attribution_task


def test_builtin_book_attribution_is_the_harness_task():
    options = finetune_config()["task"]
    task = resolve_task("builtin:book_attribution", options)
    expected = book_attribution_task(label="book")
    assert task.label_names == expected.label_names
    for split in ("train", "dev", "test"):
        assert task.split(split)[0] == expected.split(split)[0]
    assert len(task.split("train")[0]) > len(task.split("test")[0]) > 0
    with pytest.raises(ValueError, match="'classification' for builtin"):
        resolve_task("builtin:book_attribution",
                     {**options, "kind": "tagging"})
    with pytest.raises(ValueError, match="builtin:author_attribution"):
        resolve_task("builtin:nope", options)
