"""BART denoising: reconstruct the original document from a corrupted one."""

import warnings

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.layers.bart_noiser import BARTNoiser
from keras_objectives.objectives.inputs_to_targets import InputsToTargets
from keras_objectives.objectives.registry import register
from keras_objectives.utils import invalid

# The tokens that end a sentence, for sentence permutation.
SENTENCE_ENDS = (".", "!", "?")


@keras_objectives_export("keras_objectives.objectives.Denoising")
@register("denoising")
class Denoising(InputsToTargets):
    """BART denoising: corrupt a document, predict the whole original.

    The corruption is `keras_objectives.layers.BARTNoiser`, by default the
    paper's final setting: text infilling of 30% of the tokens in spans of
    Poisson(3) length, each span replaced by one `[MASK]` (a length-0 span
    inserts one), and every document's sentences permuted. Token masking,
    token deletion and document rotation have their own rates, off by
    default (fairseq's code defaults differ from the paper: `--rotate 0.5`,
    masking off; see `BARTNoiser`). Documents are delimited by `[CLS]` and
    `[SEP]`; these, padding and every special token are never corrupted.
    The targets are the whole original row.

    Two forms (see `keras_objectives.objectives.InputsToTargets`):

    * `form="decoder"` (default), on the shared body with
      `attention_mode="prefix"`: the stream `corrupted ++ original`,
      shifted right behind EOS, attends bidirectionally over the start
      token and the corrupted part (`prefix_mask`) and causally over the
      original part, which alone carries the loss. Both parts get half of
      `sequence_length`: `raw_length = sequence_length // 2`, and the
      corrupted row never outgrows the original one (64 raw tokens at 128).
    * `form="encoder_decoder"`, on `keras_hub.models.BartBackbone`: the
      encoder reads the corrupted row (`encoder_token_ids`,
      `encoder_padding_mask`), the decoder the original shifted right
      behind EOS (BART's and fairseq's decoder start), with logits tied to
      the token embedding; `raw_length = sequence_length`.

    Args:
        special_tokens: `SpecialTokens` of the vocabulary (needs `[PAD]`,
            `[SEP]` and `[MASK]`).
        sequence_length: int, the stream length (decoder form) or the
            encoder and decoder length (encoder-decoder form).
        seed: int, the data seed.
        form: `"decoder"` or `"encoder_decoder"`.
        sentence_end_ids: list of the ids that end a sentence (the
            tokenizer's `.`, `!`, `?`; `bind_vocabulary` fills them in).
            Without them each document is one sentence and sentence
            permutation does nothing.
        infill_rate: float, share of tokens covered by infilled spans (0.3).
        poisson_lambda: float, mean span length (3.0).
        max_span_length: int or `None` (fairseq's truncation, 17 at 3.0).
        mask_rate: float, share of tokens replaced by `[MASK]` (0.0).
        delete_rate: float, share of tokens deleted (0.0).
        rotate_rate: float, probability that a document is rotated (0.0).
        permute_sentences_rate: float, probability that a document's
            sentences are shuffled (1.0).
        dupe_factor: int or `None`, static corruption (see
            `SeededTransform`).

    Examples:

    >>> import tensorflow as tf
    >>> from keras_objectives.data.special_tokens import (
    ...     SpecialTokens, reserved_tokens)
    >>> st = SpecialTokens.from_vocabulary(reserved_tokens() + ["a", "b"])
    >>> bart = Denoising(st, sequence_length=16, sentence_end_ids=[112])
    >>> bart.raw_length, bart.attention_mode
    (8, 'prefix')
    >>> row = tf.constant([2, 111, 111, 112, 111, 112, 3, 0])
    >>> x, y, w = bart({"token_ids": row, "padding_mask": row != 0})
    >>> sorted(x), y.shape
    (['padding_mask', 'prefix_mask', 'token_ids'], TensorShape([16]))
    >>> Denoising(st, sequence_length=16, form="encoder_decoder",
    ...           sentence_end_ids=[112]).raw_length
    16

    Reference:
        - [Lewis et al., 2019](https://arxiv.org/abs/1910.13461)
    """

    encoder_decoder_backbone = "bart"
    sentence_scoring = "reconstruction_pll"
    layer_arguments = (
        ("sentence_end_ids", "sentence_end_token_ids"), "infill_rate",
        "poisson_lambda", "max_span_length", "mask_rate", "delete_rate",
        "rotate_rate", "permute_sentences_rate", "dupe_factor",
    )
    # BART text infilling: share of tokens masked, Poisson span length.
    search_space = {"infill_rate": [0.15, 0.30, 0.50],
                    "poisson_lambda": [1.0, 3.0]}

    def __init__(
        self,
        special_tokens,
        sequence_length=128,
        seed=0,
        form="decoder",
        sentence_end_ids=None,
        infill_rate=0.3,
        poisson_lambda=3.0,
        max_span_length=None,
        mask_rate=0.0,
        delete_rate=0.0,
        rotate_rate=0.0,
        permute_sentences_rate=1.0,
        dupe_factor=None,
    ):
        super().__init__(special_tokens, sequence_length, seed, form)
        st = self.special_tokens
        decoder = self.form == "decoder"
        self._raw_length = self.sequence_length // 2 if decoder else (
            self.sequence_length
        )
        if self._raw_length < 2:
            raise invalid(
                "sequence_length", self.sequence_length,
                "at least 4 in the decoder form (half for the corrupted "
                "row, half for the original one, each of 2 tokens or more)",
                "Raise `sequence_length`",
            )
        self.inputs_length = self.targets_length = self._raw_length
        boundaries = [i for i in (st.bos_id, st.eos_id) if i is not None]
        self.set_preprocessor(BARTNoiser(
            mask_token_id=st.require("mask_id"),
            pad_token_id=self.pad_id,
            special_token_ids=st.special_ids,
            document_boundary_token_ids=boundaries,
            sentence_end_token_ids=sentence_end_ids,
            infill_rate=infill_rate,
            poisson_lambda=poisson_lambda,
            max_span_length=max_span_length,
            mask_rate=mask_rate,
            delete_rate=delete_rate,
            rotate_rate=rotate_rate,
            permute_sentences_rate=permute_sentences_rate,
            output_length=self._raw_length,
            form=self.form,
            sequence_length=self.sequence_length if decoder else None,
            decoder_start_token_id=self.eos_id,
            seed=self.seed,
            dupe_factor=dupe_factor,
        ))
        if self.permute_sentences_rate > 0 and not self.sentence_end_ids:
            warnings.warn(
                "Denoising: `permute_sentences_rate` is "
                f"{self.permute_sentences_rate} but no `sentence_end_ids` "
                "were given, so each document is one sentence and sentence "
                "permutation does nothing. Pass the ids of '.', '!', '?'.",
                stacklevel=2,
            )
        self.preprocessor.budget(self._raw_length)

    @classmethod
    def bind_vocabulary(cls, config, vocabulary):
        """Sentence permutation gets the ids of `.`, `!` and `?`."""
        if config.get("sentence_end_ids") is None:
            config["sentence_end_ids"] = [
                i for i, token in enumerate(vocabulary)
                if token in SENTENCE_ENDS
            ]
        return config

    @property
    def raw_length(self):
        return self._raw_length

    def expected_targets_length(self):
        # BART reconstructs every token of the row.
        return self._raw_length
