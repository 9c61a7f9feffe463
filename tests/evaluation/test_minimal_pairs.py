import math
from collections import Counter

import keras
import numpy as np
import pytest

from keras_objectives.evaluation import denoising_pseudo_log_likelihood
from keras_objectives.evaluation import evaluate_minimal_pairs
from keras_objectives.evaluation import make_minimal_pairs
from keras_objectives.evaluation import masked_pseudo_log_likelihood
from keras_objectives.evaluation.minimal_pairs import candidate_sentences
from keras_objectives.evaluation.pseudo_likelihood import _denoising_examples
from keras_objectives.evaluation.scoring import scoring_kind
from tests.evaluation.test_common import BIG
from tests.evaluation.test_common import FIRST_WORD
from tests.evaluation.test_common import Stub
from tests.evaluation.test_common import V
from tests.evaluation.test_common import successor_lm
from tests.evaluation.test_common import successor_mlm
from tests.evaluation.test_common import successor_text
from tests.evaluation.test_common import toy_corpus
from tests.evaluation.test_common import uniform_lm

PROSE = (
    "The old man sat by the fire. She walked slowly to the town. "
    "We saw a small bird in the tree! Why did the dog run away? "
    "CHAPTER IV. It was 1851 then. He said that he would come back soon. "
    "They had never seen so many ships in the harbour before. "
    "Alice was beginning to get very tired of sitting by her sister. "
    "The the the the. Yes. Mr. Brown came home late at night. "
    "Then came Macduffe and Banquo to the gate of the castle."
)


def _words(sentence):
    return sorted(w.strip(".!?").lower() for w in sentence.split())


def test_pairs_are_deterministic_and_never_equal_to_the_original():
    pairs = make_minimal_pairs([PROSE], num_pairs=30, seed=3)
    assert pairs == make_minimal_pairs([PROSE], num_pairs=30, seed=3)
    assert pairs != make_minimal_pairs([PROSE], num_pairs=30, seed=4)
    assert len(pairs) >= 6
    for p in pairs:
        assert p["good"] != p["bad"]
        assert p["bad"][-1] == p["good"][-1]  # The end mark stays.
        assert p["bad"][0].isupper()
        if p["kind"] in ("swap", "shuffle"):
            assert _words(p["bad"]) == _words(p["good"])
            # Only the first word's capital moves; names keep theirs.
            names = [w for w in p["good"].split()[1:] if w[0].isupper()]
            assert all(w in p["bad"].split() for w in names)
        else:
            diff = [a != b for a, b in zip(p["good"].split(),
                                           p["bad"].split(), strict=True)]
            assert len(p["good"].split()) == len(p["bad"].split())
            assert sum(diff) == 1
    kinds = [p["kind"] for p in pairs]
    assert kinds[:3] == ["swap", "shuffle", "replace"]


def test_a_pair_depends_only_on_seed_and_sentence():
    few = make_minimal_pairs([PROSE], num_pairs=3, seed=7)
    many = make_minimal_pairs([PROSE], num_pairs=20, seed=7)
    assert many[:3] == few


def test_swaps_are_adjacent_and_headings_numbers_repeats_are_skipped():
    sentences = candidate_sentences([PROSE])
    assert "CHAPTER IV." not in sentences
    assert "It was 1851 then." not in sentences
    for p in make_minimal_pairs([PROSE], 40, seed=0, perturbations=["swap"]):
        good = p["good"].lower().split()
        bad = p["bad"].lower().split()
        moved = [i for i, (a, b) in enumerate(zip(good, bad, strict=True))
                 if a != b]
        assert len(moved) == 2 and moved[1] == moved[0] + 1
    with pytest.raises(ValueError, match="perturbations"):
        make_minimal_pairs([PROSE], 3, perturbations=["delete"])


def test_causal_scoring_prefers_originals_under_a_successor_model():
    corpus = toy_corpus([successor_text(60)])
    result = evaluate_minimal_pairs(successor_lm(), Stub("causal_lm",
                                                         "causal"), corpus,
                                    num_pairs=30, seed=0)
    assert result["scoring"] == "causal"
    assert result["accuracy"] == 1.0
    assert {result[f"pairs_{k}"] for k in ("swap", "shuffle",
                                           "replace")} == {10}
    # A uniform model cannot tell: swaps and shuffles tie (one half).
    uniform = evaluate_minimal_pairs(uniform_lm(), Stub("causal_lm",
                                                        "causal"), corpus,
                                     num_pairs=30, seed=0)
    assert uniform["accuracy_swap"] == 0.5
    assert uniform["ties"] >= 20


def test_masked_pll_masks_one_position_at_a_time():
    the = FIRST_WORD
    model = successor_mlm()
    rows = np.array([[2, the, the + 1, the + 2, 3, 0]])
    padding = rows != 0
    score = np.zeros_like(padding)
    score[0, 1:4] = True
    pll = masked_pseudo_log_likelihood(model, rows, padding, score,
                                       mask_id=4, batch_size=2)
    # Position 1 follows [CLS] (id 2), whose successor is 3, not `the`.
    hit = -math.log1p((V - 1) * math.exp(-BIG))
    miss = -math.log(math.exp(BIG) + V - 1)
    np.testing.assert_allclose(pll[0], 2 * hit + miss, rtol=1e-5)
    # A model that copies the token at the scored position only sees
    # [MASK] there, so every scored token is a miss.
    inputs = {n: keras.Input((None,), dtype="int32", name=n)
              for n in ("token_ids", "padding_mask", "mask_positions")}
    copy = keras.Model(inputs, keras.layers.Lambda(
        lambda a: BIG * keras.ops.one_hot(keras.ops.take_along_axis(
            a[0], a[1], axis=1), V))(
        [inputs["token_ids"], inputs["mask_positions"]]))
    pll = masked_pseudo_log_likelihood(copy, rows, padding, score, mask_id=4)
    np.testing.assert_allclose(pll[0], 3 * miss, rtol=1e-5)


def test_masked_pll_scoring_prefers_originals():
    corpus = toy_corpus([successor_text(60)])
    objective = Stub("masked_lm", "bidirectional", "encoder",
                     sentence_scoring="masked_pll")
    model = successor_mlm()
    assert scoring_kind(model, objective) == ("masked_pll", None)
    result = evaluate_minimal_pairs(model, objective, corpus, num_pairs=30)
    assert result["scoring"] == "masked_pll"
    assert result["accuracy"] == 1.0


def test_electra_without_a_generator_is_skipped_with_a_reason():
    electra = Stub("replaced_token_detection", "bidirectional", "encoder",
                   sentence_scoring="masked_pll")
    result = evaluate_minimal_pairs(uniform_lm(), electra, toy_corpus())
    assert result["accuracy"] is None
    assert "MLM head" in result["reason"]


def test_denoising_pll_builds_one_span_per_token():
    examples = list(_denoising_examples([[7, 8]], sentinel_id=110,
                                        eos_id=3))
    assert examples == [([110, 8, 3], [110, 7, 3], None, 0),
                        ([7, 110, 3], [110, 8, 3], None, 0)]
    # A uniform decoder scores 3 targets per token at log(1/V) each.
    pll = denoising_pseudo_log_likelihood(uniform_lm(), [[7, 8, 9], [7]],
                                          sentinel_id=110, eos_id=3)
    np.testing.assert_allclose(pll, [9 * -math.log(V), 3 * -math.log(V)],
                               rtol=1e-6)
    denoiser = Stub("span_corruption", "prefix",
                    sentence_scoring="denoising_pll")
    assert scoring_kind(uniform_lm(), denoiser) == ("denoising_pll", None)
    result = evaluate_minimal_pairs(uniform_lm(), denoiser, toy_corpus(
        [successor_text(30)]), num_pairs=6)
    assert result["scoring"] == "denoising_pll" and result["pairs"] == 6


def test_replacement_words_come_from_frequent_held_out_words():
    pairs = make_minimal_pairs([PROSE * 3], 30, seed=1,
                               perturbations=["replace"])
    counts = Counter(w.strip(".,!?").lower() for w in PROSE.split())
    for p in pairs:
        new = set(p["bad"].lower().split()) - set(p["good"].lower().split())
        assert all(counts[w.strip(".,!?")] > 0 for w in new)
