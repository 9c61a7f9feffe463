"""Pure TF functions on tensors. Explicit seeds, no Keras, no Python RNG."""
