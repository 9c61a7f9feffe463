"""Every instrument on every objective's real pre-trainer (tiny, untrained).

What must hold whatever the weights: which arms get which scoring, that
the rows the instruments build are the ones the objectives train on, and
that the results are well formed.
"""

import keras
import keras_hub
import numpy as np
import pytest
import tensorflow as tf

from keras_objectives.evaluation import evaluate_language_model
from keras_objectives.evaluation import evaluate_linear_probe
from keras_objectives.evaluation import evaluate_minimal_pairs
from keras_objectives.evaluation.language_model import lm_context
from keras_objectives.evaluation.pseudo_likelihood import _denoising_examples
from keras_objectives.evaluation.pseudo_likelihood import decoder_rows
from keras_objectives.evaluation.scoring import scoring_kind
from keras_objectives.models import Pretrainer
from keras_objectives.objectives import get
from keras_objectives.ops import prefix_lm
from tests.evaluation.test_common import V
from tests.evaluation.test_common import successor_text
from tests.evaluation.test_common import tiny_body
from tests.evaluation.test_common import toy_corpus
from tests.evaluation.test_probes import _keyword_task

CORPUS = toy_corpus([successor_text(30)])
# name -> (scoring, held-out LM defined, feature attention)
ARMS = {
    "causal_lm": ("causal", True, "causal"),
    "fill_in_the_middle": ("causal", True, "causal"),
    "prefix_lm": ("causal", True, "bidirectional"),
    "masked_lm": ("masked_pll", False, "bidirectional"),
    "replaced_token_detection": ("masked_pll", False, "bidirectional"),
    "span_corruption": ("denoising_pll", False, "bidirectional"),
    "iid_denoising": ("denoising_pll", False, "bidirectional"),
    "denoising": ("reconstruction_pll", False, "bidirectional"),
}


def _pretrainer(name, **config):
    if name == "denoising":
        config["sentence_end_ids"] = [CORPUS.vocabulary.index(".")]
    objective = get({"class_name": name, "config": config},
                    special_tokens=CORPUS.special_tokens, sequence_length=32)
    if objective.attention_mode == "encoder_decoder":
        keras.utils.set_random_seed(0)
        backbone = keras_hub.models.T5Backbone(
            vocabulary_size=V, num_layers=1, num_heads=2, hidden_dim=16,
            intermediate_dim=32, dropout=0.0)
    else:
        backbone = tiny_body(objective.attention_mode, 64)
    return Pretrainer(backbone, objective), objective


@pytest.mark.parametrize("name", sorted(ARMS))
def test_each_arm_gets_its_instruments(name):
    scoring, has_lm, attention = ARMS[name]
    model, objective = _pretrainer(name)
    tracked = (len(model.weights), len(model.layers))
    assert scoring_kind(model, objective) == (scoring, None)
    lm = evaluate_language_model(model, objective, CORPUS)
    if has_lm:
        # Untrained: near the uniform loss, and every text token scored.
        assert abs(lm["loss"] - np.log(V)) < 1.0
        assert lm["tokens"] == len(CORPUS.tokenizer(
            CORPUS.validation_texts[0]))
    else:
        assert lm["bits_per_byte"] is None and name in lm["reason"]
    pairs = evaluate_minimal_pairs(model, objective, CORPUS, num_pairs=6)
    assert pairs["scoring"] == scoring and pairs["pairs"] == 6
    assert 0.0 <= pairs["accuracy"] <= 1.0
    probe = evaluate_linear_probe(model, objective, CORPUS,
                                  _keyword_task(40), seed=0)
    assert probe["feature_attention"] == attention
    assert probe["feature_dim"] == 16
    # Evaluating adds nothing Keras would track or save.
    assert (len(model.weights), len(model.layers)) == tracked


@pytest.mark.large
def test_encoder_decoder_span_corruption_uses_t5_pll_and_the_encoder():
    model, objective = _pretrainer("span_corruption", form="encoder_decoder")
    assert scoring_kind(model, objective) == ("denoising_pll", None)
    pairs = evaluate_minimal_pairs(model, objective, CORPUS, num_pairs=3)
    assert pairs["scoring"] == "denoising_pll"
    assert np.isfinite(pairs["accuracy"])
    probe = evaluate_linear_probe(model, objective, CORPUS,
                                  _keyword_task(40), seed=0)
    assert probe["feature_attention"] == "encoder"
    assert evaluate_language_model(model, objective, CORPUS)["loss"] is None


def test_t5_pll_rows_match_the_objectives_decoder_layout():
    examples = list(_denoising_examples([[120, 121, 122]], 110, 3))
    x, y, w = decoder_rows(examples, start_id=0, pad_id=0)
    inputs = tf.constant([a for a, _, _, _ in examples])
    targets = tf.constant([b for _, b, _, _ in examples])
    n = len(examples)
    stream = prefix_lm.concatenate(inputs, tf.fill([n], 4), targets,
                                   tf.fill([n], 3), 7, 0)
    ref_x, ref_y, ref_w = prefix_lm.decoder_example(
        stream, tf.fill([n], 7), tf.fill([n], 4), 0)
    for key in ("token_ids", "padding_mask", "prefix_mask"):
        np.testing.assert_array_equal(x[key], ref_x[key].numpy())
    np.testing.assert_array_equal(y, ref_y.numpy())
    np.testing.assert_array_equal(w, ref_w.numpy())


def test_prefix_lm_context_is_its_start_token_and_an_empty_input():
    _, objective = _pretrainer("prefix_lm")
    st = CORPUS.special_tokens
    assert lm_context(objective) == ([st.pad_id, st.eos_id], 2)
    _, causal = _pretrainer("causal_lm")
    assert lm_context(causal) == ([st.eos_id], 0)
