"""BART's document corruption as a seeded preprocessing layer."""

import tensorflow as tf

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.layers.inputs_targets_transform import (
    InputsTargetsTransform,
)
from keras_objectives.layers.seeded_transform import padding_mask_of
from keras_objectives.ops import denoising
from keras_objectives.ops import segments
from keras_objectives.utils import check_int
from keras_objectives.utils import check_rate
from keras_objectives.utils import check_rates_sum
from keras_objectives.utils import invalid


def _check_ids(argument, ids):
    ids = [] if ids is None else ids
    if isinstance(ids, int) or not all(
        isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in ids
    ):
        raise invalid(argument, ids, "a list of non-negative int token ids")
    return sorted(set(int(i) for i in ids))


@keras_objectives_export("keras_objectives.layers.BARTNoiser")
class BARTNoiser(InputsTargetsTransform):
    """Corrupt packed rows with BART's noising functions.

    The defaults are the paper's final setting: text infilling of 30% of
    the tokens with Poisson(3) spans, each span replaced by one `[MASK]`
    (a length-0 span inserts one), then all sentences permuted. Token
    masking, token deletion and document rotation are off by default and
    each has its own rate. Where fairseq's code differs from the paper:

    | knob | here (paper) | fairseq `denoising` task |
    |---|---|---|
    | `infill_rate` | 0.3 of tokens | `--mask 0.0`, of whole words |
    | spans | one `[MASK]` per span | `--replace-length -1`: one per token |
    | `poisson_lambda` | 3.0 | `--poisson-lambda 3.0` |
    | `permute_sentences_rate` | 1.0 | `--permute-sentences 0.0` |
    | `rotate_rate` | 0.0 | `--rotate 0.5` |
    | random replacement | none | `--mask-random 0.0` |

    Semantics (per row, vectorized):

    * documents are the runs of real tokens between
      `document_boundary_token_ids` (for example `[CLS]`, `[SEP]`),
      padding and `document_ids` changes. Boundary tokens and padding
      never move and are never corrupted;
    * sentence permutation (first, on clean text, as fairseq): a sentence
      ends after the last of a run of `sentence_end_token_ids` (the ids of
      `.`, `!`, `?`) or at the document's end; each document's sentences
      are shuffled with probability `permute_sentences_rate` (fairseq
      shuffles that fraction of the sentences; both mean "all" at 1.0).
      Without `sentence_end_token_ids` a document is one sentence;
    * document rotation: each document, with probability `rotate_rate`,
      is rotated to start at a uniformly chosen token (fairseq rotates
      after masking, here before, so the new start is never a `[MASK]`);
    * text infilling, token masking and token deletion act on disjoint
      sets of *eligible* tokens (movable, not in `special_token_ids`), of
      `round(rate * n)` tokens each for `n` eligible tokens in the row
      (fairseq: `ceil`). Spans never overlap
      (`keras_objectives.ops.denoising.infilling_spans`); a span that
      straddles a special token gets a `[MASK]` on each side;
    * the corrupted row has a static `output_length` (default: the input
      length). Only length-0 spans lengthen a row; the rare insertions
      that would not fit are dropped.

    Args:
        mask_token_id: int, the `[MASK]` id, the only token ever inserted.
        pad_token_id: int, the padding id of the output.
        special_token_ids: list of ids never masked or deleted.
        document_boundary_token_ids: list of ids that delimit documents.
        sentence_end_token_ids: list of ids that end a sentence.
        infill_rate: float, fraction of eligible tokens covered by spans.
        poisson_lambda: float, the span-length Poisson mean.
        max_span_length: int or `None`. Span lengths are truncated to it
            (and renormalized); `None` is fairseq's cut where the pmf falls
            below 1e-7 (17 for lambda 3).
        mask_rate: float, fraction of tokens replaced by `[MASK]`.
        delete_rate: float, fraction of tokens deleted.
        rotate_rate: float, probability that a document is rotated.
        permute_sentences_rate: float, probability that a document's
            sentences are shuffled.
        output_length: int or `None`, the corrupted length.
        form: `"features"` (dict of `inputs`, `inputs_padding_mask`: the
            corrupted rows, and `targets`, `targets_padding_mask`: the
            original rows, which BART reconstructs in full),
            `"encoder_decoder"` (`(x, y, sample_weight)` for
            `keras_hub.models.BartBackbone`: targets shifted right behind
            `decoder_start_token_id`) or `"decoder"` (`(x, y,
            sample_weight)` for a prefix-attention decoder: the stream
            `corrupted ++ original` shifted right, `prefix_mask` over the
            start token and the corrupted part, loss on the original part;
            `keras_objectives.ops.prefix_lm`).
        sequence_length: int or `None`, the `"decoder"` stream length
            (default and minimum: `output_length` + the input length).
        decoder_start_token_id: int or `None` (`pad_token_id`). BART and
            fairseq start the decoder with EOS.
        seed, dupe_factor: see `SeededTransform`.

    Call arguments:
        inputs: `token_ids` or a dict with `token_ids`, `padding_mask` and
            optionally `document_ids`, `example_ids`, `epoch`; `[B, R]` or
            `[R]`.

    Examples:

    >>> noiser = BARTNoiser(mask_token_id=4, special_token_ids=[0, 2, 3, 4],
    ...     document_boundary_token_ids=[2, 3], sentence_end_token_ids=[5],
    ...     seed=2)
    >>> tokens = tf.constant([2, 20, 21, 22, 5, 23, 24, 25, 5, 3, 0, 0])
    >>> out = noiser({"token_ids": tokens, "padding_mask": tokens != 0})
    >>> out["inputs"].numpy().tolist()
    [2, 23, 4, 5, 20, 21, 22, 5, 3, 0, 0, 0]
    >>> out["targets"].numpy().tolist() == tokens.numpy().tolist()
    True

    Reference:
        [Lewis et al., 2019. BART: Denoising Sequence-to-Sequence
        Pre-training](https://arxiv.org/abs/1910.13461).
    """

    def __init__(
        self,
        mask_token_id,
        pad_token_id=0,
        special_token_ids=None,
        document_boundary_token_ids=None,
        sentence_end_token_ids=None,
        infill_rate=0.3,
        poisson_lambda=3.0,
        max_span_length=None,
        mask_rate=0.0,
        delete_rate=0.0,
        rotate_rate=0.0,
        permute_sentences_rate=1.0,
        output_length=None,
        form="features",
        sequence_length=None,
        decoder_start_token_id=None,
        **kwargs,
    ):
        super().__init__(pad_token_id=pad_token_id, form=form,
                         decoder_start_token_id=decoder_start_token_id,
                         **kwargs)
        self.mask_token_id = check_int("mask_token_id", mask_token_id, 0)
        self.special_token_ids = _check_ids(
            "special_token_ids", special_token_ids
        )
        self.document_boundary_token_ids = _check_ids(
            "document_boundary_token_ids", document_boundary_token_ids
        )
        self.sentence_end_token_ids = _check_ids(
            "sentence_end_token_ids", sentence_end_token_ids
        )
        self.infill_rate = check_rate("infill_rate", infill_rate)
        try:
            self.poisson_lambda = float(poisson_lambda)
        except (TypeError, ValueError):
            self.poisson_lambda = -1.0
        if not 0.0 < self.poisson_lambda <= 64.0:
            raise invalid(
                "poisson_lambda", poisson_lambda, "a float in (0, 64]",
                "BART uses 3.0",
            )
        self.max_span_length = check_int(
            "max_span_length", max_span_length, minimum=1, allow_none=True
        )
        self.mask_rate = check_rate("mask_rate", mask_rate)
        self.delete_rate = check_rate("delete_rate", delete_rate)
        check_rates_sum(
            ["infill_rate", "mask_rate", "delete_rate"],
            [self.infill_rate, self.mask_rate, self.delete_rate],
        )
        self.rotate_rate = check_rate("rotate_rate", rotate_rate)
        self.permute_sentences_rate = check_rate(
            "permute_sentences_rate", permute_sentences_rate
        )
        self.output_length = check_int(
            "output_length", output_length, minimum=1, allow_none=True
        )
        self.sequence_length = check_int(
            "sequence_length", sequence_length, minimum=2, allow_none=True
        )

    def budget(self, raw_length):
        """Static `(output_length, sequence_length)` for rows of `raw_length`.

        Raises if the `"decoder"` stream cannot hold the corrupted and the
        original row.
        """
        output_length = self.output_length or raw_length
        if self.form != "decoder":
            return output_length, None
        need = output_length + raw_length
        if self.sequence_length is not None and self.sequence_length < need:
            raise invalid(
                "sequence_length", self.sequence_length,
                f"at least {need} (the corrupted row, {output_length}, plus "
                f"the original row, {raw_length})",
                "Raise it, or cut rows to half of it (see the objective's "
                "`raw_length`)",
            )
        return output_length, self.sequence_length or need

    def corrupt(self, features, keys):
        """The corruption with its bookkeeping, on batched features.

        Returns a dict of `token_ids` and `padding_mask` (the corrupted
        rows) and, aligned with the input row, `source_order` (gather
        indices of permutation and rotation) and, over the permuted row,
        `noise_mask` (infilled tokens), `span_start` (tokens that became a
        span's `[MASK]`), `token_mask`, `delete_mask`, and
        `insert_positions` (`[B, R]`: the position each length-0 span's
        `[MASK]` went before, or -1).
        """
        token_ids = tf.cast(features["token_ids"], tf.int32)
        real = padding_mask_of(features, self.pad_token_id)
        length = token_ids.shape[-1]
        output_length, _ = self.budget(length)
        pos = tf.broadcast_to(tf.range(length), tf.shape(token_ids))
        movable, segment_start = segments.document_segments(
            token_ids, real, self.document_boundary_token_ids,
            features.get("document_ids"),
        )
        order = pos
        if self.permute_sentences_rate > 0:
            order = denoising.sentence_permutation(
                keys, token_ids, movable, segment_start,
                self.sentence_end_token_ids, self.permute_sentences_rate,
            )
        if self.rotate_rate > 0:
            rotation = denoising.document_rotation(
                keys, movable, segment_start, self.rotate_rate
            )
            order = tf.gather(order, rotation, batch_dims=1)
        tokens = tf.gather(token_ids, order, batch_dims=1)
        specials = self.special_token_ids + [
            self.mask_token_id, self.pad_token_id
        ]
        eligible = movable & ~segments.is_any_of(tokens, specials)
        n = tf.reduce_sum(tf.cast(eligible, tf.int32), axis=-1)

        noise = span_start = tf.zeros_like(eligible)
        inserts = tf.fill(tf.shape(token_ids), -1)
        if self.infill_rate > 0:
            noise, span_start, inserts = denoising.infilling_spans(
                keys, eligible, self.infill_rate, self.poisson_lambda,
                self.max_span_length,
            )
        # A span cut by a special token gets a [MASK] on each side of it.
        mask_start = noise & (
            span_start | ~segments.shift_right(noise, False)
        )
        token_mask = delete_mask = tf.zeros_like(eligible)
        if self.mask_rate > 0 or self.delete_rate > 0:
            token_mask, delete_mask = denoising.select_tokens(
                keys, eligible & ~noise, n,
                [self.mask_rate, self.delete_rate],
            )

        # Events: every kept token at key 2i+1, every inserted [MASK] at
        # key 2p (before position p); one sort lays them out.
        keep = real & ~(noise & ~mask_start) & ~delete_mask
        values = tf.where(mask_start | token_mask, self.mask_token_id,
                          tokens)
        room = output_length - tf.reduce_sum(tf.cast(keep, tf.int32), -1)
        is_insert = inserts >= 0
        rank = tf.cumsum(tf.cast(is_insert, tf.int32), -1, exclusive=True)
        is_insert &= rank < room[:, None]
        mask_fill = tf.fill(tf.shape(inserts), self.mask_token_id)
        out, out_mask = segments.compact_by_key(
            tf.concat([values, mask_fill], 1),
            tf.concat([2 * pos + 1, 2 * inserts], 1),
            tf.concat([keep, is_insert], 1),
            output_length,
            self.pad_token_id,
        )
        return {
            "token_ids": out,
            "padding_mask": out_mask,
            "source_order": order,
            "noise_mask": noise,
            "span_start": mask_start,
            "token_mask": token_mask,
            "delete_mask": delete_mask,
            "insert_positions": tf.where(is_insert, inserts, -1),
        }

    def transform(self, features, keys):
        token_ids = tf.cast(features["token_ids"], tf.int32)
        real = padding_mask_of(features, self.pad_token_id)
        _, sequence_length = self.budget(token_ids.shape[-1])
        out = self.corrupt(features, keys)
        # Targets: the original row, left-aligned (padding by position).
        targets = tf.where(real, token_ids, self.pad_token_id)
        return self.format_example(
            out["token_ids"],
            tf.reduce_sum(tf.cast(out["padding_mask"], tf.int32), -1),
            targets,
            tf.reduce_sum(tf.cast(real, tf.int32), -1),
            sequence_length=sequence_length,
        )

    def get_config(self):
        return {
            **super().get_config(),
            "mask_token_id": self.mask_token_id,
            "special_token_ids": self.special_token_ids,
            "document_boundary_token_ids": self.document_boundary_token_ids,
            "sentence_end_token_ids": self.sentence_end_token_ids,
            "infill_rate": self.infill_rate,
            "poisson_lambda": self.poisson_lambda,
            "max_span_length": self.max_span_length,
            "mask_rate": self.mask_rate,
            "delete_rate": self.delete_rate,
            "rotate_rate": self.rotate_rate,
            "permute_sentences_rate": self.permute_sentences_rate,
            "output_length": self.output_length,
            "sequence_length": self.sequence_length,
        }
