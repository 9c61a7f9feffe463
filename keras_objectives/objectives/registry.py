"""The registry: the single list of objectives, by name.

Every module of `keras_objectives.objectives` is imported on first use, and
importing a module registers its objectives, so a new objective is one new
file; an objective defined elsewhere (a recipe, a test, a user package) is
registered by importing it. Whatever iterates objectives (the XLA test, the
input-pipeline benchmark, the docs index, tuning) iterates `names()`.
"""

import keras

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.api_export import load_package
from keras_objectives.objectives.objective import Objective

_REGISTRY = {}


@keras_objectives_export("keras_objectives.objectives.register")
def register(name):
    """Class decorator: register an `Objective` subclass under `name`.

    Args:
        name: str, the name recipes and `get` use (`"masked_lm"`). The
            class gets it as `cls.name`, and is registered for Keras
            serialization as `"objectives>{name}"` (unless an export
            decorator names it), so a `Pretrainer` holding it saves and
            loads. `docs/contributing.md` walks through adding an
            objective.
    """

    def decorator(cls):
        old = _REGISTRY.get(name)
        # The same class imported twice (doctest collection, reloads) is
        # fine; another class under a taken name is not.
        if old is not None and (old.__module__, old.__qualname__) != (
            cls.__module__, cls.__qualname__
        ):
            raise ValueError(
                f"Objective name {name!r} is already registered to "
                f"{old.__module__}.{old.__qualname__}. Pick another name."
            )
        cls.name = name
        _REGISTRY[name] = cls
        return keras.saving.register_keras_serializable(
            package="objectives", name=name)(cls)

    return decorator


def _load_all():
    load_package("keras_objectives.objectives")


@keras_objectives_export("keras_objectives.objectives.names")
def names():
    """The registered objective names, sorted."""
    _load_all()
    return sorted(_REGISTRY)


@keras_objectives_export("keras_objectives.objectives.get_class")
def get_class(name):
    """The `Objective` class registered as `name` (or of class `name`).

    Raises:
        ValueError: `name` is not registered; the message lists the
            registered names.
    """
    _load_all()
    if name not in _REGISTRY:
        by_class = {c.__name__: c for c in _REGISTRY.values()}
        if name in by_class:
            return by_class[name]
        raise ValueError(
            "Invalid value received for argument `objective`. Expected one of "
            f"the registered objectives {names()}. Received: "
            f"objective={name!r}. Register your own with "
            "`@keras_objectives.objectives.register(name)`."
        )
    return _REGISTRY[name]


def as_identifier(identifier):
    """`{"class_name": name, "config": dict}` of a name or identifier dict."""
    if isinstance(identifier, str):
        return {"class_name": identifier, "config": {}}
    if isinstance(identifier, dict) and "class_name" in identifier:
        return {"class_name": identifier["class_name"],
                "config": dict(identifier.get("config") or {})}
    raise ValueError(
        "Invalid value received for argument `objective`. Expected a "
        "registered name or a dict `{'class_name': ..., 'config': {...}}`."
        f" Received: objective={identifier!r}"
    )


@keras_objectives_export("keras_objectives.objectives.bind_vocabulary")
def bind_vocabulary(identifier, vocabulary):
    """An identifier with the arguments its objective derives from text.

    Calls the objective class's `bind_vocabulary` hook (whole-word masking
    needs the ids of `##` pieces, BART's sentence permutation the ids of
    `. ! ?`, a mixture binds its members). Values the recipe sets are kept.

    Args:
        identifier: a registered name or `{"class_name", "config"}`.
        vocabulary: list of token strings, indexed by id.

    Returns:
        `{"class_name": name, "config": {...}}`.

    Examples:

    >>> bind_vocabulary("span_masking", ["[PAD]", "a", "##b"])["config"]
    {'continuation_token_ids': [2]}
    """
    identifier = as_identifier(identifier)
    cls = get_class(identifier["class_name"])
    config = cls.bind_vocabulary(identifier["config"], list(vocabulary))
    return {**identifier, "config": config}


@keras_objectives_export("keras_objectives.objectives.get")
def get(identifier, **runtime_kwargs):
    """Build an objective from a name, a config dict or an instance.

    Args:
        identifier: a registered name (`"masked_lm"`), a dict
            `{"class_name": name, "config": {...}}`, or an `Objective`.
        **runtime_kwargs: arguments known only at run time and shared by all
            arms of a comparison (`special_tokens`, `sequence_length`,
            `seed`). Values in the identifier's config win.

    Returns:
        An `Objective` instance.
    """
    if isinstance(identifier, Objective):
        return identifier
    identifier = as_identifier(identifier)
    cls = get_class(identifier["class_name"])
    return cls(**{**runtime_kwargs, **identifier["config"]})
