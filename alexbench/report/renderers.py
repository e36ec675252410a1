"""The built-in ``renderers`` plugin: rich, markdown, json, csv, latex and html as
:class:`~alexbench.interfaces.Renderer` classes (registered in ``pyproject.toml`` like a
third-party plugin), and the writing of every registered renderer's files that ``--out`` does.

Each class draws with the module that always drew its format (:mod:`~alexbench.report.terminal`,
:mod:`~alexbench.report.markdown`, :mod:`~alexbench.report.csvjson`, :mod:`~alexbench.report.latex`,
:mod:`~alexbench.report.htmlpage`), so the files are byte for byte what they were."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alexbench.errors import PluginError
from alexbench.fsio import atomic_write_text
from alexbench.plugin.hookspecs import hookimpl
from alexbench.renderer import Renderer

if TYPE_CHECKING:
    from alexbench.plugin.host import PluginHost
    from alexbench.plugin.registry import Registry
    from alexbench.report.board import Leaderboard

# Every format module is imported when it draws: they import the board model and, through it,
# scipy (~1.5 s), and every command that builds the plugin host loads this plugin, most of them
# (plugins, validate, run --dry-run, doctor) without drawing a board.

#: The format the terminal prints (``--format``'s default, and what ``run`` and ``grid`` print).
RICH = "rich"
#: The built-in formats whose files ``--out`` writes, in the order it always wrote them; the files of
#: renderers that plugins add follow, by name.
FILE_ORDER = ("markdown", "json", "csv", "latex", "html")
#: Files ``--out`` writes besides the renderers' (a swept study's table, the plots): no renderer may
#: take their names.
OTHER_OUTPUTS = (".sweep.csv", "_official.png", "_per_class_f1.png")


class RichText(Renderer):
    """Tables as the terminal shows them (plain text here; colour on a terminal)."""

    name = RICH
    version = "1.0"

    def render(self, board: Leaderboard) -> str:
        from alexbench.report.terminal import print_rich
        from alexbench.safetext import SafeConsole

        buffer = io.StringIO()  # not a terminal: every table at its natural width, no colour
        print_rich(SafeConsole(file=buffer, color_system=None, width=160), board)
        return buffer.getvalue()


class Markdown(Renderer):
    """A GitHub-flavoured Markdown section per task."""

    name = "markdown"
    version = "1.0"
    suffix = ".md"

    def render(self, board: Leaderboard) -> str:
        from alexbench.report.markdown import to_markdown

        return to_markdown(board)

    def show(self, boards: Sequence[Leaderboard]) -> str:
        return "".join(self.render(board) + "\n" for board in boards)  # a blank line between sections


class Json(Renderer):
    """The leaderboard's data, every number at full precision."""

    name = "json"
    version = "1.0"
    suffix = ".json"

    def render(self, board: Leaderboard) -> str:
        from alexbench.report.csvjson import to_json

        return to_json(board) + "\n"


class Csv(Renderer):
    """One row per variant and published result, in a fixed schema."""

    name = "csv"
    version = "1.0"
    suffix = ".csv"

    def render(self, board: Leaderboard) -> str:
        from alexbench.report.csvjson import to_csv

        return to_csv(board)


class Latex(Renderer):
    """A booktabs table per task, for a paper."""

    name = "latex"
    version = "1.0"
    suffix = ".tex"

    def render(self, board: Leaderboard) -> str:
        from alexbench.report.latex import to_latex

        return to_latex(board)


class Html(Renderer):
    """One self-contained page of every task (index.html): sortable tables, plots of F1 per class."""

    name = "html"
    version = "1.0"
    page = "index.html"

    def render(self, board: Leaderboard) -> str:
        return self.render_page([board])

    def render_page(self, boards: Sequence[Leaderboard]) -> str:
        from alexbench.report.htmlpage import render_html  # jinja2: imported when a page is drawn

        return render_html(boards)


BUILT_IN = (RichText, Markdown, Json, Csv, Latex, Html)


@hookimpl
def alexbench_register_renderers(registry: Registry[type[Renderer]]) -> None:
    for cls in BUILT_IN:
        registry.add(cls)


def file_renderers(host: PluginHost) -> list[Renderer]:
    """Every registered renderer that writes a file, built-in ones first (in :data:`FILE_ORDER`);
    two that would write the same file are an error naming both."""
    def order(name: str) -> tuple[int, str]:
        return (FILE_ORDER.index(name) if name in FILE_ORDER else len(FILE_ORDER), name)

    renderers = [host.renderer(name) for name in sorted(host.renderers.names(), key=order)]
    renderers = [r for r in renderers if r.suffix is not None or r.page is not None]
    taken: dict[str, str] = {suffix: "alexbench's other outputs" for suffix in OTHER_OUTPUTS}
    for renderer in renderers:
        for kind, value in (("suffix", renderer.suffix), ("page", renderer.page)):
            if value is None:
                continue
            if value in taken:
                raise PluginError(f"renderers {taken[value]!r} and {renderer.name!r} would both write the files "
                                  f"{value!r}: give one of them another {kind}")
            taken[value] = renderer.name
    return renderers


def write_board_files(board: Leaderboard, renderers: Sequence[Renderer], out_dir: Path) -> list[Path]:
    """Write ``<task><suffix>`` of each renderer with a suffix into ``out_dir``; the paths, in order."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for renderer in renderers:
        if renderer.suffix is not None:
            paths.append(_write(out_dir / f"{board.task}{renderer.suffix}", renderer, renderer.render, board))
    return paths


def write_pages(boards: Sequence[Leaderboard], renderers: Sequence[Renderer], out_dir: Path) -> list[Path]:
    """Write the one file of all ``boards`` of each renderer with a ``page``; the paths, in order."""
    out_dir.mkdir(parents=True, exist_ok=True)
    return [_write(out_dir / renderer.page, renderer, renderer.render_page, boards)
            for renderer in renderers if renderer.page is not None]


def _write(path: Path, renderer: Renderer, draw: Any, what: Any) -> Path:
    try:
        text = draw(what)
    except Exception as exc:  # a plugin's bug: named, with what it was drawing
        raise PluginError(f"renderer {renderer.name!r} raised drawing {path.name}: {type(exc).__name__}: {exc}") from exc
    if not isinstance(text, str):
        raise PluginError(f"renderer {renderer.name!r} returned {type(text).__name__} for {path.name}, not str")
    atomic_write_text(path, text)
    return path
