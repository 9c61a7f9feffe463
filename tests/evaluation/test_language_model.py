import math

import numpy as np

from keras_objectives.evaluation import common
from keras_objectives.evaluation import evaluate_language_model
from keras_objectives.evaluation import token_log_probs
from keras_objectives.evaluation.language_model import next_token_reason
from tests.evaluation.test_common import FIRST_WORD
from tests.evaluation.test_common import WORDS
from tests.evaluation.test_common import Stub
from tests.evaluation.test_common import V
from tests.evaluation.test_common import successor_lm
from tests.evaluation.test_common import toy_corpus
from tests.evaluation.test_common import uniform_lm

CLM = Stub("causal_lm", "causal", sequence_length=8)


def test_uniform_lm_gives_log_v_per_token_and_exact_bits_per_byte():
    texts = ["the cat sat on the mat .", "she walked to town"]
    corpus = toy_corpus(texts)
    result = evaluate_language_model(uniform_lm(), CLM, corpus)
    tokens = sum(len(r) for r in common.tokenize(corpus.tokenizer, texts))
    assert result["tokens"] == tokens == 11
    np.testing.assert_allclose(result["loss"], math.log(V), rtol=1e-6)
    np.testing.assert_allclose(result["perplexity"], V, rtol=1e-5)
    num_bytes = sum(len(t.encode("utf-8")) for t in texts)
    assert result["bytes"] == num_bytes
    np.testing.assert_allclose(
        result["bits_per_byte"], tokens * math.log(V) / math.log(2)
        / num_bytes, rtol=1e-6)


def test_long_documents_are_scored_once_per_token_across_windows():
    # 20 tokens with windows of 8 inputs: every token predicted once.
    text = " ".join(WORDS[:20])
    result = evaluate_language_model(uniform_lm(), CLM, toy_corpus([text]))
    assert result["tokens"] == 20
    np.testing.assert_allclose(result["total_nll"], 20 * math.log(V),
                               rtol=1e-6)


def test_perplexity_pools_tokens_not_sequences():
    # Document A: consecutive words, almost free under the successor model.
    # Document B: one word, after [SEP]: costs about BIG nats.
    predictable = " ".join(WORDS[:7])
    surprising = "fire"
    corpus = toy_corpus([predictable, surprising])
    model = successor_lm()
    result = evaluate_language_model(model, CLM, corpus)
    per_doc = [evaluate_language_model(model, CLM, toy_corpus([t]))
               for t in (predictable, surprising)]
    total = sum(r["total_nll"] for r in per_doc)
    np.testing.assert_allclose(result["total_nll"], total, rtol=1e-6)
    np.testing.assert_allclose(result["loss"], total / 8, rtol=1e-6)
    mean_of_ppl = np.mean([r["perplexity"] for r in per_doc])
    assert not np.isclose(result["perplexity"], mean_of_ppl, rtol=1e-3)


def test_token_log_probs_are_aligned_with_the_next_token():
    the = FIRST_WORD
    inputs = [[the, the + 1, the + 2]]
    model = successor_lm()
    right, _ = token_log_probs(model, inputs, [[the + 1, the + 2, the + 3]],
                               [[1, 1, 1]])
    shifted, _ = token_log_probs(model, inputs, [[the, the + 1, the + 2]],
                                 [[1, 1, 1]])
    assert right[0] > -1e-6
    assert shifted[0] < -50


def test_max_characters_cuts_the_scored_text_and_its_bytes():
    text = " ".join(WORDS)
    result = evaluate_language_model(uniform_lm(), CLM, toy_corpus([text]),
                                     max_characters=20)
    cut = text[:text.rfind(" ", 0, 20)]
    assert result["bytes"] == len(cut.encode("utf-8"))
    assert result["tokens"] == len(cut.split())


def test_arms_without_a_next_token_distribution_are_skipped():
    for objective in (Stub("masked_lm", "bidirectional", "encoder"),
                      Stub("span_corruption", "prefix"),
                      Stub("replaced_token_detection", "bidirectional")):
        result = evaluate_language_model(uniform_lm(), objective,
                                         toy_corpus())
        assert result["perplexity"] is None
        assert result["bits_per_byte"] is None
        assert objective.name in result["reason"]
    assert next_token_reason(Stub("prefix_lm", "prefix",
                                  defines_next_token=True)) is None
    assert next_token_reason(Stub("x", "prefix",
                                  defines_next_token=True)) is None
    assert next_token_reason(Stub("y", "causal",
                                  defines_next_token=False)) is not None


def test_few_scored_targets_are_projected_alone_with_the_same_scores():
    """A pre-trainer with an `lm_head` scores sparse targets by projecting
    only those positions; the numbers are the full-logits numbers."""
    import keras

    from keras_objectives import objectives
    from keras_objectives.data.special_tokens import SpecialTokens
    from keras_objectives.data.special_tokens import reserved_tokens
    from keras_objectives.evaluation import language_model
    from keras_objectives.models import Pretrainer
    from keras_objectives.models import make_backbone

    keras.utils.set_random_seed(0)
    special = SpecialTokens.from_vocabulary(
        reserved_tokens() + [f"w{i}" for i in range(40)])
    objective = objectives.get("causal_lm", special_tokens=special,
                               sequence_length=12)
    backbone = make_backbone(
        "body", special.vocabulary_size, "causal", num_layers=1,
        num_heads=2, hidden_dim=16, intermediate_dim=32,
        max_sequence_length=12)
    model = Pretrainer(backbone, objective)
    assert language_model._scored_head(model) is not None
    rng = np.random.default_rng(0)
    inputs = rng.integers(120, special.vocabulary_size, (5, 12))
    targets = rng.integers(120, special.vocabulary_size, (5, 12))
    weights = np.zeros((5, 12))
    for row, cols in enumerate([[3], [0, 11], [5, 6, 7], [], [2, 9]]):
        weights[row, cols] = 1.0
    sparse, counts = token_log_probs(model, inputs, targets, weights,
                                     padding_mask=np.ones((5, 12), bool),
                                     batch_size=2)
    logits = np.asarray(model({"token_ids": inputs, "padding_mask": np.ones(
        (5, 12), bool)}), np.float64)
    logits -= logits.max(-1, keepdims=True)
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    full = (np.take_along_axis(logp, targets[..., None], -1)[..., 0]
            * weights).sum(1)
    np.testing.assert_allclose(sparse, full, rtol=1e-5, atol=1e-5)
    assert counts.tolist() == [1, 2, 3, 0, 2]
