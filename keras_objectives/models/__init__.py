"""The shared Transformer body, backbone adapters and the pre-trainer."""

# ruff: noqa: F401
from keras_objectives.models.attention_mask import (
    compute_attention_mask,
    compute_position_ids,
)
from keras_objectives.models.backbones import (
    attention_modes,
    backbone_outputs,
    check_attention_mode,
    check_vocabulary,
    make_backbone,
    required_inputs,
)
from keras_objectives.models.electra import ElectraGenerator
from keras_objectives.models.pretrainer import Pretrainer
from keras_objectives.models.transformer_body import TransformerBody
