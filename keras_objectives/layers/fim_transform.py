"""Fill-in-the-middle rearrangement as a seeded preprocessing layer."""

import keras
import tensorflow as tf

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.layers.seeded_transform import SeededTransform
from keras_objectives.layers.seeded_transform import padding_mask_of
from keras_objectives.ops import fim
from keras_objectives.utils import check_choice
from keras_objectives.utils import check_int
from keras_objectives.utils import check_rate
from keras_objectives.utils import invalid

FORMS = ("features", "causal_lm")


@keras_objectives_export("keras_objectives.layers.FIMTransform")
class FIMTransform(SeededTransform):
    """Rearrange documents for fill-in-the-middle training of a causal LM.

    Each document is cut at two uniform points into prefix, middle and
    suffix, and, with probability `fim_rate`, rearranged to

    * PSM: `[PRE] prefix [SUF] suffix [MID] middle`, or, with probability
      `spm_rate`,
    * SPM: `[PRE] [SUF] suffix [MID] prefix middle`.

    Other documents stay plain text. Documents are the runs of real tokens
    between `document_boundary_token_ids` (and `document_ids` changes):
    pass `[CLS]` and `[SEP]` for the paper's document-level FIM, where the
    document's `[SEP]` follows its middle as the end-of-middle token; with
    no boundaries the whole row is one document (the paper's context-level
    FIM). Cuts are at token level (the paper cuts characters before
    tokenizing).

    Every rearranged document adds 3 tokens, so the output is 3 longer
    than the input (`output_length`, default input length + 3): feed it
    `sequence_length + 1 - 3` raw tokens for a causal LM of
    `sequence_length` inputs. A row never loses a token unless two or more
    of its documents are rearranged and its padding cannot absorb the
    extra sentinels; then its last tokens are dropped (Megatron-LM's FIM
    truncates too).

    Args:
        prefix_token_id, middle_token_id, suffix_token_id: ints, the ids of
            `[PRE]`, `[MID]`, `[SUF]`.
        pad_token_id: int, the padding id of the output.
        document_boundary_token_ids: list of ids that delimit documents
            (default: none, one document per row).
        fim_rate: float, probability that a document is rearranged (0.5,
            the paper's main rate; it finds rates up to 0.9 leave
            left-to-right quality unchanged).
        spm_rate: float, probability that a rearranged document uses SPM
            (0.5, Megatron-LM's `--fim-spm-rate`; the paper trains PSM and
            SPM jointly).
        output_length: int or `None` (input length + 3).
        form: `"features"` (dict of `token_ids`, `padding_mask`, and
            `document_ids` when given) or `"causal_lm"` (`(x, y,
            sample_weight)`: inputs are the first `output_length - 1`
            positions, targets the next token, weighted on real tokens).
        seed, dupe_factor: see `SeededTransform`.

    Call arguments:
        inputs: `token_ids` or a dict with `token_ids`, `padding_mask` and
            optionally `document_ids`, `example_ids`, `epoch`; `[B, R]` or
            `[R]`.

    Examples:

    >>> layer = FIMTransform(prefix_token_id=8, middle_token_id=9,
    ...     suffix_token_id=10, document_boundary_token_ids=[3],
    ...     fim_rate=1.0, seed=1)
    >>> tokens = tf.constant([20, 21, 22, 23, 24, 3, 0])
    >>> out = layer({"token_ids": tokens, "padding_mask": tokens != 0})
    >>> out["token_ids"].numpy().tolist()
    [8, 20, 21, 10, 24, 9, 22, 23, 3, 0]

    Reference:
        [Bavarian et al., 2022. Efficient Training of Language Models to
        Fill in the Middle](https://arxiv.org/abs/2207.14255).
    """

    def __init__(
        self,
        prefix_token_id,
        middle_token_id,
        suffix_token_id,
        pad_token_id=0,
        document_boundary_token_ids=None,
        fim_rate=0.5,
        spm_rate=0.5,
        output_length=None,
        form="features",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.prefix_token_id = check_int("prefix_token_id", prefix_token_id, 0)
        self.middle_token_id = check_int("middle_token_id", middle_token_id, 0)
        self.suffix_token_id = check_int("suffix_token_id", suffix_token_id, 0)
        self.pad_token_id = check_int("pad_token_id", pad_token_id, 0)
        ids = document_boundary_token_ids or []
        if isinstance(ids, int) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in ids
        ):
            raise invalid(
                "document_boundary_token_ids", document_boundary_token_ids,
                "a list of int token ids",
            )
        self.document_boundary_token_ids = sorted(set(ids))
        self.fim_rate = check_rate("fim_rate", fim_rate)
        self.spm_rate = check_rate("spm_rate", spm_rate)
        self.output_length = check_int(
            "output_length", output_length, minimum=2, allow_none=True
        )
        self.form = check_choice("form", form, FORMS)

    def rearrange(self, features, keys):
        """`ops.fim.fim_rearrange` on batched features, with bookkeeping."""
        token_ids = features["token_ids"]
        return fim.fim_rearrange(
            keys,
            token_ids,
            padding_mask_of(features, self.pad_token_id),
            prefix_id=self.prefix_token_id,
            middle_id=self.middle_token_id,
            suffix_id=self.suffix_token_id,
            pad_id=self.pad_token_id,
            document_boundary_ids=self.document_boundary_token_ids,
            document_ids=features.get("document_ids"),
            fim_rate=self.fim_rate,
            spm_rate=self.spm_rate,
            output_length=self.output_length or token_ids.shape[-1] + 3,
        )

    def transform(self, features, keys):
        out = self.rearrange(features, keys)
        names = ["token_ids", "padding_mask"]
        if "document_ids" in out:
            names.append("document_ids")
        if self.form == "features":
            return {name: out[name] for name in names}
        x = {name: out[name][:, :-1] for name in names}
        y = out["token_ids"][:, 1:]
        sample_weight = tf.cast(out["padding_mask"][:, 1:], tf.float32)
        return keras.utils.pack_x_y_sample_weight(x, y, sample_weight)

    def get_config(self):
        return {
            **super().get_config(),
            "prefix_token_id": self.prefix_token_id,
            "middle_token_id": self.middle_token_id,
            "suffix_token_id": self.suffix_token_id,
            "pad_token_id": self.pad_token_id,
            "document_boundary_token_ids": self.document_boundary_token_ids,
            "fim_rate": self.fim_rate,
            "spm_rate": self.spm_rate,
            "output_length": self.output_length,
            "form": self.form,
        }
