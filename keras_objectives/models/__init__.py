"""The shared Transformer body, backbone adapters and the pre-trainer."""

# ruff: noqa: F401
from keras_objectives.models.attention_mask import compute_attention_mask
from keras_objectives.models.attention_mask import compute_position_ids
from keras_objectives.models.backbones import attention_modes
from keras_objectives.models.backbones import backbone_outputs
from keras_objectives.models.backbones import check_attention_mode
from keras_objectives.models.backbones import check_vocabulary
from keras_objectives.models.backbones import make_backbone
from keras_objectives.models.backbones import required_inputs
from keras_objectives.models.body_text_classifier import BodyTextClassifier
from keras_objectives.models.body_text_classifier_preprocessor import (
    BodyTextClassifierPreprocessor,
)
from keras_objectives.models.body_token_classifier import BodyTokenClassifier
from keras_objectives.models.body_token_classifier_preprocessor import (
    BodyTokenClassifierPreprocessor,
)
from keras_objectives.models.body_tokenizer import BodyTokenizer
from keras_objectives.models.electra import ElectraGenerator
from keras_objectives.models.pretrainer import Pretrainer
from keras_objectives.models.transformer_body import TransformerBody
