"""From a trained run to a model people use: export, fine-tune, serve."""

# ruff: noqa: F401
from keras_objectives.deploy.export import export_run
