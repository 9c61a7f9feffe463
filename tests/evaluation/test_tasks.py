import json
import os

import pytest

from keras_objectives.evaluation import ClassificationTask
from keras_objectives.evaluation import load_classification
from keras_objectives.evaluation import load_conll
from keras_objectives.evaluation import load_tfds


def _write(folder, name, text):
    path = os.path.join(folder, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


@pytest.fixture
def folder(tmp_path):
    return str(tmp_path)


def test_label_text_lines_sst2_style(folder):
    train = _write(folder, "train.txt", "1 a fine , moving film\n"
                   "0 dull and flat\n\n1 great\n")
    dev = _write(folder, "dev.txt", "0 boring\n1 lovely\n")
    task = load_classification(train, dev)
    assert task.label_names == ["0", "1"]
    texts, labels = task.split("train")
    assert texts == ["a fine , moving film", "dull and flat", "great"]
    assert labels.tolist() == [1, 0, 1]
    assert task.split("dev")[1].tolist() == [0, 1]
    assert task.name == os.path.basename(folder)
    assert "test" not in task.splits


def test_tsv_and_csv_with_headers_and_configurable_columns(folder):
    tsv = _write(folder, "train.tsv", "sentence\tlabel\nnice one\tpos\n"
                 "bad one\tneg\n")
    dev = _write(folder, "dev.tsv", "sentence\tlabel\nmeh\tneg\n")
    task = load_classification(tsv, dev, text_column="sentence")
    assert task.label_names == ["neg", "pos"]
    assert task.split("train") [0] == ["nice one", "bad one"]
    csv_train = _write(folder, "a.csv", 'id,text,y\n1,"hello, world",b\n'
                       "2,bye,a\n")
    csv_dev = _write(folder, "b.csv", "id,text,y\n3,hi,a\n")
    task = load_classification(csv_train, csv_dev, label_column="y")
    assert task.split("train")[0] == ["hello, world", "bye"]
    assert task.split("train")[1].tolist() == [1, 0]
    headerless = _write(folder, "c.tsv", "pos\tgood\nneg\tbad\n")
    task = load_classification(headerless, headerless, label_column=0,
                               text_column=1)
    assert task.split("dev")[0] == ["good", "bad"]
    with pytest.raises(ValueError, match="no column 'label'"):
        load_classification(csv_train, csv_dev)


def test_jsonl_and_a_test_split(folder):
    rows = [{"label": "x", "text": "one"}, {"label": "y", "text": "two"}]
    path = _write(folder, "train.jsonl",
                  "\n".join(json.dumps(r) for r in rows) + "\n")
    task = load_classification(path, path, path)
    assert sorted(task.splits) == ["dev", "test", "train"]
    assert task.split("test")[1].tolist() == [0, 1]
    broken = _write(folder, "broken.jsonl", '{"label": "x"}\n')
    with pytest.raises(ValueError, match="broken.jsonl:1"):
        load_classification(broken, path)


def test_unknown_dev_labels_are_named(folder):
    train = _write(folder, "train.txt", "0 a\n1 b\n")
    dev = _write(folder, "dev.txt", "2 c\n1 d\n3 e\n")
    with pytest.raises(ValueError, match=r"\['2', '3'\].*dev"):
        load_classification(train, dev)


def test_empty_splits_and_bad_lines_raise(folder):
    train = _write(folder, "train.txt", "0 a\n1 b\n")
    empty = _write(folder, "empty.txt", "\n\n")
    with pytest.raises(ValueError, match="`dev` split: it has no examples"):
        load_classification(train, empty)
    no_text = _write(folder, "no_text.txt", "0 a\n1\n")
    with pytest.raises(ValueError, match="no_text.txt:2"):
        load_classification(no_text, train)
    with pytest.raises(ValueError, match="format"):
        load_classification(_write(folder, "x.parquet", "0 a\n"), train)
    with pytest.raises(ValueError, match="existing file"):
        load_classification(os.path.join(folder, "missing.txt"), train)


def test_without_dev_a_seeded_share_of_train_becomes_dev(folder):
    lines = "".join(f"{i % 2} text {i}\n" for i in range(20))
    train = _write(folder, "train.txt", lines)
    a = load_classification(train, dev_fraction=0.25, seed=1)
    b = load_classification(train, dev_fraction=0.25, seed=1)
    assert len(a.split("dev")[0]) == 5 and len(a.split("train")[0]) == 15
    assert a.split("dev")[0] == b.split("dev")[0]
    assert not set(a.split("dev")[0]) & set(a.split("train")[0])
    config = a.get_config()
    again = ClassificationTask.from_config(config)
    assert again.split("dev")[1].tolist() == a.split("dev")[1].tolist()


CONLL = """Confidence NN B-NP
in IN B-PP
the DT B-NP
pound NN I-NP

Chancellor NNP O
of IN B-PP

-DOCSTART- -X- O
He PRP B-NP
"""


def test_conll_columns_sentences_and_tag_column(folder):
    path = _write(folder, "train.txt", CONLL)
    task = load_conll(path, path)
    sentences, tags = task.split("train")
    assert sentences == [["Confidence", "in", "the", "pound"],
                         ["Chancellor", "of"], ["He"]]
    assert tags[0] == ["B-NP", "B-PP", "B-NP", "I-NP"]
    assert task.label_names == ["B-NP", "B-PP", "I-NP", "O"]
    pos = load_conll(path, path, tag_column=1)
    assert pos.split("dev")[1][1] == ["NNP", "IN"]


def test_conll_ragged_columns_name_file_and_line(folder):
    ragged = _write(folder, "ragged.txt", "a DT B-NP\nb NN\n")
    with pytest.raises(ValueError, match="ragged.txt:2"):
        load_conll(ragged, ragged)
    train = _write(folder, "train.txt", CONLL)
    dev = _write(folder, "dev.txt", "x NN B-VP\n")
    with pytest.raises(ValueError, match="B-VP.*allow_unseen_tags"):
        load_conll(train, dev)
    task = load_conll(train, dev, allow_unseen_tags=True)
    assert task.split("dev")[1] == [["B-VP"]]
    assert "B-VP" not in task.label_names


def test_tfds_fails_clearly_offline(tmp_path, monkeypatch):
    import tensorflow_datasets as tfds

    def offline(*args, **kwargs):
        raise ConnectionError("Name or service not known")

    monkeypatch.setattr(tfds, "builder", offline)
    with pytest.raises(RuntimeError, match="network.*load_classification"):
        load_tfds("glue/sst2", data_dir=str(tmp_path))


@pytest.mark.large
def test_tfds_glue_sst2_online(tmp_path):
    try:
        task = load_tfds("glue/sst2", data_dir=str(tmp_path))
    except RuntimeError as error:
        pytest.skip(f"offline: {error}")
    assert task.label_names == ["negative", "positive"]
    assert len(task.split("dev")[0]) == 872
