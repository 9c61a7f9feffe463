"""The shared Transformer body, backbone adapters and the pre-trainer."""

from keras_objectives.models.attention_mask import (  # noqa: F401
    compute_attention_mask,
)
from keras_objectives.models.attention_mask import (  # noqa: F401
    compute_position_ids,
)
from keras_objectives.models.transformer_body import (  # noqa: F401
    TransformerBody,
)
