"""The tokenizer of the shared body, registered with keras-hub presets."""

import keras_hub

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.models.transformer_body import TransformerBody


@keras_objectives_export("keras_objectives.models.BodyTokenizer")
class BodyTokenizer(keras_hub.tokenizers.WordPieceTokenizer):
    """The WordPiece tokenizer of a `TransformerBody` preset.

    The tokenizer every keras_objectives run trains with (see
    `keras_objectives.data.make_tokenizer`: accents kept, text split on
    whitespace, punctuation and CJK characters) with the special tokens of
    its reserved vocabulary named the keras-hub way (`cls_token`,
    `sep_token`, `pad_token`, `mask_token`, `start_token`, `end_token`), so
    `keras_hub.tokenizers.Tokenizer.from_preset(DIR)` and the keras-hub
    preprocessors work on a preset of the body.

    Args:
        vocabulary: a list of tokens or the path of a vocabulary file with
            `[PAD] [UNK] [CLS] [SEP] [MASK]` among them.
        lowercase: bool, lowercase the text first (the run's
            `data.lowercase`).
        **kwargs: other `keras_hub.tokenizers.WordPieceTokenizer`
            arguments (`strip_accents` defaults to `False`, as in training).

    Examples:

    >>> from keras_objectives.data.special_tokens import reserved_tokens
    >>> tokenizer = BodyTokenizer(reserved_tokens() + ["the", "cat", "##s"],
    ...                           lowercase=True)
    >>> tokenizer("The cats").tolist()
    [111, 112, 113]
    >>> tokenizer.sep_token_id, tokenizer.pad_token_id
    (3, 0)
    """

    backbone_cls = TransformerBody

    def __init__(self, vocabulary=None, lowercase=True, **kwargs):
        self._add_special_token("[CLS]", "cls_token")
        self._add_special_token("[SEP]", "sep_token")
        self._add_special_token("[PAD]", "pad_token")
        self._add_special_token("[MASK]", "mask_token")
        self._add_special_token("[CLS]", "start_token")
        self._add_special_token("[SEP]", "end_token")
        kwargs.setdefault("strip_accents", False)
        kwargs.setdefault("oov_token", "[UNK]")
        kwargs.setdefault("dtype", "int32")
        super().__init__(vocabulary=vocabulary, lowercase=lowercase,
                         **kwargs)
