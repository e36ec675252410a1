"""The renderer hook's specification, kept beside :mod:`alexbench.plugin.hookspecs` (which
re-exports it in its place among the registrar hooks, so the host, ``alexbench plugins`` and
docs/hooks.md see one list of hooks)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from alexbench.plugin.registry import Registry
    from alexbench.renderer import Renderer

# The marker of hookspecs.PROJECT, made here too: importing hookspecs would make a circle.
hookspec = pluggy.HookspecMarker("alexbench")


@hookspec
def alexbench_register_renderers(registry: Registry[type[Renderer]]) -> None:
    """Register leaderboard formats, subclasses of :class:`alexbench.interfaces.Renderer`.

    Each class sets ``name`` (what ``alexbench leaderboard --format NAME`` calls it), ``version``
    and ``render(board)``: one :class:`~alexbench.report.board.Leaderboard` as text. With
    ``suffix = ".ext"``, ``--out`` (of ``leaderboard``, ``run`` and ``grid``) also writes each
    board's text to ``<task>.ext``; with ``page = "name.ext"``, one file of all the boards
    (``render_page(boards)``, by default each board's text in turn). ``show(boards)`` is what
    ``--format NAME`` prints (by default ``render_page``). Draw the columns from the table model
    (:func:`alexbench.report.table.build_table`) as the built-in formats do, and escape text from
    the data for the format (:mod:`alexbench.safetext`).

    :param registry: The renderer registry: ``registry.add(MyRenderer)`` (or ``add_lazy("name",
        "pkg.module:MyRenderer")``, imported when the format is used).
    :return: Nothing; a returned value is ignored.

    When it is called
    =================

    Once per plugin host, the first time anything needs a registry, plugin by plugin in
    registration order. The built-in ``renderers`` plugin (:mod:`alexbench.report.renderers`)
    registers ``rich``, ``markdown``, ``json``, ``csv``, ``latex`` and ``html`` this way. ``rich``
    is the terminal's: ``--format rich`` (the default, and what ``run`` and ``grid`` print) is drawn
    by the host in colour, folded to the window, with the notes on stderr and a ranking across
    tasks; its ``render`` is the same tables as plain text.

    What the host checks
    ====================

    When a class is registered (a lazy one: when it is used): it subclasses ``Renderer``, sets
    string ``name`` and ``version``, is registered under its own ``name``, defines ``render``,
    ``suffix`` and ``page`` are None or plain file suffixes and names (no folders), and no other
    plugin took that name. ``--format`` takes the registered names only (an unknown one is an error
    listing them, with "did you mean"); ``--out`` refuses two renderers that would write the same
    file. The conformance kit's ``RendererContract`` (:mod:`alexbench.testing`) renders real
    leaderboards, and ones whose names are made to break formats, through your renderer.

    Errors
    ======

    A registrar that raises, or registers a class that fails the checks, is reported as a broken
    plugin and every renderer it registered is withdrawn; the other plugins keep working. A
    renderer that raises fails the command that uses it (``--format``, or ``--out`` after the runs
    are stored: the error says how to write the leaderboards again).

    Example::

        from alexbench.interfaces import Renderer
        from alexbench.safetext import terminal

        class Tsv(Renderer):
            \"\"\"Variant and official test metric, tab-separated.\"\"\"

            name, version, suffix = "tsv", "1.0", ".tsv"

            def render(self, board):
                return "".join(f"{terminal(row.variant)}\\t{row.test_official.mean:.4f}\\n"
                               for row in board.rows)

        @hookimpl
        def alexbench_register_renderers(registry):
            registry.add(Tsv)
    """
