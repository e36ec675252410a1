"""When a plugin breaks: what is recorded of it (:class:`BrokenPlugin`) and which file and line
are its fault (:func:`fault_location`: the innermost frame that is not importlib's, pluggy's or
alexbench's own plugin machinery)."""

from __future__ import annotations

import importlib
import inspect
import os
import traceback
from dataclasses import dataclass
from typing import Any

import pluggy


@dataclass(frozen=True)
class PluginInfo:
    name: str
    distribution: str | None
    version: str | None
    module: str


@dataclass(frozen=True)
class BrokenPlugin:
    """A plugin left out: why (``error``, ending with the file:line at fault when there is one),
    that file:line alone (``where``), and the traceback of the exception behind it."""

    name: str
    distribution: str | None
    error: str
    where: str | None = None
    traceback: str | None = None


#: Frames of these files are the host's or the import machinery's, never the plugin's fault.
_NOT_THE_PLUGIN = tuple(
    os.path.dirname(os.path.abspath(path)) + os.sep
    for path in (importlib.__file__, pluggy.__file__)
) + (os.path.join(os.path.dirname(os.path.abspath(__file__)), "plugin") + os.sep,  # host, registry
   os.path.abspath(__file__),
   os.path.join(os.path.dirname(os.path.abspath(__file__)), "config", "params.py"),  # a Params class's checks
   os.path.join(os.path.dirname(os.path.abspath(__file__)), "testing.py"),
   os.path.join(os.path.dirname(os.path.abspath(__file__)), "kit") + os.sep)


def _origin(exc: BaseException) -> BaseException:
    """The exception at the bottom of ``raise ... from ...`` chains (the plugin's own error)."""
    seen = {id(exc)}
    while exc.__cause__ is not None and id(exc.__cause__) not in seen:
        exc = exc.__cause__
        seen.add(id(exc))
    return exc


def fault_location(exc: BaseException) -> str | None:
    """``file:line`` of the innermost frame of ``exc`` that belongs to the plugin (not to
    importlib, pluggy or the host); a SyntaxError's own file and line."""
    for error in (_origin(exc), exc):
        if isinstance(error, SyntaxError) and error.filename:
            return f"{error.filename}:{error.lineno}"
        for frame in reversed(traceback.extract_tb(error.__traceback__)):
            path = os.path.abspath(frame.filename) if not frame.filename.startswith("<") else frame.filename
            if not path.startswith("<") and not path.startswith(_NOT_THE_PLUGIN):
                return f"{frame.filename}:{frame.lineno}"
    return None


def broken_plugin(name: str, distribution: str | None, message: str, exc: BaseException | None = None,
            where: str | None = None) -> BrokenPlugin:
    where = where or (fault_location(exc) if exc is not None else None)
    trace = "".join(traceback.format_exception(exc)) if exc is not None else None
    if where and where not in message:
        message = f"{message} (at {where})"
    return BrokenPlugin(name, distribution, message, where, trace)


def defined_at(obj: Any) -> str | None:
    """``file:line`` where a function or class is defined, when its source can be found."""
    try:
        return f"{inspect.getsourcefile(obj)}:{inspect.getsourcelines(obj)[1]}"
    except (OSError, TypeError):
        return None
