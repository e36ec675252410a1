"""A component's ``Params``: the parameter types the host understands, and the checks on them.

Every check on parameters lives here; pydantic does the checking (issue 17):

- :func:`check_params_class` — when a component is registered: ``Params`` is a dataclass, every
  field has a default, each default is a value of the field's declared type (ranges included),
  and ``Params()`` accepts its own defaults. A violation makes the registering plugin broken
  (listed by ``alexbench plugins`` with this message), never the command.
- :func:`build_params` — a variant file's (or the command line's) table of parameters as an
  instance of ``Params``: unknown keys refused ("did you mean"), each value checked against its
  field's type by :func:`check_value`, then ``Params(**values)`` (its ``__post_init__`` checks
  combinations of fields).
- :func:`parse_text` — ``key=value`` text from the command line (``-p``), read as a TOML value.

``Params`` stays a plain ``@dataclass``. Each field's annotation becomes a ``pydantic.TypeAdapter``
in strict mode, since TOML's types are exact (``true`` is not ``1``, ``2.0`` is not an integer),
with the two conversions TOML needs: an integer given for a float becomes a float, an array
given for a tuple becomes a tuple. The types a field may declare (docs/plugins.md "Parameter
types"): ``bool``, ``int``, ``float``, ``str``, ``Literal[...]`` of those, ``X | None``,
``list[X]`` and ``tuple[X, ...]`` (TOML arrays), ``dict[str, X]`` (TOML tables), ``Any`` (not
checked), and any of these inside ``Annotated[X, ...]`` with pydantic's ``Field(ge=..., gt=...,
le=..., lt=..., min_length=..., max_length=..., pattern=..., description=...)``, annotated_types'
constraints or pydantic validators (``AfterValidator``): ``Annotated[int, Field(ge=1)]``. A
``description`` is what the error message says the parameter expects.

A value that fails reaches the user as alexbench's :class:`ParamError` ("classifier 'svm':
parameter 'C' expects a positive number, got -1"), never as pydantic's own report.
"""

from __future__ import annotations

import dataclasses
import functools
import tomllib
import types
import typing
from collections.abc import Mapping
from typing import Annotated, Any, Literal, Union

import annotated_types
from pydantic import BeforeValidator, ConfigDict, Strict, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError

from alexbench.errors import ParamError, PluginError, did_you_mean
from alexbench.faults import defined_at

_NOUNS: dict[Any, tuple[str, str]] = {bool: ("true/false", "true/false values"), int: ("an integer", "integers"),
                                      float: ("a number", "numbers"), str: ("a string", "strings")}
_EXAMPLES: dict[Any, str] = {bool: "False", int: "1", float: "1.0", str: '""'}
_STRICT = ConfigDict(strict=True)
#: pydantic error types that carry an author's own message (a validator's ValueError or assert).
_AUTHOR_ERRORS = {"value_error", "assertion_error"}


class _Unsupported(Exception):
    """An annotation the host cannot check (and a variant file could not fill)."""


def _split(annotation: Any) -> tuple[Any, tuple[Any, ...]]:
    """``Annotated[X, *meta]`` as ``(X, meta)``; any other annotation as ``(annotation, ())``."""
    if typing.get_origin(annotation) is Annotated:
        return annotation.__origin__, annotation.__metadata__
    return annotation, ()


def _constraints(meta: tuple[Any, ...]) -> list[Any]:
    """The constraint objects of ``Annotated`` metadata, a pydantic ``Field(...)``'s included."""
    out: list[Any] = []
    for item in meta:
        if isinstance(item, FieldInfo):
            out.extend(item.metadata)
        elif isinstance(item, annotated_types.Interval):
            out.extend(item)
        else:
            out.append(item)
    return out


def _description(meta: tuple[Any, ...]) -> str | None:
    described = [item.description for item in meta if isinstance(item, FieldInfo) and item.description]
    return described[-1] if described else None


def _type_name(annotation: Any) -> str:
    """How an annotation reads in a message (``Annotated`` metadata left out: ``list[float]``)."""
    annotation, _ = _split(annotation)
    if annotation is type(None):
        return "None"
    if annotation is Any:
        return "Any"
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Literal:
        return f"Literal[{', '.join(repr(a) for a in args)}]"
    if origin in (Union, types.UnionType):
        return " | ".join(_type_name(a) for a in args)
    if origin is not None and args:
        return f"{getattr(origin, '__name__', repr(origin))}[{', '.join('...' if a is Ellipsis else _type_name(a) for a in args)}]"
    if isinstance(annotation, type):
        return annotation.__name__
    return repr(annotation).replace("typing.", "")


def expected(annotation: Any, plural: bool = False) -> str:
    """What a value of ``annotation`` looks like, in words ("an integer >= 1", "one of 'a', 'b'";
    with ``plural``, what the items of a list of them look like: "integers >= 1")."""
    base, meta = _split(annotation)
    described = _description(meta)
    if described:
        return described
    limits = _limits(_constraints(meta))
    if base in _NOUNS:
        singular, many = _NOUNS[base]
        if base in (int, float) and limits == " > 0":
            return f"positive {many}" if plural else f"a positive {singular.split(' ', 1)[1]}"
        return (many if plural else singular) + limits
    if base is Any or base is object:
        return "values" if plural else "anything"
    origin, args = typing.get_origin(base), typing.get_args(base)
    words: str
    if origin is Literal:
        words = repr(args[0]) if len(args) == 1 else "one of " + ", ".join(repr(a) for a in args)
    elif origin in (Union, types.UnionType):
        words = " or ".join("nothing" if a is type(None) else expected(a) for a in args)
    elif origin in (list, tuple):
        item = args[0] if args else Any
        words = f"a list of {expected(item, plural=True)}" + limits
    elif origin is dict:
        words = f"a table of {expected(args[1] if len(args) == 2 else Any, plural=True)}" + limits
    else:
        words = f"a {_type_name(base)}"
    return f"({words})" if plural else words


def _limits(constraints: list[Any]) -> str:
    """`` in [0, 1)``, `` >= 1``, `` matching '...'``: the constraints pydantic checks, in words."""
    bound = {kind: getattr(c, kind) for c in constraints for kind in ("gt", "ge", "lt", "le") if hasattr(c, kind)}
    low = ("(", bound["gt"]) if "gt" in bound else ("[", bound["ge"]) if "ge" in bound else None
    high = (")", bound["lt"]) if "lt" in bound else ("]", bound["le"]) if "le" in bound else None
    words = ""
    if low and high:
        words = f" in {low[0]}{low[1]}, {high[1]}{high[0]}"
    elif low:
        words = f" {'>' if low[0] == '(' else '>='} {low[1]}"
    elif high:
        words = f" {'<' if high[0] == ')' else '<='} {high[1]}"
    for c in constraints:
        if isinstance(c, annotated_types.MinLen) and c.min_length:
            words += f" (at least {c.min_length})"
        elif isinstance(c, annotated_types.MaxLen):
            words += f" (at most {c.max_length})"
        elif isinstance(c, annotated_types.MultipleOf):
            words += f" (a multiple of {c.multiple_of})"
        elif getattr(c, "pattern", None):
            words += f" matching {c.pattern!r}"
    return words


def _exact_literal(choices: tuple[Any, ...]) -> Any:
    """pydantic takes ``True`` for ``Literal[1]``; TOML's types are exact, so a value must be
    one of the choices with the choice's own type."""

    def check(value: Any) -> Any:
        if any(value == c and type(value) is type(c) for c in choices):
            return value
        raise PydanticCustomError("literal_error", "not one of the choices")

    return BeforeValidator(check)


def _toml(annotation: Any) -> Any:
    """``annotation`` as pydantic should check a TOML value for it: arrays accepted for lists and
    tuples, ``Literal`` exact. :class:`_Unsupported` for an annotation a variant file cannot give."""
    if annotation in _NOUNS or annotation is type(None):
        return annotation
    if annotation is Any or annotation is object:
        return Any
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Annotated:
        base, meta = _split(annotation)
        return Annotated[(_toml(base), *meta)]
    if origin is Literal:
        if not all(type(a) in _NOUNS for a in args):
            raise _Unsupported(annotation)
        return Annotated[annotation, _exact_literal(args)]
    if origin in (Union, types.UnionType):
        return Union[tuple(_toml(a) for a in args)]  # noqa: UP007 - built from a tuple
    if annotation is list or origin is list:
        return Annotated[list[_toml(args[0]) if args else Any], Strict(False)]  # type: ignore[misc]
    if annotation is tuple or origin is tuple:
        if not args or (len(args) == 2 and args[1] is Ellipsis):
            return Annotated[tuple[_toml(args[0]) if args else Any, ...], Strict(False)]  # type: ignore[misc]
        return Annotated[tuple[tuple(_toml(a) for a in args)], Strict(False)]  # type: ignore[misc]
    if annotation is dict or origin is dict:
        return dict[str, _toml(args[1]) if len(args) == 2 else Any]  # type: ignore[misc]
    raise _Unsupported(annotation)


_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def _adapter(annotation: Any) -> TypeAdapter[Any]:
    """The (cached) strict pydantic adapter of a field's annotation; :class:`_Unsupported` when
    the annotation is not a type a variant file can give."""
    try:
        return _ADAPTERS[annotation]
    except TypeError:  # an unhashable annotation: not cached
        return TypeAdapter(_toml(annotation), config=_STRICT)
    except KeyError:
        adapter = _ADAPTERS[annotation] = TypeAdapter(_toml(annotation), config=_STRICT)
        return adapter


@functools.cache
def field_types(params: type) -> dict[str, Any]:
    """The resolved annotation of every field of a Params dataclass (string annotations from
    ``from __future__ import annotations`` included, each in the module of the class that
    declares it; ``Annotated`` kept); an annotation that cannot be resolved raises
    :class:`PluginError` naming it."""
    try:
        hints = typing.get_type_hints(params, include_extras=True)
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
        return typing.get_type_hints(holder, include_extras=True)[f.name]
    except Exception as exc:
        raise PluginError(f"{params.__name__}.{f.name}: its type {f.type!r} cannot be resolved "
                          f"({type(exc).__name__}: {exc}); import the names it uses at module level") from exc


def _choices(annotation: Any) -> list[str]:
    """The string choices of the ``Literal`` types in ``annotation`` (for "did you mean")."""
    base, _ = _split(annotation)
    origin, args = typing.get_origin(base), typing.get_args(base)
    if origin is Literal:
        return [a for a in args if isinstance(a, str)]
    if origin in (Union, types.UnionType):
        return [c for a in args for c in _choices(a)]
    return []


def _why(value: Any, annotation: Any, error: ValidationError) -> str:
    """What to add to "expects X, got V": an author's validator message, the item of a list or
    table that is wrong, or the closest choice of a ``Literal``."""
    errors = error.errors(include_url=False)
    reasons = list(dict.fromkeys(e["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
                                 for e in errors if e["type"] in _AUTHOR_ERRORS))
    if reasons:
        return f" ({'; '.join(reasons)})"
    if isinstance(value, str) and (close := did_you_mean(value, _choices(annotation))):
        return f".{close}"
    if len(errors) == 1 and errors[0]["loc"] and isinstance(value, (list, tuple, Mapping)):
        where = "".join(f"[{part!r}]" for part in errors[0]["loc"])
        return f" ({where} is {errors[0]['input']!r})"
    return ""


def check_value(label: str, key: str, value: Any, annotation: Any) -> Any:
    """Check (and convert: int → float, list → tuple) one parameter value; :class:`ParamError`
    says which parameter, what it expects and what it got."""
    try:
        adapter = _adapter(annotation)
    except _Unsupported:
        return value  # registration already refused such a Params class; a class built by hand is not checked
    try:
        return adapter.validate_python(value)
    except ValidationError as exc:
        raise ParamError(f"{label}: parameter {key!r} expects {expected(annotation)}, got {value!r}"
                         f"{_why(value, annotation, exc)}") from None


def build_params(label: str, params: type, values: Mapping[str, Any]) -> Any:
    """``params(**values)`` once every key is a field of ``params`` and every value has its
    field's type; :class:`ParamError` (``label`` is e.g. "classifier 'svm'") otherwise, with
    ``__post_init__``'s own ValueError or TypeError as its message."""
    fields = field_types(params)
    for key in values:
        if key not in fields:
            known = ", ".join(sorted(fields)) or "none"
            raise ParamError(f"{label} has no parameter {key!r}.{did_you_mean(key, fields)} Known: {known}.")
    checked = {key: check_value(label, key, value, fields[key]) for key, value in values.items()}
    try:
        return params(**checked)
    except (TypeError, ValueError) as exc:
        raise ParamError(f"{label}: {exc}") from exc


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
        base = _split(annotation)[0]
        if not f.init:
            continue
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            example = _EXAMPLES.get(base, "...")
            raise PluginError(f"{label}: {name}.{f.name} has no default; every parameter needs one, so that a "
                              f"variant may leave it out (e.g. {f.name}: {_type_name(annotation)} = {example}){_defined_at(params)}")
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        try:
            _adapter(annotation).validate_python(default)
        except _Unsupported:
            raise PluginError(f"{label}: {name}.{f.name} is declared {_type_name(annotation)}, which a variant file "
                              "cannot give; declare bool, int, float, str, Literal[...], X | None, list[X], "
                              f"tuple[X, ...], dict[str, X] or Any (and convert in __post_init__){_defined_at(params)}") from None
        except ValidationError as exc:
            example = _EXAMPLES.get(base)
            hint = f" (e.g. {f.name}: {_type_name(annotation)} = {example})" if example else ""
            try:  # the right type but out of range, say
                _adapter(base).validate_python(default)
                what = f"is not {expected(annotation)}"
            except ValidationError:
                what = f"is {_article(type(default).__name__)}; give it a default that is {expected(annotation)}{hint}"
            else:
                what += f"{_why(default, annotation, exc)}"
            raise PluginError(f"{label}: {name}.{f.name} is declared {_type_name(annotation)} but its default "
                              f"{default!r} {what}{_defined_at(params)}") from None
    try:
        params()
    except Exception as exc:
        raise PluginError(f"{label}: {name}() rejects its own defaults: {type(exc).__name__}: {exc}"
                          f"{_defined_at(params)}") from exc


def _defined_at(cls: type) -> str:
    """`` (defined at file:line)`` for a class whose source can be found, else ``""``."""
    where = defined_at(cls)
    return f" (defined at {where})" if where else ""


def _article(type_name: str) -> str:
    return f"an {type_name}" if type_name[:1] in "aeiou" else f"a {type_name}"


def parse_text(params: type, key: str, text: str) -> Any:
    """A parameter value typed on the command line: a TOML value (``10``, ``0.5``, ``true``,
    ``[1, 2]``, ``"x"``), except that a string parameter takes the text as it is (``-p
    grow=1`` is the label "1")."""
    annotation = field_types(params).get(key, Any) if dataclasses.is_dataclass(params) else Any
    if _split(annotation)[0] is str:
        return text
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text
