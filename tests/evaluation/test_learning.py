"""The instruments see learning: tiny arms trained on a toy grammar.

Text made of runs of consecutive `WORDS` is trivially predictable from
the previous token, so a trained causal LM must beat the uniform loss by
far and prefer the original of nearly every minimal pair. (A masked LM
must first learn to attend to its neighbour: a tiny one, body or BERT,
needs far more steps than fit a test, so MLM scoring is checked on toys
with known probabilities in `test_minimal_pairs.py`.) Marked large.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_objectives.data import pack
from keras_objectives.evaluation import common
from keras_objectives.evaluation import evaluate_language_model
from keras_objectives.evaluation import evaluate_minimal_pairs
from keras_objectives.models import Pretrainer
from keras_objectives.models import TransformerBody
from keras_objectives.objectives import get
from tests.evaluation.test_common import V
from tests.evaluation.test_common import successor_text
from tests.evaluation.test_common import toy_corpus


def _train(name, corpus, steps=400):
    objective = get(name, special_tokens=corpus.special_tokens,
                    sequence_length=32, seed=0)
    documents = common.tokenize(corpus.tokenizer,
                                [successor_text(60) for _ in range(20)])
    rows = pack(documents, objective.raw_length,
                eos_id=corpus.special_tokens.eos_id, pad_id=0)
    rows["example_ids"] = np.arange(len(rows["token_ids"]), dtype=np.int64)
    rows["epoch"] = np.zeros(len(rows["token_ids"]), np.int64)
    ds = tf.data.Dataset.from_tensor_slices(rows).repeat().shuffle(
        256, seed=0).batch(16, drop_remainder=True).map(objective)
    keras.utils.set_random_seed(0)
    body = TransformerBody(
        vocabulary_size=V, num_layers=2, num_heads=2, hidden_dim=32,
        intermediate_dim=64, max_sequence_length=64,
        attention_mode=objective.attention_mode)
    model = Pretrainer(body, objective)
    model.compile(keras.optimizers.Adam(3e-3), loss=objective.loss(),
                  weighted_metrics=objective.metrics())
    if steps:
        model.fit(ds, steps_per_epoch=steps, epochs=1, verbose=0)
    return model, objective


@pytest.mark.large
def test_trained_arms_pass_minimal_pairs_and_beat_uniform_loss():
    corpus = toy_corpus([successor_text(60)])
    clm, clm_objective = _train("causal_lm", corpus)
    lm = evaluate_language_model(clm, clm_objective, corpus)
    assert lm["loss"] < np.log(V) - 2.0
    pairs = evaluate_minimal_pairs(clm, clm_objective, corpus,
                                   num_pairs=60)
    assert pairs["accuracy"] >= 0.9
    untrained, _ = _train("causal_lm", corpus, steps=0)
    before = evaluate_minimal_pairs(untrained, clm_objective, corpus,
                                    num_pairs=60)
    assert before["accuracy"] < 0.8
