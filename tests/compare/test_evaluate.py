"""`compare.evaluate.resolve_task`: every form a recipe's `task` takes."""

import pytest

from keras_objectives.compare import evaluate

LINES = {
    "train": ["1 a fine warm film", "0 a dull cold film"] * 3,
    "dev": ["1 warm and fine", "0 cold and dull"],
    "test": ["1 fine", "0 dull"],
}


@pytest.fixture
def files(tmp_path):
    paths = {}
    for split, lines in LINES.items():
        path = tmp_path / f"{split}.txt"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        paths[split] = str(path)
    return paths


def test_a_dict_of_paths_loads_the_users_classification_files(files):
    task = evaluate.resolve_task("linear_probe", files, corpus=None)
    texts, labels = task.split("dev")
    assert list(texts) == ["warm and fine", "cold and dull"]
    assert labels.tolist() == [task.label_names.index("1"),
                               task.label_names.index("0")]
    # Cached per process: the same spec gives the same object.
    assert evaluate.resolve_task("linear_probe", dict(files), None) is task


def test_a_single_path_loads_the_train_file(files):
    task = evaluate.resolve_task("fine_tune", files["train"], corpus=None)
    assert len(task.split("train")[0]) + len(task.split("dev")[0]) == 6


def test_tagging_builtin_task_is_punctuation():
    with pytest.raises(ValueError, match=r"Expected \['punctuation'\]"):
        evaluate.resolve_task("tagging", "book_attribution", corpus=None)
    task = evaluate.resolve_task("tagging", None, corpus=None)
    assert task.name == "punctuation" and task.metric == "tag_f1"
    assert evaluate.resolve_task("tagging", "punctuation", None) is not None
