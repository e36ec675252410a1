"""The renderer contract: a format that draws leaderboards as text (``alexbench_register_renderers``).

A renderer is a class with a ``name`` (what ``alexbench leaderboard --format NAME`` calls it), a
``version`` and ``render(board)``: one leaderboard as text. ``suffix`` makes ``--out`` (and ``run``,
``grid``) write each board's text to ``<task><suffix>``; ``page`` makes them write one file of all
the boards (``index.html``); a renderer with neither only prints. The built-in formats (rich,
markdown, json, csv, latex, html) are registered this way by the ``renderers`` plugin,
:mod:`alexbench.report.renderers`. Re-exported by :mod:`alexbench.interfaces`.
"""

from __future__ import annotations

import abc
import inspect
import re
from collections.abc import Sequence
from typing import Any, ClassVar

from alexbench.errors import PluginError

#: What a renderer draws: a :class:`alexbench.report.board.Leaderboard`. Named, not imported: the
#: contract stands below the report that builds the boards (importing it, even for type checkers
#: only, would tie the contracts to the whole pipeline in one circle).
Leaderboard = Any

#: A file suffix (``.md``, ``.sweep.txt``) and a page's file name (``index.html``): no folders.
SUFFIX = re.compile(r"\.[A-Za-z0-9][A-Za-z0-9._-]*")
PAGE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


class Renderer(abc.ABC):
    """Draws leaderboards as text. Text from the data (task, variant, label and reference names,
    notes, warnings) is escaped for the format, and no character a terminal acts on (ESC and the
    other control characters, bidi overrides: :mod:`alexbench.safetext`) reaches the output but
    the format's own newlines and tabs. The same boards give the same text (no time stamp)."""

    kind: ClassVar[str] = "renderer"
    name: ClassVar[str]
    version: ClassVar[str]
    #: ``--out`` writes ``render(board)`` to ``<task><suffix>`` for each board; None: no such file.
    suffix: ClassVar[str | None] = None
    #: ``--out`` writes ``render_page(boards)`` to this file name (``index.html``); None: no page.
    page: ClassVar[str | None] = None

    @abc.abstractmethod
    def render(self, board: Leaderboard) -> str:
        """One leaderboard as text: what its ``<task><suffix>`` file holds."""

    def render_page(self, boards: Sequence[Leaderboard]) -> str:
        """All the boards as one text (the ``page`` file). Default: each board's, one after another."""
        return "".join(self.render(board) for board in boards)

    def show(self, boards: Sequence[Leaderboard]) -> str:
        """What ``alexbench leaderboard --format NAME`` prints. Default: :meth:`render_page`."""
        return self.render_page(boards)


def check_renderer(name: str, target: Any) -> None:
    """What the host checks of a registered renderer class (:class:`~alexbench.errors.PluginError`
    saying what to change)."""
    if not (inspect.isclass(target) and issubclass(target, Renderer)):
        raise PluginError(f"renderer {name!r}: {target!r} is not a subclass of alexbench.interfaces.Renderer")
    for attr in ("name", "version"):
        if not isinstance(getattr(target, attr, None), str):
            raise PluginError(f"renderer {name!r}: class {target.__name__} must set a string {attr!r}")
    if target.name != name:
        raise PluginError(f"renderer registered as {name!r} but its class says name={target.name!r}")
    if inspect.isabstract(target):
        raise PluginError(f"renderer {name!r}: class {target.__name__} must define render(self, board) -> str")
    for attr, pattern, example in (("suffix", SUFFIX, "'.md'"), ("page", PAGE, "'index.html'")):
        value = getattr(target, attr)
        if value is not None and not (isinstance(value, str) and pattern.fullmatch(value)):
            raise PluginError(f"renderer {name!r}: {attr} must be None or a file {attr} such as {example} "
                              f"(letters, digits, '.', '_', '-'), got {value!r}")
