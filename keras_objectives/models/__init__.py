"""The shared Transformer body, backbone adapters and the pre-trainer."""

from keras_objectives.models.attention_mask import (  # noqa: F401
    compute_attention_mask,
)
from keras_objectives.models.attention_mask import (  # noqa: F401
    compute_position_ids,
)
from keras_objectives.models.backbones import attention_modes  # noqa: F401
from keras_objectives.models.backbones import backbone_outputs  # noqa: F401
from keras_objectives.models.backbones import (  # noqa: F401
    check_attention_mode,
)
from keras_objectives.models.backbones import check_vocabulary  # noqa: F401
from keras_objectives.models.backbones import make_backbone  # noqa: F401
from keras_objectives.models.backbones import required_inputs  # noqa: F401
from keras_objectives.models.pretrainer import Pretrainer  # noqa: F401
from keras_objectives.models.transformer_body import (  # noqa: F401
    TransformerBody,
)
