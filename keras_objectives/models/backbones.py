"""Adapters that let every objective run on the body or a stock backbone.

An objective asks for an attention mode; a backbone can express some modes:

| backbone                                   | modes                          |
|--------------------------------------------|--------------------------------|
| `TransformerBody(attention_mode="prefix")` | prefix, causal, bidirectional  |
| `TransformerBody(attention_mode=m)`        | `m`                            |
| `BertBackbone` and other MaskedLM backbones| bidirectional                  |
| `GPT2Backbone` and other CausalLM backbones| causal                         |
| `T5Backbone`, `BartBackbone`               | encoder_decoder                |

Stock keras-hub backbones are classified by the keras-hub tasks built on
them (a backbone with a `MaskedLM` task is bidirectional, one with a
`CausalLM` task causal) and by their inputs (`encoder_token_ids` means
encoder-decoder).
"""

import keras
import keras_hub
from keras import ops

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.models.transformer_body import TransformerBody

ENCODER_DECODER = "encoder_decoder"
def _t5(max_sequence_length=None, **dims):
    # T5 uses relative position buckets: no maximum length to set.
    return keras_hub.models.T5Backbone(**dims)


_STOCK = {
    "bert": keras_hub.models.BertBackbone,
    "gpt2": keras_hub.models.GPT2Backbone,
    "bart": keras_hub.models.BartBackbone,
    "t5": _t5,
}
_STOCK_DIMS = (
    "num_layers",
    "num_heads",
    "hidden_dim",
    "intermediate_dim",
    "max_sequence_length",
    "dropout",
)


def _task_backbones(task_cls):
    from keras_hub.src.utils.preset_utils import list_subclasses

    return {c.backbone_cls for c in list_subclasses(task_cls)} - {None}


@keras_objectives_export("keras_objectives.models.attention_modes")
def attention_modes(backbone):
    """The attention modes a backbone can express.

    Args:
        backbone: a `TransformerBody` or a keras-hub `Backbone`.

    Returns:
        A frozenset of mode names: some of `"bidirectional"`, `"causal"`,
        `"prefix"`, or `{"encoder_decoder"}` for encoder-decoder backbones.
        Empty for a backbone of unknown kind.

    Examples:

    >>> body = TransformerBody(
    ...     vocabulary_size=20, num_layers=1, num_heads=1, hidden_dim=4,
    ...     intermediate_dim=4, max_sequence_length=8,
    ...     attention_mode="prefix")
    >>> sorted(attention_modes(body))
    ['bidirectional', 'causal', 'prefix']
    """
    if isinstance(backbone, TransformerBody):
        if backbone.attention_mode == "prefix":
            return frozenset({"prefix", "causal", "bidirectional"})
        return frozenset({backbone.attention_mode})
    names = _input_names(backbone)
    if "encoder_token_ids" in names and "decoder_token_ids" in names:
        return frozenset({ENCODER_DECODER})
    kind = type(backbone)
    if any(issubclass(kind, c) for c in _task_backbones(
        keras_hub.models.MaskedLM
    )):
        return frozenset({"bidirectional"})
    if any(issubclass(kind, c) for c in _task_backbones(
        keras_hub.models.CausalLM
    )):
        return frozenset({"causal"})
    return frozenset()


def _input_names(backbone):
    inputs = backbone.input
    if isinstance(inputs, dict):
        return tuple(inputs)
    return ("token_ids",)


@keras_objectives_export("keras_objectives.models.check_attention_mode")
def check_attention_mode(backbone, attention_mode):
    """Raise a clear error unless `backbone` can run `attention_mode`."""
    modes = attention_modes(backbone)
    if attention_mode in modes:
        return
    name = type(backbone).__name__
    if not modes:
        reason = (
            f"`{name}` is not a backbone keras_objectives knows how to "
            "classify (no keras-hub MaskedLM or CausalLM task uses it)"
        )
    else:
        reason = f"`{name}` supports only {sorted(modes)}"
    if attention_mode == ENCODER_DECODER:
        fix = (
            "Use an encoder-decoder backbone (`keras_hub.models.T5Backbone`"
            " or `BartBackbone`), or the objective's decoder-only form on "
            "`TransformerBody(attention_mode='prefix')`."
        )
    else:
        fix = (
            "Use `keras_objectives.models.TransformerBody(attention_mode="
            f"'{attention_mode}')` (`make_backbone('body', ...)`)"
            + (", or `GPT2Backbone`" if attention_mode == "causal" else "")
            + (", or `BertBackbone`" if attention_mode == "bidirectional"
               else "")
            + " instead."
        )
    raise ValueError(
        f"The backbone cannot run the objective's attention mode: {reason}. "
        f"Received: backbone={name}, attention_mode='{attention_mode}'. "
        + fix
    )


@keras_objectives_export("keras_objectives.models.required_inputs")
def required_inputs(backbone, attention_mode):
    """Names of the features `backbone_outputs` reads from `inputs`.

    `segment_ids` (BERT) and, unless the mode is `"prefix"`, `prefix_mask`
    are filled in by the adapter and are not listed.

    Examples:

    >>> body = TransformerBody(
    ...     vocabulary_size=20, num_layers=1, num_heads=1, hidden_dim=4,
    ...     intermediate_dim=4, max_sequence_length=8,
    ...     attention_mode="prefix", document_masking=True)
    >>> required_inputs(body, "causal")
    ('token_ids', 'padding_mask', 'document_ids')
    """
    check_attention_mode(backbone, attention_mode)
    derived = {"segment_ids"}
    if attention_mode != "prefix":
        derived.add("prefix_mask")
    return tuple(n for n in _input_names(backbone) if n not in derived)


@keras_objectives_export("keras_objectives.models.backbone_outputs")
def backbone_outputs(backbone, inputs, attention_mode):
    """Call a backbone with the inputs it accepts; return the sequence output.

    Fills in zero `segment_ids` for BERT-like backbones, an all-false
    (causal) or all-true (bidirectional) `prefix_mask` for a prefix-mode
    `TransformerBody`, ignores extra features, and picks `sequence_output`
    (or `decoder_sequence_output`) from dict outputs.

    Args:
        backbone: a `TransformerBody` or a keras-hub `Backbone`.
        inputs: dict of (symbolic or eager) tensors: `token_ids`,
            `padding_mask`, and `prefix_mask` / `document_ids` when the
            backbone needs them; `encoder_*` / `decoder_*` features for an
            encoder-decoder backbone.
        attention_mode: the objective's mode, `"bidirectional"`,
            `"causal"`, `"prefix"` or `"encoder_decoder"`.

    Returns:
        The sequence output `[B, L, hidden_dim]` (the decoder's for an
        encoder-decoder backbone).

    Examples:

    >>> import numpy as np
    >>> body = TransformerBody(
    ...     vocabulary_size=20, num_layers=1, num_heads=1, hidden_dim=4,
    ...     intermediate_dim=4, max_sequence_length=8,
    ...     attention_mode="prefix")
    >>> x = {"token_ids": np.ones((1, 3), "int32"),
    ...      "padding_mask": np.ones((1, 3), "int32")}
    >>> backbone_outputs(body, x, "causal").shape
    TensorShape([1, 3, 4])
    """
    check_attention_mode(backbone, attention_mode)
    inputs = {k: _as_tensor(v) for k, v in inputs.items()}
    feed = {}
    for name in _input_names(backbone):
        if name == "prefix_mask" and attention_mode != "prefix":
            like = ops.cast(inputs["padding_mask"], "int32")
            fill = ops.zeros_like if attention_mode == "causal" else (
                ops.ones_like
            )
            feed[name] = fill(like)
        elif name in inputs:
            feed[name] = inputs[name]
        elif name == "segment_ids":
            feed[name] = ops.zeros_like(ops.cast(inputs["token_ids"], "int32"))
        else:
            raise ValueError(
                f"Invalid value received for argument `inputs`: the "
                f"backbone `{type(backbone).__name__}` needs the feature "
                f"`{name}` for attention_mode='{attention_mode}', but the "
                f"objective's inputs only have {sorted(inputs)}. Received: "
                f"inputs keys={sorted(inputs)}. Pass `{name}` through the "
                "objective's preprocessor (x), or build the backbone "
                "without it (for `document_ids`: document_masking=False, "
                "reset_position_ids=False)."
            )
    if not isinstance(backbone.input, dict):
        feed = feed["token_ids"]
    outputs = backbone(feed)
    if isinstance(outputs, dict):
        for key in ("sequence_output", "decoder_sequence_output"):
            if key in outputs:
                return outputs[key]
        raise ValueError(
            f"The backbone `{type(backbone).__name__}` returned a dict "
            f"without `sequence_output`: keys {sorted(outputs)}."
        )
    return outputs


def _as_tensor(x):
    # Eager callers may pass NumPy; never mix it with the filled-in tensors.
    if isinstance(x, keras.KerasTensor):
        return x
    return ops.convert_to_tensor(x)


def _vocabulary_size(backbone):
    size = getattr(backbone, "vocabulary_size", None)
    if size is None and backbone.token_embedding is not None:
        size = backbone.token_embedding.input_dim
    return size


@keras_objectives_export("keras_objectives.models.check_vocabulary")
def check_vocabulary(backbone, special_tokens):
    """Raise unless the backbone's vocabulary matches the tokenizer's.

    Args:
        backbone: a `TransformerBody` or keras-hub `Backbone`.
        special_tokens: a `SpecialTokens` (its `vocabulary_size`) or an int.

    Examples:

    >>> body = TransformerBody(
    ...     vocabulary_size=20, num_layers=1, num_heads=1, hidden_dim=4,
    ...     intermediate_dim=4, max_sequence_length=8)
    >>> check_vocabulary(body, 20)
    >>> check_vocabulary(body, 30)
    Traceback (most recent call last):
    ...
    ValueError: The backbone's vocabulary size (20) differs ...
    """
    size = getattr(special_tokens, "vocabulary_size", special_tokens)
    backbone_size = _vocabulary_size(backbone)
    if backbone_size != size:
        raise ValueError(
            f"The backbone's vocabulary size ({backbone_size}) differs from "
            f"the tokenizer's ({size}). Received: backbone="
            f"{type(backbone).__name__}(vocabulary_size={backbone_size}), "
            f"tokenizer vocabulary_size={size}. Build the backbone with "
            f"vocabulary_size={size}, or use the tokenizer the backbone "
            "was trained with."
        )


@keras_objectives_export("keras_objectives.models.make_backbone")
def make_backbone(
    kind,
    vocabulary_size,
    attention_mode="bidirectional",
    document_masking=False,
    **dims,
):
    """Build the body or a stock backbone from the same dimensions.

    Args:
        kind: `"body"` (`TransformerBody`), `"bert"` (`BertBackbone`),
            `"gpt2"` (`GPT2Backbone`), `"t5"` (`T5Backbone`), `"bart"`
            (`BartBackbone`), or a keras-hub preset name or local
            preset directory (loaded with `Backbone.from_preset`; `dims`
            are then ignored).
        vocabulary_size: int, the tokenizer's vocabulary size.
        attention_mode: the objective's attention mode; the backbone must
            support it.
        document_masking: bool, block-diagonal attention per document (only
            `TransformerBody` supports it).
        **dims: `num_layers`, `num_heads`, `hidden_dim`, `intermediate_dim`,
            `max_sequence_length`, `dropout` (and, for `"body"`, any other
            `TransformerBody` argument).

    Returns:
        A `keras_hub.models.Backbone`.

    Examples:

    >>> backbone = make_backbone(
    ...     "gpt2", 20, attention_mode="causal", num_layers=1, num_heads=1,
    ...     hidden_dim=4, intermediate_dim=4, max_sequence_length=8)
    >>> type(backbone).__name__
    'GPT2Backbone'
    """
    if kind == "body":
        backbone = TransformerBody(
            vocabulary_size=vocabulary_size,
            attention_mode=attention_mode,
            document_masking=document_masking,
            **dims,
        )
    elif kind in _STOCK:
        unknown = sorted(set(dims) - set(_STOCK_DIMS))
        if unknown:
            raise ValueError(
                f"Invalid value received for argument `dims`: {unknown} "
                f"cannot be set on kind='{kind}'. Expected only "
                f"{list(_STOCK_DIMS)}. Use kind='body' for the other "
                "`TransformerBody` arguments."
            )
        backbone = _STOCK[kind](vocabulary_size=vocabulary_size, **dims)
    elif isinstance(kind, str):
        backbone = keras_hub.models.Backbone.from_preset(kind)
        check_vocabulary(backbone, vocabulary_size)
    else:
        raise ValueError(
            "Invalid value received for argument `kind`. Expected 'body', "
            "'bert', 'gpt2', 't5', 'bart' or a keras-hub preset. "
            f"Received: kind={kind!r}"
        )
    check_attention_mode(backbone, attention_mode)
    if document_masking and not getattr(backbone, "document_masking", False):
        raise ValueError(
            "Invalid value received for argument `document_masking`: "
            f"`{type(backbone).__name__}` cannot restrict attention to one "
            f"document. Received: document_masking=True, kind={kind!r}. "
            "Use kind='body' or document_masking=False."
        )
    return backbone

