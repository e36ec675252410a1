"""A leaderboard as a rich table for the terminal, drawn from the table model. Every text from
the data is shown with its control characters escaped (:mod:`alexbench.safetext`)."""

from __future__ import annotations

from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

from alexbench.report import sweep_tables
from alexbench.report.board import SIGNIFICANCE_NOTE, Leaderboard
from alexbench.report.table import (
    REFERENCE_MARK,
    REFERENCE_NOTE,
    SIMULATED_NOTE,
    build_table,
    has_simulated,
    reference_line,
)
from alexbench.safetext import SafeConsole, rich_text


def to_rich(board: Leaderboard) -> Table:
    """The board for the terminal: every column, the machine's latencies included."""
    model = build_table(board, machine=True)
    # rich_text, not str: rich would read "F1[positive]" or a variant named "x[y]" as markup and drop it.
    table = Table(title=rich_text(f"{board.task} — official metric: {board.official_metric}{board.direction} (test, mean ± std over seeds)"),
                  caption=SIGNIFICANCE_NOTE if board.baseline else None)
    for i, column in enumerate(model.columns):
        # fold, never "…": a narrow terminal may break "0.682±0.012" over two lines, not hide it
        table.add_column(rich_text(column.header), justify="left" if i == 0 else "right",
                         style="bold" if column.group == "official" else None, overflow="fold")
    for row in board.rows:
        table.add_row(*(rich_text(cell) for cell in model.text_cells(row)))
    if has_simulated(board):
        table.caption = "\n".join(filter(None, [table.caption, SIMULATED_NOTE]))
    if board.references:
        table.add_section()
        for ref in board.references:
            cells = [c if c is not None else "–" for c in model.reference_cells(ref)]
            cells[0] = f"{ref.name} {REFERENCE_MARK}"
            table.add_row(*(rich_text(cell) for cell in cells), style="dim")
        table.caption = "\n".join(filter(None, [table.caption, REFERENCE_NOTE,
                                                 *(reference_line(board, r) for r in board.references)]))
    if table.caption:
        table.caption = rich_text(str(table.caption), "table.caption", multiline=True)
    return table


def print_rich(console: Console, board: Leaderboard) -> None:
    """Print a leaderboard without hiding digits: on a terminal its columns fold within the
    window; anywhere else (a log file, a pipe, CI) the table gets its natural width. A swept
    study's curves and stage effects follow."""
    print_table(console, to_rich(board))
    for report in board.sweeps:
        for table in sweep_tables.to_rich(report):
            print_table(console, table)


def print_table(console: Console, table: Table) -> None:
    """Print a rich table folded to a terminal's width, or at its natural width anywhere else."""
    if console.is_terminal:
        console.print(table)
        return
    natural = Measurement.get(console, console.options.update(width=10_000), table).maximum
    # print(width=...) cannot exceed the console's own width: a console of the right width, same file
    SafeConsole(file=console.file, width=max(natural, console.width), color_system=None).print(table)
