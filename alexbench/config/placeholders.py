"""Filling user-written text with named values: ``{name}`` and nothing else.

Task files (``obtain``, ``data_dir``) and prompt templates are written by users and may come
from anyone (a shared task folder, a plugin). :meth:`str.format` would evaluate attribute and
index access inside their fields (``{data_dir.__class__.__new__.__globals__[os].environ}`` prints
every environment variable, API keys included), conversions and nested fields in format specs.
So such text is never given to ``str.format``: :func:`parse` reads it once, when the file is
loaded, and accepts only plain named fields from an allowed set (``{{`` and ``}}`` are literal
braces); :meth:`Template.fill` then concatenates strings. Anything else is a
:class:`~alexbench.errors.TaskFileError` naming the file and the field.
"""

from __future__ import annotations

import string
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from alexbench.errors import TaskFileError

_BRACES = "write {{ and }} for literal braces"


@dataclass(frozen=True)
class Template:
    """Parsed text: literal pieces, each followed by the name of a field (or ``None``)."""

    text: str
    parts: tuple[tuple[str, str | None], ...]

    @property
    def fields(self) -> frozenset[str]:
        return frozenset(name for _, name in self.parts if name is not None)

    def fill(self, values: Mapping[str, object]) -> str:
        """The text with every field replaced by ``str(values[name])``; no lookups on the values."""
        return "".join(literal + ("" if name is None else str(values[name])) for literal, name in self.parts)


def parse(text: str, allowed: Collection[str], *, path: Path | str, field: str) -> Template:
    """Parse ``text`` (the value of ``field`` in the file ``path``); raise :class:`TaskFileError`
    for anything but ``{name}`` with ``name`` in ``allowed``."""
    names = sorted(allowed)
    try:
        pieces = list(string.Formatter().parse(text))
    except ValueError as exc:  # "Single '}' encountered in format string", "expected '}' before end of string"
        raise TaskFileError(path, field, f"{exc}; only {{name}} fields are filled ({_BRACES})") from None
    parts: list[tuple[str, str | None]] = []
    unknown: list[str] = []
    for literal, name, spec, conversion in pieces:
        if name is None:
            parts.append((literal, None))
            continue
        written = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
        if not name.isidentifier() or conversion or spec:
            raise TaskFileError(path, field, f"placeholder {written!r} is not a plain name: only {{name}} fields are "
                                f"filled, without attribute or index access, conversion or format spec; allowed: "
                                f"{names} ({_BRACES})")
        if name not in allowed:
            unknown.append(name)
        parts.append((literal, name))
    if unknown:
        raise TaskFileError(path, field, f"unknown placeholder(s) {sorted(set(unknown))}; allowed: {names} ({_BRACES})")
    return Template(text, tuple(parts))
