"""Probes and fine-tuning on real (tiny, untrained) Transformer bodies.

An untrained body still carries each token's identity in its outputs, so a
task decided by which words occur is linearly decodable from mean-pooled
features, and a tag decided by the word itself from first-sub-token
features. Shuffled labels must then fall to chance.
"""

import numpy as np
import pytest

from keras_objectives.evaluation import ClassificationTask
from keras_objectives.evaluation import TaggingTask
from keras_objectives.evaluation import evaluate_fine_tuning
from keras_objectives.evaluation import evaluate_language_model
from keras_objectives.evaluation import evaluate_linear_probe
from keras_objectives.evaluation import evaluate_minimal_pairs
from keras_objectives.evaluation import evaluate_tagging
from keras_objectives.evaluation.tagging import encode_words
from tests.evaluation.test_common import FIRST_WORD
from tests.evaluation.test_common import WORDS
from tests.evaluation.test_common import Stub
from tests.evaluation.test_common import successor_text
from tests.evaluation.test_common import tiny_body
from tests.evaluation.test_common import toy_corpus

MLM = Stub("masked_lm", "bidirectional", "encoder", sequence_length=16)


def _keyword_task(n=240, seed=0, shuffle=False):
    rng = np.random.default_rng(seed)
    fillers = [w for w in WORDS if w not in ("fire", "bird")]
    splits = {}
    for split, count in (("train", n), ("dev", n // 2)):
        texts, labels = [], []
        for _ in range(count):
            label = int(rng.integers(2))
            words = list(rng.choice(fillers, 5))
            words[int(rng.integers(5))] = ("fire", "bird")[label]
            texts.append(" ".join(words))
            labels.append(label)
        labels = np.array(labels)
        if shuffle:
            labels = rng.permutation(labels)
        splits[split] = (texts, labels)
    return ClassificationTask("keyword", ["bird", "fire"], splits)


def test_linear_probe_reads_frozen_features_and_shuffled_is_chance():
    body, corpus = tiny_body("bidirectional", 16), toy_corpus()
    weights = [w.copy() for w in body.get_weights()]
    result = evaluate_linear_probe(body, MLM, corpus, _keyword_task(),
                                   seed=[0, 1, 2])
    assert result["dev_accuracy"] >= 0.9
    assert result["seeds"] == [0, 1, 2] and len(result["per_seed"]) == 3
    assert result["dev_accuracy_sd"] < 0.02  # Convex: seeds agree.
    assert result["feature_attention"] == "bidirectional"
    assert result["feature_dim"] == 16 and result["truncated"] == 0
    control = evaluate_linear_probe(body, MLM, corpus,
                                    _keyword_task(shuffle=True), seed=0)
    # 120 dev examples: chance 0.5, 4 sigma = 0.18.
    assert control["dev_accuracy"] < 0.68
    for before, after in zip(weights, body.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)


def test_train_fraction_makes_probe_seeds_differ():
    body, corpus = tiny_body("causal", 16), toy_corpus()
    result = evaluate_linear_probe(
        body, Stub("causal_lm", "causal", sequence_length=16), corpus,
        _keyword_task(), seed=[0, 1, 2], train_fraction=0.2)
    assert result["feature_attention"] == "causal"
    assert result["train_examples"] == 48
    assert len({r["dev_accuracy"] for r in result["per_seed"]}) > 1


def _tag_task():
    rng = np.random.default_rng(0)
    nouns, verbs = {"cat", "dog", "bird", "man"}, {"sat", "ran", "saw"}

    def tag(word):
        return "B-NP" if word in nouns else "B-VP" if word in verbs else "O"

    splits = {}
    for split, count in (("train", 120), ("dev", 40)):
        sentences = [list(rng.choice(WORDS, 6)) for _ in range(count)]
        splits[split] = (sentences, [[tag(w) for w in s] for s in sentences])
    return TaggingTask("toy_chunks", ["B-NP", "B-VP", "O"], splits)


def test_tagging_probe_reads_first_sub_tokens():
    corpus = toy_corpus()
    token_ids, _, positions = encode_words(corpus, [["the", "cats"]], 8)
    # "cats" -> "cat" "##s" is not in the toy vocabulary: "cats" is [UNK].
    assert positions == [[1, 2]] and token_ids[0, 1] == FIRST_WORD
    cut = encode_words(corpus, [WORDS[:10]], 6)[2]
    assert cut == [[1, 2, 3, 4, -1, -1, -1, -1, -1, -1]]
    result = evaluate_tagging(tiny_body("bidirectional", 16), MLM, corpus,
                              _tag_task(), seed=[0, 1])
    assert result["dev_token_accuracy"] >= 0.95
    assert result["dev_chunk_f1"] >= 0.9
    assert result["truncated_words"] == 0
    assert result["train_words"] == 720
    small = evaluate_tagging(tiny_body("bidirectional", 16), MLM, corpus,
                             _tag_task(), seed=0, max_train_words=60)
    assert small["train_words"] == 60


def test_fine_tuning_trains_a_copy_and_learns():
    body, corpus = tiny_body("bidirectional", 16), toy_corpus()
    weights = [w.copy() for w in body.get_weights()]
    result = evaluate_fine_tuning(body, MLM, corpus, _keyword_task(128),
                                  seed=0, epochs=3, learning_rate=5e-3,
                                  batch_size=16)
    assert result["dev_accuracy"] >= 0.8
    assert result["epochs"] == 3 and result["seeds"] == [0]
    for before, after in zip(weights, body.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)
    with pytest.raises(ValueError, match="epochs"):
        evaluate_fine_tuning(body, MLM, corpus, _keyword_task(), epochs=6)


def test_every_instrument_runs_on_a_causal_lm_pretrainer():
    from keras_objectives.models import Pretrainer
    from keras_objectives.objectives import get

    corpus = toy_corpus([successor_text(30)])
    objective = get("causal_lm", special_tokens=corpus.special_tokens,
                    sequence_length=16)
    model = Pretrainer(tiny_body("causal", 16), objective)
    lm = evaluate_language_model(model, objective, corpus)
    # Untrained: close to uniform over the vocabulary.
    assert abs(lm["loss"] - np.log(corpus.special_tokens.vocabulary_size)
               ) < 1.0
    pairs = evaluate_minimal_pairs(model, objective, corpus, num_pairs=9)
    assert pairs["scoring"] == "causal" and pairs["pairs"] == 9
    probe = evaluate_linear_probe(model, objective, corpus, _keyword_task(
        60), seed=0)
    assert probe["feature_attention"] == "causal"
    assert 0.0 <= probe["dev_accuracy"] <= 1.0
