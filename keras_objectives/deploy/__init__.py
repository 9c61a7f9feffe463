"""From a trained run to a model people use: export, fine-tune, serve.

`export_run` writes a run's checkpoint as a keras-hub preset, `finetune`
trains a classifier or tagger on a labelled task and writes `model.keras`
and a SavedModel that takes raw strings, `load_predictor` labels texts.
See `docs/deploy.md`.
"""

# ruff: noqa: F401
from keras_objectives.deploy.export import export_run
from keras_objectives.deploy.finetune import finetune
from keras_objectives.deploy.predict import load_predictor
