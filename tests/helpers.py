"""Fixtures shared by test modules: a tiny text corpus and probe task, a
tiny run config over it, a test-only next-token objective with data it
learns quickly, tiny backbones and a short fit that must lower the loss."""

import os

import keras
import numpy as np

from keras_objectives.config import base_config
from keras_objectives.config import set_model_size
from keras_objectives.layers.lm_head import LMHead
from keras_objectives.models import backbone_outputs
from keras_objectives.models import required_inputs
from keras_objectives.objectives import Objective
from keras_objectives.objectives import register
from keras_objectives.objectives.registry import _REGISTRY

WORDS = ("the cat dog bird sat ran saw ate big small red old young house "
         "tree road river town king queen man woman child day night and "
         "but with from over under into quickly slowly happily").split()


def write_corpus(root, label_in_context=False):
    """Tiny train/validation text files and a 2-class probe file.

    Args:
        root: the directory to write into.
        label_in_context: put the probe's label word mid-sentence (the
            probe must then use context); else it is the first word.

    Returns:
        `(train_dir, validation_file, probe_file)`.
    """
    rng = np.random.default_rng(0)

    def sentence(topic):
        words = rng.choice(WORDS, size=int(rng.integers(6, 12)))
        return " ".join([topic, *words]).capitalize() + "."

    train = os.path.join(root, "train")
    os.makedirs(train)
    for d in range(12):
        with open(os.path.join(train, f"doc{d}.txt"), "w") as f:
            f.write(" ".join(sentence("the") for _ in range(40)) + "\n")
    valid = os.path.join(root, "valid.txt")
    with open(valid, "w") as f:
        f.write(" ".join(sentence("a") for _ in range(60)) + "\n")
    probe = os.path.join(root, "probe.txt")
    with open(probe, "w") as f:
        for i in range(60):
            label = i % 2
            word = "cat" if label else "dog"
            if label_in_context:
                words = sentence("the").split()
                words.insert(3, word)
                text = " ".join(words)
            else:
                text = sentence(word)
            f.write(f"{label} {text}\n")
    return train, valid, probe


def tiny_base(train, valid):
    """The tiny run config over `write_corpus`'s text (length 32)."""
    base = set_model_size(base_config(), "tiny")
    base["sequence_length"] = 32
    base["data"].update(source=train, validation=valid, vocabulary_size=400)
    base["model"]["max_sequence_length"] = 64
    base["training"].update(global_batch_size=4, eval_batches=2)
    return base


# --- a test-only objective and data it learns ---------------------------
VOCAB = 200
LENGTH = 12
DIMS = dict(num_layers=2, num_heads=2, hidden_dim=32, intermediate_dim=64,
            max_sequence_length=16, dropout=0.0)


class NextTokenLM(Objective):
    """Test-only: next-token logits at every position, tied head."""

    attention_mode = "causal"
    architecture = "decoder"

    def build_graph(self, backbone):
        inputs = {
            name: keras.Input((self.sequence_length,), dtype="int32",
                              name=name)
            for name in required_inputs(backbone, self.attention_mode)
        }
        hidden = backbone_outputs(backbone, inputs, self.attention_mode)
        head = LMHead(token_embedding=backbone.token_embedding, name="lm_head")
        return inputs, head(hidden)


if "test_next_token_lm" not in _REGISTRY:
    register("test_next_token_lm")(NextTokenLM)


def counting_data(num_examples=32, seed=0, documents=False):
    """Token t+1 = token t + 1 over the non-reserved ids: easy to learn.

    Returns `(x, y, sample_weight)` of `LENGTH` positions; with
    `documents`, `x` has `document_ids` of two documents per row.
    """
    rng = np.random.default_rng(seed)
    start = rng.integers(0, VOCAB - 111, (num_examples, 1))
    seq = (start + np.arange(LENGTH + 1)) % (VOCAB - 111) + 111
    seq = seq.astype("int32")
    x = {
        "token_ids": seq[:, :-1],
        "padding_mask": np.ones((num_examples, LENGTH), "int32"),
    }
    if documents:
        x["document_ids"] = np.repeat([[0] * 5 + [1] * 7], num_examples, 0)
    return x, seq[:, 1:], np.ones((num_examples, LENGTH), "float32")


def compile_pretrainer(model, **kwargs):
    """Adam at 1e-2 with the objective's loss and metrics."""
    model.compile(
        optimizer=keras.optimizers.Adam(1e-2),
        loss=model.objective.loss(),
        weighted_metrics=model.objective.metrics(),
        **kwargs,
    )


def next_token_pretrainer(**backbone_kwargs):
    """A `Pretrainer` of `NextTokenLM` on a `make_backbone("body", ...)`."""
    from keras_objectives.models import Pretrainer
    from keras_objectives.models import make_backbone
    from tests.test_case import tiny_special_tokens

    objective = NextTokenLM(tiny_special_tokens(VOCAB),
                            sequence_length=LENGTH, seed=1)
    return Pretrainer(make_backbone("body", VOCAB, **backbone_kwargs),
                      objective)


# --- tiny backbones and a short fit (the objective tests) -----------------
def tiny_body(**kwargs):
    """A 1-block `TransformerBody` of width 32 (prefix attention)."""
    from keras_objectives.models import TransformerBody
    from tests.test_case import tiny_special_tokens

    args = dict(vocabulary_size=tiny_special_tokens().vocabulary_size,
                num_layers=1, num_heads=2, hidden_dim=32, intermediate_dim=64,
                max_sequence_length=64, attention_mode="prefix")
    args.update(kwargs)
    return TransformerBody(**args)


def tiny_t5():
    """A 1-block keras-hub `T5Backbone` of width 32."""
    import keras_hub

    from tests.test_case import tiny_special_tokens

    return keras_hub.models.T5Backbone(
        vocabulary_size=tiny_special_tokens().vocabulary_size, num_layers=1,
        num_heads=2, hidden_dim=32, intermediate_dim=64, dropout=0.0,
    )


def tiny_bart(num_layers=1):
    """A keras-hub `BartBackbone` of width 32 and length 32."""
    import keras_hub

    from tests.test_case import tiny_special_tokens

    return keras_hub.models.BartBackbone(
        vocabulary_size=tiny_special_tokens().vocabulary_size,
        num_layers=num_layers, num_heads=2, hidden_dim=32,
        intermediate_dim=64, dropout=0.0, max_sequence_length=32,
    )


def fit_lowers_loss(test, objective, backbone, steps=20, strategy=None):
    """`steps` Adam steps on random packed rows lower the loss by 0.5.

    Args:
        backbone: a backbone, or a function that builds one (called inside
            `strategy.scope()`).
    """
    import tensorflow as tf

    from keras_objectives.models.pretrainer import Pretrainer
    from tests.test_case import packed_features

    keras.utils.set_random_seed(0)
    rows = packed_features(batch=32, length=objective.raw_length,
                           num_padding=2, seed=1)
    ds = tf.data.Dataset.from_tensor_slices(rows).batch(
        8, drop_remainder=True).map(objective)
    strategy = strategy or tf.distribute.get_strategy()
    with strategy.scope():
        body = backbone if isinstance(backbone, keras.Model) else backbone()
        model = Pretrainer(body, objective)
        model.compile(keras.optimizers.Adam(1e-2), loss=objective.loss(),
                      weighted_metrics=objective.metrics())
    before = model.evaluate(ds, verbose=0, return_dict=True)["loss"]
    model.fit(ds.repeat(), steps_per_epoch=steps, epochs=1, verbose=0)
    after = model.evaluate(ds, verbose=0, return_dict=True)["loss"]
    print(f"{objective.name} {getattr(objective, 'form', '')}: "
          f"{before:.3f} -> {after:.3f}")
    test.assertLess(after, before - 0.5)
    return model
