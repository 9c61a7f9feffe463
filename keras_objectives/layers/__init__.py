"""Keras preprocessing layers that wrap `ops`, and trainable heads.

The public names are the ones the modules export with
`@keras_objectives_export("keras_objectives.layers.Name")`: a new module
needs no edit here.
"""

from keras_objectives.api_export import export_package

__getattr__, __dir__ = export_package(__name__)
