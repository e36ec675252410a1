"""``alexbench leaderboard``, and the building, printing and writing of leaderboards that ``run``
and ``grid`` share with it."""

from __future__ import annotations

import sys
from collections.abc import Collection, Sequence
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from alexbench.cli.app import (
    App,
    err,
    out,
    store_options,
    writable_dir,
)
from alexbench.cli.errors import reports_errors
from alexbench.config.sweeps import SweepPlan
from alexbench.errors import EXIT_FAILURE, AlexbenchError, FailureError, PluginError
from alexbench.interfaces import Renderer
from alexbench.report import leaderboard as lb
from alexbench.report.renderers import RICH, file_renderers
from alexbench.safetext import rich_text, terminal

#: ``--bootstrap``: a whole number of resamples, at least one (0 or fewer left the paired
#: bootstrap nothing to take a percentile of: a traceback, not an answer).
BOOTSTRAP_RESAMPLES = click.IntRange(min=1)


def build_boards(app: App, task_names: Collection[str] | None, *, baseline: str | None,
                  variants_: Collection[str] | None, seeds: Collection[int] | None,
                  n_boot: int, plan: SweepPlan | None = None) -> tuple[list[lb.Leaderboard], int]:
    """The leaderboards of ``task_names`` (all when None) and how many of their stored runs are
    damaged (:meth:`alexbench.api.Bench.leaderboards_of`; each damaged run is a warning on stderr)."""
    boards, damaged = app.leaderboards_of(task_names, baseline=baseline, variants=variants_, seeds=seeds,
                                          n_boot=n_boot, plan=plan)
    return list(boards), damaged


def print_boards(boards: Sequence[lb.Leaderboard], renderer: Renderer | None = None) -> None:
    """Print the leaderboards on stdout (notes on stderr); nothing is written to disk. Without a
    ``renderer`` (``--format rich``) on the terminal's console: in colour, folded to its width,
    with the ranking across tasks; otherwise the renderer's text (:meth:`Renderer.show`)."""
    for board in boards:
        for warning in board.warnings:  # stderr, whatever the format: a table of rows that do not compare
            err.print(f"[yellow]warning:[/] {escape(terminal(board.task))}: {escape(terminal(warning))}", highlight=False)
        if renderer is None:
            lb.print_rich(out, board)
            for note in board.notes:
                err.print(f"[yellow]note:[/] {escape(terminal(note))}", highlight=False)
    if renderer is not None:
        text = renderer.show(boards)
        if not isinstance(text, str):
            raise PluginError(f"renderer {renderer.name!r}: show() returned {type(text).__name__}, not str")
        click.echo(text, nl=False)
        return
    ranks = lb.ranking(list(boards))
    if ranks:
        table = Table(title=f"ranking across {len(boards)} tasks")
        for head in ("variant", "mean rank", "win rate"):
            table.add_column(head)
        for r in ranks:
            table.add_row(rich_text(r["variant"]), f"{r['mean_rank']:.2f}", f"{r['win_rate']:.2f}")
        out.print(table)


def format_renderer(app: App, fmt: str) -> Renderer | None:
    """``--format NAME``: None for the terminal's ``rich``, else the renderer registered as ``NAME``
    (an unknown name is an error listing the registered ones)."""
    return None if fmt == RICH else app.host.renderer(fmt)


def write_boards(app: App, boards: Sequence[lb.Leaderboard], out_dir: Path, *, again: str, renderers: Sequence[Renderer],
                 plots: bool = True) -> None:
    """Write the leaderboards into ``out_dir`` (:meth:`alexbench.api.Bench.write`), a line on stderr
    per board and page written. A disk that fails
    now is a failure of the work (exit 1); the runs are stored, and ``again`` says how to write the
    leaderboards later."""
    try:
        written = app.write(boards, out_dir, renderers=renderers, plots=plots)
        for paths in written.files.values():
            err.print(escape(f"written: {', '.join(str(p) for p in paths)}"), highlight=False)
        for page in written.pages:
            err.print(escape(f"written: {page}"), highlight=False)
    except OSError as exc:
        raise FailureError(f"cannot write the leaderboards to {out_dir}: {exc.strerror or exc}; the runs are stored: "
                           f"{again}") from exc
    except PluginError as exc:
        raise PluginError(f"{exc}; the runs are stored: {again}") from exc


class FormatOption(click.Option):
    """``--format NAME``: its help lists the formats registered now (``alexbench_register_renderers``),
    those plugins add included."""

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        app = ctx.find_object(App)
        try:
            names = ", ".join(app.host.renderers.names()) if app is not None else ""
        except AlexbenchError:
            names = ""
        self.help = ("How to print the leaderboards: one of the registered formats, "
                     + (names or "which 'alexbench plugins' lists") + " (rich: the terminal's tables, in colour).")
        return super().get_help_record(ctx)


@click.command()
@store_options
@click.option("--task", "-t", "task_refs", multiple=True, help="Only this task: a name or a task file (repeatable).")
@click.option("--study", "-s", default=None,
              help="Only this study's tasks, variants and seeds, compared with its baseline (a name or a study file).")
@click.option("--baseline", "-b", default=None, help="Variant to compare every other variant with (Δ, significance).")
@click.option("--bootstrap", "n_boot", type=BOOTSTRAP_RESAMPLES, default=1000, show_default=True,
              help="Bootstrap resamples for significance (at least 1).")
@click.option("--format", "fmt", cls=FormatOption, metavar="NAME", default=RICH, show_default=True)
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Also write Markdown, JSON, CSV, LaTeX, PNG plots and index.html here, and the files of renderers "
                   "that plugins add (nothing is written without it).")
@click.pass_obj
@reports_errors
def leaderboard(app: App, task_refs: tuple[str, ...], study: str | None, baseline: str | None, n_boot: int, fmt: str,
                out_dir: Path | None) -> None:
    """Show the leaderboard(s) of finished runs: mean ± std over seeds, Δ and significance vs a
    baseline. Prints only; --out also writes them. 'leaderboard --study S --out DIR' renders a
    study exactly as 'grid S' does."""
    renderer = format_renderer(app, fmt)  # an unknown format is refused before any work
    names, variants_, seeds, baseline, plan = app.board_selection(task_refs or None, study=study, baseline=baseline)
    renderers: list[Renderer] = []
    if out_dir is not None:
        writable_dir(out_dir)
        renderers = file_renderers(app.host)
    boards, damaged = build_boards(app, names, baseline=baseline, variants_=variants_, seeds=seeds, n_boot=n_boot,
                                   plan=plan)
    if not boards and damaged:
        raise FailureError(f"every stored run{' of ' + ', '.join(sorted(names)) if names else ''} is damaged (see above)")
    if not boards:
        raise AlexbenchError(f"no finished runs under {app.store().root}" + (f" for task(s) {sorted(names)}" if names else "")
                             + (f" of study {study!r}" if study else ""))
    print_boards(boards, renderer)
    if out_dir is not None:
        write_boards(app, boards, out_dir, again="free space, then run this command again", renderers=renderers)
    if damaged:
        err.print(f"[red]{damaged} stored run(s) left out[/]: they are damaged (see the warnings above)")
        sys.exit(EXIT_FAILURE)
