"""Keras preprocessing layers that wrap `ops`, and trainable heads."""
