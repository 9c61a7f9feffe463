"""Look objectives up by name or by `{"class_name", "config"}`."""

import importlib
import pkgutil

_REGISTRY = {}

_LOADED = []


def register(name):
    """Class decorator: register an `Objective` subclass under `name`."""

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
        return cls

    return decorator


def _load_all():
    """Import every module of this package once; importing registers.

    So a new objective is one new file, and `get("span_corruption")` works
    after `import keras_objectives.objectives` alone.
    """
    if _LOADED:
        return
    import keras_objectives.objectives as package

    for info in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{info.name}")
    _LOADED.append(True)


def names():
    """The registered objective names, sorted."""
    _load_all()
    return sorted(_REGISTRY)


def get_class(name):
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
    from keras_objectives.objectives.objective import Objective

    if isinstance(identifier, Objective):
        return identifier
    if isinstance(identifier, str):
        cls, config = get_class(identifier), {}
    elif isinstance(identifier, dict) and "class_name" in identifier:
        cls = get_class(identifier["class_name"])
        config = dict(identifier.get("config") or {})
    else:
        raise ValueError(
            "Invalid value received for argument `objective`. Expected a "
            "registered name or a dict `{'class_name': ..., 'config': {...}}`."
            f" Received: objective={identifier!r}"
        )
    return cls(**{**runtime_kwargs, **config})
