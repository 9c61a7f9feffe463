"""Pre-training objectives: one file per objective, looked up by name."""

# ruff: noqa: F401
from keras_objectives.objectives.causal_lm import CausalLM
from keras_objectives.objectives.denoising import Denoising
from keras_objectives.objectives.fill_in_the_middle import FillInTheMiddle
from keras_objectives.objectives.iid_denoising import IIDDenoising
from keras_objectives.objectives.masked_lm import MaskedLM
from keras_objectives.objectives.mixture import UL2
from keras_objectives.objectives.mixture import Mixture
from keras_objectives.objectives.objective import Objective
from keras_objectives.objectives.prefix_lm import PrefixLM
from keras_objectives.objectives.registry import get
from keras_objectives.objectives.registry import get_class
from keras_objectives.objectives.registry import names
from keras_objectives.objectives.registry import register
from keras_objectives.objectives.replaced_token_detection import (
    ReplacedTokenDetection,
)
from keras_objectives.objectives.span_corruption import SpanCorruption
from keras_objectives.objectives.span_masking import SpanMasking
