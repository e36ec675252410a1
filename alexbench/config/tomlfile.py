"""Reading TOML configuration with errors that name the file and the field."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from alexbench.errors import TaskFileError

_MISSING: Any = object()
_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false",
               list: "an array", dict: "a table"}


def read_toml(path: Path) -> dict[str, Any]:
    """Parse with :mod:`tomllib` (data only: no code, no tags); syntax errors keep their line."""
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise TaskFileError(path, "", "file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise TaskFileError(path, "", f"not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise TaskFileError(path, "", f"not UTF-8: {exc}") from None
    except OSError as exc:  # a folder named *.toml, no permission, an I/O error
        raise TaskFileError(path, "", f"cannot be read ({exc.strerror or exc})") from None


class Table:
    """A TOML table plus where it came from, for typed look-ups with precise errors."""

    def __init__(self, path: Path, data: dict[str, Any], prefix: str = "") -> None:
        self.path, self.data, self.prefix = path, data, prefix

    def field(self, key: str) -> str:
        return f"{self.prefix}.{key}" if self.prefix else key

    def error(self, key: str, message: str) -> TaskFileError:
        return TaskFileError(self.path, self.field(key), message)

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = _MISSING) -> Any:
        if key not in self.data:
            if default is _MISSING:
                raise self.error(key, "is required")
            return default
        value = self.data[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        ok = any(
            isinstance(value, k) and not (k in (int, float) and isinstance(value, bool)) for k in kinds
        ) or (float in kinds and isinstance(value, int) and not isinstance(value, bool))
        if not ok:
            expected = " or ".join(_TYPE_NAMES.get(k, k.__name__) for k in kinds)
            raise self.error(key, f"expected {expected}, got {value!r}")
        return value

    def str_list(self, key: str, default: Any = _MISSING) -> list[str]:
        values = self.get(key, list, default)
        for i, value in enumerate(values):
            if not isinstance(value, str):
                raise self.error(f"{key}[{i}]", f"expected a string, got {value!r}")
        return list(values)

    def choice(self, key: str, choices: tuple[str, ...], default: Any = _MISSING) -> str:
        value = self.get(key, str, default)
        if value not in choices:
            raise self.error(key, f"must be one of {', '.join(map(repr, choices))}, got {value!r}")
        return value

    def table(self, key: str, required: bool = False) -> Table:
        value = self.get(key, dict, _MISSING if required else {})
        return Table(self.path, value, self.field(key))

    def reject_unknown(self, allowed: set[str]) -> None:
        from alexbench.errors import did_you_mean

        for key in self.data:
            if key not in allowed:
                raise self.error(key, f"unknown field.{did_you_mean(key, allowed)} Allowed: {', '.join(sorted(allowed))}")
