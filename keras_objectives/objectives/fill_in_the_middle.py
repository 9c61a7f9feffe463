"""Fill-in-the-middle: causal LM over rearranged documents."""

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.layers.fim_transform import FIMTransform
from keras_objectives.objectives import flops
from keras_objectives.objectives.causal_lm import CausalLM
from keras_objectives.objectives.registry import register
from keras_objectives.utils import check_choice
from keras_objectives.utils import invalid

LEVELS = ("document", "row")


@keras_objectives_export("keras_objectives.objectives.FillInTheMiddle")
@register("fill_in_the_middle")
class FillInTheMiddle(CausalLM):
    """Fill-in-the-middle (FIM) training of a causal LM.

    Each document is cut at two uniform points into prefix, middle and
    suffix; with probability `fim_rate` it becomes
    `[PRE] prefix [SUF] suffix [MID] middle` (PSM) or, for a share
    `spm_rate` of those, `[PRE] [SUF] suffix [MID] prefix middle` (SPM),
    and stays plain text otherwise (`keras_objectives.layers.FIMTransform`).
    The model is then trained as a causal LM on every real token of the
    rearranged row, sentinels included (attention `"causal"`), so it keeps
    its left-to-right ability and learns to infill: at inference, prompt
    `[PRE] prefix [SUF] suffix [MID]` and sample the middle up to `[SEP]`.

    `fim_level="document"` (default, the paper's main setting) rearranges
    each document (between `[CLS]`/`[SEP]`) independently, and its `[SEP]`
    ends the middle (the paper's `<EOT>`); `"row"` rearranges the whole
    packed row as one document (the paper's context-level FIM).

    Length budget: a rearranged document gains 3 tokens, so the transform
    reads `raw_length = sequence_length + 1 - 3` packed tokens and emits
    `sequence_length + 1`, shifted into `sequence_length` inputs and
    targets. Rows left plain end with 3 padding positions (no loss). In
    document mode, a row with two or more rearranged documents exceeds the
    budget by 3 tokens per extra document, which its padding absorbs if it
    can; otherwise its last tokens are dropped (as Megatron-LM's FIM).

    Args:
        special_tokens: `SpecialTokens` of the vocabulary (needs `[PAD]`
            and the FIM tokens `[PRE]`, `[MID]`, `[SUF]`).
        sequence_length: int, the model input length.
        seed: int, the data seed.
        fim_rate: float, probability that a document is rearranged (0.5,
            the paper's main rate; it finds up to 0.9 costs no
            left-to-right quality).
        spm_rate: float, share of rearranged documents in SPM (0.5;
            the paper recommends training PSM and SPM jointly).
        fim_level: `"document"` or `"row"`.
        dupe_factor: int or `None`, static rearrangement (see
            `SeededTransform`).

    Examples:

    >>> import tensorflow as tf
    >>> from keras_objectives.data.special_tokens import (
    ...     SpecialTokens, reserved_tokens)
    >>> st = SpecialTokens.from_vocabulary(reserved_tokens() + list("abcde"))
    >>> fim = FillInTheMiddle(st, sequence_length=8, fim_rate=1.0,
    ...                       spm_rate=0.0, seed=7)
    >>> fim.raw_length, fim.attention_mode
    (6, 'causal')
    >>> x, y, w = fim({"token_ids": tf.constant([111, 112, 113, 114, 115, 3])})
    >>> x["token_ids"].numpy().tolist()  # [PRE] a b [SUF] e [MID] c d
    [8, 111, 112, 10, 115, 9, 113, 114]
    >>> y.numpy().tolist()
    [111, 112, 10, 115, 9, 113, 114, 3]

    Reference:
        - [Bavarian et al., 2022](https://arxiv.org/abs/2207.14255)
    """

    layer_arguments = ("fim_rate", "spm_rate", "dupe_factor")
    search_space = {"fim_rate": [0.1, 0.5, 0.9]}

    def __init__(
        self,
        special_tokens,
        sequence_length=128,
        seed=0,
        fim_rate=0.5,
        spm_rate=0.5,
        fim_level="document",
        dupe_factor=None,
    ):
        self.fim_level = check_choice("fim_level", fim_level, LEVELS)
        self._rates = dict(fim_rate=fim_rate, spm_rate=spm_rate,
                           dupe_factor=dupe_factor)
        super().__init__(special_tokens, sequence_length, seed)

    def make_layer(self):
        """The transform: `FIMTransform` in its causal-LM form."""
        st = self.special_tokens
        missing = [t for t in ("[PRE]", "[MID]", "[SUF]")
                   if t not in st.fim_ids]
        if missing:
            raise invalid(
                "special_tokens", st,
                "a vocabulary with the FIM tokens [PRE], [MID], [SUF]",
                f"Missing: {missing}. Train the vocabulary with "
                "`keras_objectives.data`, which reserves them",
            )
        if self.sequence_length < 4:
            raise invalid(
                "sequence_length", self.sequence_length,
                "at least 4 (3 positions go to the FIM tokens)",
                "Raise `sequence_length`",
            )
        boundaries = []
        if self.fim_level == "document":
            boundaries = [i for i in (st.bos_id, st.eos_id) if i is not None]
        return FIMTransform(
            prefix_token_id=st.fim_ids["[PRE]"],
            middle_token_id=st.fim_ids["[MID]"],
            suffix_token_id=st.fim_ids["[SUF]"],
            pad_token_id=st.pad_id or 0,
            document_boundary_token_ids=boundaries,
            output_length=self.sequence_length + 1,
            form="causal_lm",
            seed=self.seed,
            **self._rates,
        )

    @property
    def raw_length(self):
        return self.sequence_length + 1 - 3

    def accounting(self, dims, batch_size):
        """As `CausalLM`, with the loss on real tokens only.

        Every position goes through the body and gets logits. Loss-bearing
        positions per full row: `sequence_length` when rearranged,
        `sequence_length - 3` when plain; the expectation assumes one
        document per row.
        """
        tokens = batch_size * self.sequence_length
        plain = 1.0 - self.fim_rate
        return {
            "tokens_per_step": tokens,
            "loss_positions_per_step": batch_size
            * (self.sequence_length - 3 * plain),
            "flops_per_step": float(
                flops.training_flops(dims, tokens=tokens,
                                     softmax_positions=tokens)
            ),
        }

    def get_config(self):
        return {**super().get_config(), "fim_level": self.fim_level}
