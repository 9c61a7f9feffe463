"""The instruments against the real prepared embedded corpus (large).

Checks the contracts with `keras_objectives.data`: the held-out text the
instruments re-read is exactly what the corpus tokenized and counted (so
bits per byte from token ids and from text agree), and the built-in book
attribution task never overlaps the pre-training token ids.
"""

import numpy as np
import pytest

from keras_objectives.evaluation import book_attribution_task
from keras_objectives.evaluation import common
from keras_objectives.evaluation import make_minimal_pairs


@pytest.fixture(scope="module")
def corpus():
    from keras_objectives import data

    return data.prepare_corpus("embedded")


@pytest.mark.large
def test_held_out_text_matches_the_corpus_token_ids_and_bytes(corpus):
    texts = common.validation_texts(corpus)
    ids = common.tokenize(corpus.tokenizer, texts)
    assert len(ids) == len(corpus.validation_documents_token_ids)
    for mine, theirs in zip(ids, corpus.validation_documents_token_ids,
                            strict=True):
        np.testing.assert_array_equal(mine, theirs)
    assert sum(len(t.encode("utf-8")) for t in texts) == corpus.stats[
        "validation"]["bytes"]
    pairs = make_minimal_pairs(texts, 300, seed=0)
    assert len(pairs) == 300


@pytest.mark.large
def test_book_attribution_never_overlaps_pre_training(corpus):
    task = book_attribution_task(corpus=corpus)
    assert task.num_classes == 17
    assert min(np.bincount(task.split("test")[1])) >= 2
