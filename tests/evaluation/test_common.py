"""Shared toy fixtures of the evaluation tests, and tests of `common`.

The toys have known probabilities, so every number the instruments report
can be checked by hand:

* `uniform_lm`: logits 0 everywhere, `p = 1 / V` for every token;
* `successor_lm`: puts almost all mass on `token_id + 1`, the next word of
  `WORDS`, so sentences made of consecutive `WORDS` are near-certain;
* `successor_mlm`: at each masked position predicts the successor of the
  left neighbour, through `mask_positions` as a masked-LM head does.
"""

import types

import keras
import keras_hub
import numpy as np
import pytest

from keras_objectives.data.special_tokens import SpecialTokens
from keras_objectives.data.special_tokens import reserved_tokens
from keras_objectives.evaluation import common

WORDS = ("the cat dog sat on mat ran to house big small saw bird tree in "
         "and old man fire by she walked town we").split()
PUNCTUATION = [".", ",", "!", "?"]
VOCABULARY = reserved_tokens() + WORDS + PUNCTUATION
FIRST_WORD = len(reserved_tokens())
V = len(VOCABULARY)
BIG = 30.0


def successor_text(num_sentences=40):
    """Sentences of 4 to 7 consecutive `WORDS` (cycling starts)."""
    out = []
    for i in range(num_sentences):
        words = 4 + (i // 20) % 4
        start = i % (len(WORDS) - words)
        chunk = WORDS[start:start + words]
        out.append(" ".join([chunk[0].capitalize()] + chunk[1:]) + ".")
    return " ".join(out)


def toy_corpus(texts=None):
    tokenizer = keras_hub.tokenizers.WordPieceTokenizer(
        vocabulary=VOCABULARY, lowercase=True, oov_token="[UNK]")
    return types.SimpleNamespace(
        tokenizer=tokenizer,
        special_tokens=SpecialTokens.from_vocabulary(VOCABULARY),
        vocabulary=VOCABULARY,
        validation_texts=texts if texts is not None else [successor_text()],
    )


class Stub:
    """An objective-like object: name, attention mode, special tokens."""

    def __init__(self, name, attention_mode, architecture="decoder",
                 sequence_length=32, **attributes):
        self.name = name
        self.attention_mode = attention_mode
        self.architecture = architecture
        self.sequence_length = sequence_length
        self.special_tokens = SpecialTokens.from_vocabulary(VOCABULARY)
        self.__dict__.update(attributes)


def _inputs(*names):
    dtypes = {"mask_weights": "float32"}
    return {n: keras.Input((None,), dtype=dtypes.get(n, "int32"), name=n)
            for n in names}


def uniform_lm():
    inputs = _inputs("token_ids", "padding_mask")
    logits = keras.layers.Lambda(lambda t: keras.ops.zeros(
        (keras.ops.shape(t)[0], keras.ops.shape(t)[1], V)))(
        inputs["token_ids"])
    return keras.Model(inputs, logits)


def successor_lm():
    inputs = _inputs("token_ids", "padding_mask")
    logits = keras.layers.Lambda(lambda t: BIG * keras.ops.one_hot(
        t + 1, V))(inputs["token_ids"])
    return keras.Model(inputs, logits)


def successor_mlm(names=("token_ids", "padding_mask", "mask_positions")):
    inputs = _inputs(*names)

    def head(args):
        token_ids, positions = args
        left = keras.ops.take_along_axis(token_ids, positions - 1, axis=1)
        return BIG * keras.ops.one_hot(left + 1, V)

    logits = keras.layers.Lambda(head)(
        [inputs["token_ids"], inputs["mask_positions"]])
    return keras.Model(inputs, logits)


def tiny_body(attention_mode="bidirectional", length=32, seed=0):
    from keras_objectives.models import TransformerBody

    keras.utils.set_random_seed(seed)
    return TransformerBody(
        vocabulary_size=V, num_layers=1, num_heads=2, hidden_dim=16,
        intermediate_dim=32, max_sequence_length=length,
        attention_mode=attention_mode)


# --- tests of `common` ---------------------------------------------------


def test_encode_adds_start_and_end_and_pads_by_position():
    corpus = toy_corpus()
    token_ids, padding_mask, cut = common.encode(
        corpus, ["the cat", "the cat dog sat on mat"], 6)
    st = corpus.special_tokens
    the, cat = FIRST_WORD, FIRST_WORD + 1
    # Rows start with [SEP], as every packed document does.
    assert token_ids[0].tolist() == [st.eos_id, the, cat, st.eos_id, 0, 0]
    assert padding_mask[0].tolist() == [True] * 4 + [False] * 2
    # Cut to the length (the end token does not fit): counted.
    assert token_ids[1, 0] == st.eos_id and padding_mask[1].all()
    assert cut == 1


def test_model_feed_fills_declared_inputs_and_names_unknown_ones():
    model = successor_mlm(("token_ids", "padding_mask", "mask_positions",
                           "mask_weights", "original_token_ids"))
    feed = common.model_feed(model, [[2, 5, 3]], [[1, 1, 1]],
                             mask_positions=[[1]],
                             original_token_ids=[[2, 9, 3]])
    assert sorted(feed) == sorted(common.input_names(model))
    assert feed["mask_weights"].tolist() == [[1.0]]
    assert feed["original_token_ids"].tolist() == [[2, 9, 3]]
    inputs = _inputs("token_ids", "speaker_ids")
    odd = keras.Model(inputs, keras.layers.Lambda(
        lambda a: a[0] + a[1])([inputs["token_ids"], inputs["speaker_ids"]]))
    with pytest.raises(ValueError, match="speaker_ids"):
        common.model_feed(odd, [[1]], [[1]])


def test_batches_pad_the_last_batch_to_a_static_shape():
    out = list(common.batches({"a": np.arange(5)}, 2))
    assert [c for c, _ in out] == [2, 2, 1]
    assert [b["a"].tolist() for _, b in out] == [[0, 1], [2, 3], [4, 4]]


@pytest.mark.parametrize(
    "body_mode, trained, expected",
    [
        ("bidirectional", "bidirectional", "bidirectional"),
        ("causal", "causal", "causal"),
        ("prefix", "prefix", "bidirectional"),
        ("prefix", "causal", "causal"),
    ],
)
def test_feature_attention_mode_per_arm(body_mode, trained, expected):
    body = tiny_body(body_mode, length=8)
    assert common.feature_attention_mode(
        body, Stub("x", trained)) == expected


def test_mean_pooled_features_ignore_padding():
    body = tiny_body("causal", length=8)
    objective = Stub("causal_lm", "causal")
    token_ids = np.array([[2, 111, 112, 3, 0, 0], [2, 111, 112, 3, 7, 9]])
    short = np.array([[1, 1, 1, 1, 0, 0]] * 2, bool)
    pooled = common.mean_pooled_features(body, objective, token_ids, short)
    # Causal: the real prefix is identical, what follows is padding.
    np.testing.assert_allclose(pooled[0], pooled[1], atol=1e-5)
    full = common.mean_pooled_features(body, objective, token_ids,
                                       np.ones((2, 6), bool))
    assert not np.allclose(full[0], full[1], atol=1e-4)


def test_validation_texts_errors_clearly_without_held_out_text():
    assert common.validation_texts(toy_corpus(["a b"])) == ["a b"]
    with pytest.raises(ValueError, match="texts="):
        common.validation_texts(types.SimpleNamespace())
