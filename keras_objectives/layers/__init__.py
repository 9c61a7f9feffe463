"""Keras preprocessing layers that wrap `ops`, and trainable heads."""

# ruff: noqa: F401
from keras_objectives.layers.bart_noiser import BARTNoiser
from keras_objectives.layers.causal_lm_shifter import CausalLMShifter
from keras_objectives.layers.discriminator_head import DiscriminatorHead
from keras_objectives.layers.fim_transform import FIMTransform
from keras_objectives.layers.gumbel_sampler import GumbelSampler
from keras_objectives.layers.lm_head import LMHead
from keras_objectives.layers.masked_lm_masker import MaskedLMMasker
from keras_objectives.layers.mixture_transform import MixtureTransform
from keras_objectives.layers.prefix_lm_splitter import PrefixLMSplitter
from keras_objectives.layers.seeded_transform import SeededTransform
from keras_objectives.layers.span_corruptor import SpanCorruptor
from keras_objectives.layers.span_masker import SpanMasker
