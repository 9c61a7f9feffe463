"""`--config.FIELD=VALUE`: one override implementation for every recipe.

Run, comparison and tuning recipes differ only in their `Schema`: which
top-level fields exist, which hold one key at a time (a budget), and which
hold a run config of their own (`base`). Values are Python literals
(`[0, 1]`, `1e-3`, `None`, `nan`), else strings.
"""

import ast
import copy
import dataclasses
import difflib


@dataclasses.dataclass(frozen=True)
class Schema:
    """How `--config.` overrides address one kind of recipe.

    Attributes:
        kind: the recipe's kind, for messages ("recipe", "comparison
            recipe").
        known: the top-level fields; `None` means the config's own keys,
            and then every nested key must exist too (a run config).
        free_form: with `known=None`, fields whose insides are free (the
            objective's options).
        exclusive: fields that hold one key: setting one replaces the
            others (`budget.flops` replaces `budget.tokens`).
        nested: field -> `Schema` of the run config it holds (`base`).
        example: a `FIELD=VALUE` shown in messages.
    """

    kind: str
    known: tuple = None
    free_form: tuple = ()
    exclusive: tuple = ()
    nested: dict = dataclasses.field(default_factory=dict)
    example: str = "training.steps=200"


RUN = Schema("recipe", free_form=("objective",))


def parse_value(text):
    """A Python literal, else the string; `nan`/`inf` are floats.

    >>> parse_value("[0, 1]"), parse_value("1e-3"), parse_value("abc")
    ([0, 1], 0.001, 'abc')
    >>> parse_value("null"), parse_value("true"), parse_value("-inf")
    (None, True, -inf)
    """
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError,
            RecursionError):
        pass
    lowered = text.strip().lower()
    if lowered in ("none", "null"):
        return None
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered.lstrip("+-") in ("nan", "inf", "infinity"):
        return float(lowered)
    return text


def split_top_level(text):
    """Split `text` at commas outside brackets and quotes.

    >>> split_top_level("runlocal,seeds=[0, 1],name='a,b'")
    ['runlocal', 'seeds=[0, 1]', "name='a,b'"]
    """
    items, depth, quote, start = [], 0, None, 0
    for i, char in enumerate(text):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            items.append(text[start:i])
            start = i + 1
    items.append(text[start:])
    return [item.strip() for item in items if item.strip()]


def _as_dict(value):
    """A sub-config to descend into: an identifier name becomes a dict."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        return {"class_name": value, "config": {}}
    return {}


def _unknown(schema, dotted, keys, depth, known):
    key = keys[depth]
    where = ".".join(keys[:depth]) or f"the {schema.kind}"
    close = difflib.get_close_matches(key, [str(k) for k in known], n=1)
    hint = f" Did you mean `{close[0]}`?" if close else ""
    nested = "".join(
        f" (run fields go under `{field}.`, e.g. `--config.{field}."
        f"{sub.example}`)" for field, sub in schema.nested.items())
    return ValueError(
        f"Unknown {schema.kind} field `{dotted}`: `{key}` is not a field of "
        f"{where}.{hint} Known fields there: {sorted(known)}.{nested}"
    )


def override(config, dotted, value, schema=RUN, parse=True):
    """Set `config["a"]["b"] = value` for `dotted="a.b"`; return a copy.

    Args:
        config: the recipe's dict (not changed).
        dotted: the field, e.g. `"training.steps"`.
        value: the text to parse (or the value itself, `parse=False`).
        schema: the recipe kind's `Schema` (default: a run config, which
            refuses fields it does not have).
        parse: parse `value` with `parse_value`.

    Examples:

    >>> from keras_objectives.config import base_config
    >>> override(base_config(), "training.steps", "20")["training"]["steps"]
    20
    """
    keys = dotted.split(".")
    if not all(keys):
        raise ValueError(
            f"Invalid override field `{dotted}`: a field name is empty. "
            f"Expected `--config.FIELD=VALUE`, e.g. `--config."
            f"{schema.example}`."
        )
    head = keys[0]
    known = tuple(config) if schema.known is None else schema.known
    if head not in known:
        raise _unknown(schema, dotted, keys, 0, known)
    config = copy.deepcopy(config)
    if head in schema.nested and len(keys) > 1:
        config[head] = override(_as_dict(config.get(head)), ".".join(
            keys[1:]), value, schema.nested[head], parse)
        return config
    strict = schema.known is None and head not in schema.free_form
    node = config
    for depth, key in enumerate(keys[:-1]):
        child = node.get(key)
        if not isinstance(child, dict):
            if strict:
                raise _unknown(schema, dotted, keys, depth + 1, ())
            child = node[key] = _as_dict(child)
        node = child
        if strict and keys[depth + 1] not in node:
            raise _unknown(schema, dotted, keys, depth + 1, tuple(node))
    if head in schema.exclusive and len(keys) > 1:
        node.clear()  # One key only: a new one replaces the old.
    node[keys[-1]] = parse_value(value) if parse else value
    return config


def apply_overrides(config, overrides, schema=RUN):
    """Apply `["--config.a.b=1", ...]` (or `"a.b=1"`) in order.

    Raises:
        ValueError: for an item without `=`, or an unknown field (with the
            known fields and "did you mean").
    """
    for item in overrides:
        text = item[len("--config."):] if item.startswith("--config.") else (
            item)
        if "=" not in text:
            raise ValueError(
                f"Invalid override {item!r}. Expected `--config.FIELD=VALUE`"
                f", for example `--config.{schema.example}`."
            )
        dotted, value = text.split("=", 1)
        config = override(config, dotted, value, schema)
    return config
