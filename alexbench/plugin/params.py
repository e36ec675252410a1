"""A component's ``Params``: the parameter types the host understands, and the checks on them.

Every check on parameters lives here, so that moving them to another validator (pydantic, issue
17) replaces one module:

- :func:`check_params_class` — when a component is registered: ``Params`` is a dataclass, every
  field has a default, each default is a value of the field's declared type, and ``Params()``
  accepts its own defaults. A violation makes the registering plugin broken (listed by
  ``alexbench plugins`` with this message), never the command.
- :func:`check_value` — a value from a variant file or the command line, against the field's type
  (the same rule as for defaults: a default must be something a variant file could have given).
- :func:`parse_text` — ``key=value`` text from the command line (``-p``), read as a TOML value.

The types a field may declare (docs/plugins.md "Parameter types"): ``bool``, ``int``, ``float``
(an integer is accepted and becomes a float), ``str``, ``Literal[...]`` of those, ``X | None``,
``list[X]`` and ``tuple[X, ...]`` (TOML arrays), ``dict[str, X]`` (TOML tables) and ``Any``
(not checked).
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import tomllib
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, Union

from alexbench.errors import ParamError, PluginError

_SCALARS: dict[Any, str] = {bool: "true/false", int: "an integer", float: "a number", str: "a string"}
_EXAMPLES: dict[Any, str] = {bool: "False", int: "1", float: "1.0", str: '""'}


class _Unsupported(Exception):
    """An annotation the host cannot check (and a variant file could not fill)."""


def _type_name(annotation: Any) -> str:
    if annotation is type(None):
        return "None"
    if isinstance(annotation, type) and not typing.get_args(annotation):
        return annotation.__name__
    return repr(annotation).replace("typing.", "")


def expected(annotation: Any) -> str:
    """What a value of ``annotation`` looks like, in words ("an integer", "one of 'a', 'b'")."""
    if annotation in _SCALARS:
        return _SCALARS[annotation]
    if annotation is Any or annotation is object:
        return "anything"
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin in (Union, types.UnionType):
        return " or ".join("nothing" if a is type(None) else expected(a) for a in args)
    if origin in (list, tuple):
        item = args[0] if args else Any
        return f"a list of {_plural(item)}"
    if origin is dict:
        return f"a table of {_plural(args[1] if len(args) == 2 else Any)}"
    return f"a {_type_name(annotation)}"


def _plural(annotation: Any) -> str:
    words = {bool: "true/false values", int: "integers", float: "numbers", str: "strings"}
    return words.get(annotation, "values" if annotation in (Any, object) else f"({expected(annotation)})")


def _coerce(value: Any, annotation: Any) -> Any:
    """``value`` as a value of ``annotation`` (an int becomes a float, a list a tuple), or raise
    :class:`TypeError` when it is not one; :class:`_Unsupported` for an annotation we cannot check."""
    if annotation is Any or annotation is object:
        return value
    if annotation is bool:
        if isinstance(value, bool):
            return value
    elif annotation is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif annotation is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif annotation is str:
        if isinstance(value, str):
            return value
    else:
        origin, args = typing.get_origin(annotation), typing.get_args(annotation)
        if origin is Literal:
            if any(value == a and type(value) is type(a) for a in args):
                return value
        elif origin in (Union, types.UnionType):
            for option in args:
                if option is type(None):
                    if value is None:
                        return None
                    continue
                try:
                    return _coerce(value, option)
                except TypeError:
                    continue
        elif origin in (list, tuple):
            if isinstance(value, (list, tuple)):
                if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
                    return tuple(_coerce(v, args[0]) for v in value)
                if origin is tuple and args:
                    if len(args) != len(value):
                        raise TypeError(value)
                    return tuple(_coerce(v, a) for v, a in zip(value, args))
                items = [_coerce(v, args[0] if args else Any) for v in value]
                return tuple(items) if origin is tuple else items
        elif origin is dict:
            if isinstance(value, Mapping) and all(isinstance(k, str) for k in value):
                item = args[1] if len(args) == 2 else Any
                return {k: _coerce(v, item) for k, v in value.items()}
        else:
            raise _Unsupported(annotation)
    raise TypeError(value)


@functools.cache
def field_types(params: type) -> dict[str, Any]:
    """The resolved annotation of every field of a Params dataclass (string annotations from
    ``from __future__ import annotations`` included, each in the module of the class that
    declares it); an annotation that cannot be resolved raises :class:`PluginError` naming it."""
    try:
        hints = typing.get_type_hints(params)
    except Exception:  # one bad annotation: resolve field by field to name it
        hints = {f.name: _resolve_field(params, f) for f in dataclasses.fields(params)}
    return {f.name: hints.get(f.name, Any) for f in dataclasses.fields(params)}


def _resolve_field(params: type, f: dataclasses.Field[Any]) -> Any:
    """One field's annotation, resolved in the module of the class that declares it."""
    if not isinstance(f.type, str):
        return f.type
    owner = next((base for base in params.__mro__ if f.name in vars(base).get("__annotations__", {})), params)
    holder = type("_OneField", (), {"__annotations__": {f.name: f.type}, "__module__": owner.__module__})
    try:
        return typing.get_type_hints(holder)[f.name]
    except Exception as exc:
        raise PluginError(f"{params.__name__}.{f.name}: its type {f.type!r} cannot be resolved "
                          f"({type(exc).__name__}: {exc}); import the names it uses at module level") from exc


def check_value(label: str, key: str, value: Any, annotation: Any) -> Any:
    """Check (and coerce: int → float, list → tuple) one parameter value; :class:`ParamError`
    says which parameter and what it expects."""
    try:
        return _coerce(value, annotation)
    except TypeError:
        raise ParamError(f"{label}: parameter {key!r} expects {expected(annotation)}, got {value!r}") from None
    except _Unsupported:
        return value  # registration already refused such a Params class; a class built by hand is not checked


def check_params_class(label: str, params: Any) -> None:
    """Registration-time check of a component's ``Params`` (``label`` is e.g. "classifier
    'svm'"). Raises :class:`PluginError` with what is wrong and how to write it instead."""
    name = getattr(params, "__name__", repr(params))
    if not (isinstance(params, type) and dataclasses.is_dataclass(params)):
        raise PluginError(f"{label}: Params must be a dataclass declaring every parameter with its default "
                          f"(@dataclass(frozen=True) class Params: ...), got {params!r}")
    try:
        annotations = field_types(params)
    except PluginError as exc:
        raise PluginError(f"{label}: {exc}{_defined_at(params)}") from exc
    for f in dataclasses.fields(params):
        annotation = annotations[f.name]
        if not f.init:
            continue
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            example = _EXAMPLES.get(annotation, "...")
            raise PluginError(f"{label}: {name}.{f.name} has no default; every parameter needs one, so that a "
                              f"variant may leave it out (e.g. {f.name}: {_type_name(annotation)} = {example}){_defined_at(params)}")
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        try:
            _coerce(default, annotation)
        except _Unsupported:
            raise PluginError(f"{label}: {name}.{f.name} is declared {_type_name(annotation)}, which a variant file "
                              "cannot give; declare bool, int, float, str, Literal[...], X | None, list[X], "
                              f"tuple[X, ...], dict[str, X] or Any (and convert in __post_init__){_defined_at(params)}") from None
        except TypeError:
            example = _EXAMPLES.get(annotation)
            hint = f" (e.g. {f.name}: {_type_name(annotation)} = {example})" if example else ""
            raise PluginError(f"{label}: {name}.{f.name} is declared {_type_name(annotation)} but its default "
                              f"{default!r} is {_article(type(default).__name__)}; give it a default that is "
                              f"{expected(annotation)}{hint}{_defined_at(params)}") from None
    try:
        params()
    except Exception as exc:
        raise PluginError(f"{label}: {name}() rejects its own defaults: {type(exc).__name__}: {exc}"
                          f"{_defined_at(params)}") from exc


def _defined_at(cls: type) -> str:
    """`` (defined at file:line)`` for a class whose source can be found, else ``""``."""
    try:
        return f" (defined at {inspect.getsourcefile(cls)}:{inspect.getsourcelines(cls)[1]})"
    except (OSError, TypeError):
        return ""


def _article(type_name: str) -> str:
    return f"an {type_name}" if type_name[:1] in "aeiou" else f"a {type_name}"


def parse_text(params: type, key: str, text: str) -> Any:
    """A parameter value typed on the command line: a TOML value (``10``, ``0.5``, ``true``,
    ``[1, 2]``, ``"x"``), except that a string parameter takes the text as it is (``-p
    grow=1`` is the label "1")."""
    annotation = field_types(params).get(key, Any) if dataclasses.is_dataclass(params) else Any
    if annotation is str:
        return text
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text
