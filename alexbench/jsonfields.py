"""Typed reads of a stored JSON object, with errors that name the file and the dotted field.

:mod:`alexbench.run.runspec` (``run_spec.json``) and :mod:`alexbench.scoring.results` (metrics,
prediction and explanation rows) read what an earlier run wrote, and may meet a file edited by
hand, cut short or written by a newer alexbench. Both use :class:`JsonFields`: each raises its own
error class, so a caller can tell a damaged spec from damaged results, with messages of one form::

    results/runs/demo/minilm/s1-…/metrics.json: test.scalars.f1: expected number, got 'high'

pydantic would check the shapes too, but its errors name fields in its own words and nest; these
readers keep the messages the stores always gave, and the dataclasses they fill stay plain.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: A JSON number (a bool is not one).
NUMBER = (int, float)


def where(source: Path | str | None, name: str) -> str:
    """``source: name``, either part left out when empty."""
    return ": ".join(str(part) for part in (source, name) if part)


class JsonFields:
    """One JSON object of a stored file: ``path`` is its dotted place in the file ("" for the whole),
    ``source`` names the file (and line), ``error`` is the exception class every problem raises,
    ``whole`` names the object in messages when ``path`` is empty (e.g. "run spec")."""

    def __init__(self, data: Any, path: str, source: Path | str | None, error: type[Exception],
                 whole: str = "") -> None:
        if not isinstance(data, Mapping):
            raise error(f"{where(source, path or whole)}: expected a JSON object, got {type(data).__name__}")
        self.data, self.path, self.source, self.error, self.whole = data, path, source, error, whole

    def name(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def fail(self, key: str, problem: str) -> Exception:
        return self.error(f"{where(self.source, self.name(key))}: {problem}")

    def get(self, key: str, kinds: type | tuple[type, ...], *, optional: bool = False, none: bool = False) -> Any:
        """The value of ``key`` (a deep copy) of one of ``kinds``; None when ``optional`` and absent,
        or when ``none`` and null. A bool is no int unless ``kinds`` names bool."""
        if key not in self.data:
            if optional:
                return None
            raise self.fail(key, "is missing")
        value = self.data[key]
        if value is None and none:
            return None
        kinds = kinds if isinstance(kinds, tuple) else (kinds,)
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            names = ("number" if kinds == NUMBER else " or ".join(k.__name__ for k in kinds)) + (" or null" if none else "")
            raise self.fail(key, f"expected {names}, got {value!r}")
        return copy.deepcopy(value)

    def section(self, key: str) -> JsonFields:
        """The object at ``key``, read the same way."""
        return JsonFields(self.get(key, dict), self.name(key), self.source, self.error)

    def numbers(self, key: str) -> tuple[Any, ...]:
        values = self.get(key, list)
        if not all(isinstance(v, NUMBER) and not isinstance(v, bool) for v in values):
            raise self.fail(key, f"expected a list of numbers, got {values!r}")
        return tuple(values)

    def strings(self, key: str) -> tuple[str, ...]:
        values = self.get(key, list)
        if not all(isinstance(v, str) for v in values):
            raise self.fail(key, f"expected a list of strings, got {values!r}")
        return tuple(values)

    def only(self, *known: str) -> JsonFields:
        """Itself, once no field but ``known`` is present (a newer alexbench's field is named)."""
        unknown = sorted(set(self.data) - set(known))
        if unknown:
            raise self.fail(unknown[0], f"unknown field (known: {', '.join(known)}); was the run stored by a newer "
                                        "alexbench?")
        return self
