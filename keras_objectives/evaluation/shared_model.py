"""One traced evaluation function per body shape, not one per run.

The instruments trace their functions once per model object
(`common.cached`). A comparison loads a new model for every checkpoint it
evaluates, so without sharing every run traces the same functions again:
the backbone states, the next-token scores, the PLL scores, each for every
batch shape; on a 2-core CPU that tracing took about as long as the
evaluations themselves.

`shared_model(model, objective)` keeps the first model of each
architecture as its *template* and, for every later model of the same
architecture, copies the weights into the template and returns it. The
template's traced functions then run the new weights: the same graph on
the same values, so every number is bit-for-bit what a fresh trace gives.
"""

import json
from collections import OrderedDict

import keras

_TEMPLATES = OrderedDict()
# Templates kept (the most recently used); one per body shape of a grid.
KEPT = 4


def _layer_signature(layer):
    """The class and the configuration (less its name) of one layer.

    A `Lambda` layer (arbitrary Python) or a layer whose class does not
    describe itself (`get_config` not overridden) raises `TypeError`: a
    model holding one is never shared.
    """
    if isinstance(layer, keras.Model):
        return (type(layer).__name__,)
    if isinstance(layer, keras.layers.Lambda) or (
            type(layer).get_config is keras.layers.Layer.get_config):
        raise TypeError(f"{type(layer).__name__} cannot be compared")
    config = dict(layer.get_config())
    config.pop("name", None)
    return type(layer).__name__, json.dumps(config, sort_keys=True,
                                            default=repr)


def architecture_key(model, objective=None):
    """A key equal for two models that compute the same function shape.

    Made of the layers' classes and configurations (names aside), the
    graph's operations, the weights' shapes and dtypes, the inputs, and
    the objective's class and configuration (its seed aside: the seeds of
    one arm share); `None` when a layer cannot describe itself (such a
    model is never shared).

    Examples:

    >>> def dense():
    ...     x = keras.Input((3,), name="x")
    ...     return keras.Model(x, keras.layers.Dense(2)(x))
    >>> architecture_key(dense()) == architecture_key(dense())
    True
    """
    try:
        layers = [_layer_signature(layer) for layer in
                  model._flatten_layers(include_self=True, recursive=True)]
    except (NotImplementedError, TypeError, ValueError):
        return None
    if any("object at 0x" in "".join(s) for s in layers):
        return None  # A config that names an object: not comparable.
    inputs = model.input if isinstance(model.input, dict) else {
        "input": model.input}
    return (
        tuple(layers),
        tuple(type(op).__name__ for op in getattr(model, "operations", ())),
        _objective_signature(objective),
        tuple((tuple(v.shape), str(v.dtype)) for v in model.weights),
        tuple((k, tuple(v.shape), str(v.dtype))
              for k, v in sorted(inputs.items())),
    )


def _objective_signature(objective):
    config = getattr(objective, "get_config", None)
    config = dict(config()) if callable(config) else {}
    config.pop("seed", None)
    return (type(objective).__name__,
            getattr(objective, "attention_mode", None),
            json.dumps(config, sort_keys=True, default=repr))


def shared_model(model, objective=None):
    """`model`, or the template of its architecture holding its weights.

    Args:
        model: a built Keras model (a loaded pre-trainer).
        objective: its `Objective` (part of the key).

    Returns:
        A model computing exactly what `model` computes. The first model
        of an architecture is returned as is and becomes the template;
        later ones return the template with their weights assigned to it
        (so evaluate one model at a time).

    Examples:

    >>> def dense(value):
    ...     x = keras.Input((1,), name="x")
    ...     layer = keras.layers.Dense(1, kernel_initializer="ones")
    ...     model = keras.Model(x, layer(x))
    ...     layer.kernel.assign([[value]])
    ...     return model
    >>> first = shared_model(dense(2.0))
    >>> second = shared_model(dense(3.0))
    >>> second is first, float(second(np.ones((1, 1)))[0, 0])
    (True, 3.0)
    """
    try:
        key = architecture_key(model, objective)
    except AttributeError:  # Not a functional model (no `input`).
        key = None
    if key is None:
        return model
    template = _TEMPLATES.pop(key, None)
    if template is None:
        template = model
        while len(_TEMPLATES) >= KEPT:
            _TEMPLATES.popitem(last=False)
    elif template is not model:
        for target, source in zip(template.weights, model.weights,
                                  strict=True):
            target.assign(source.value)
    _TEMPLATES[key] = template
    return template
