"""A leaderboard as rich tables for the terminal, drawn from the table model.

Off a terminal (a log, a pipe, CI) the board is one table at its natural width, a row a line. On
a terminal the board fits the window: a table too wide for it is split into several, each
starting with the variant column: the first holds seeds, the official metric, Δ and whatever else
fits; the other column groups (dev, the scores, F1 per class or label, the explainer's statistics)
follow in tables of their own, a group split only when it is wider than the window by itself (a
multi-label task's F1 per label). Every text from the data is shown with its control characters
escaped (:mod:`alexbench.safetext`)."""

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
    LeaderboardTable,
    build_table,
    has_simulated,
    reference_line,
)
from alexbench.safetext import SafeConsole, rich_text

#: What a continued table holds, by column group (its title).
GROUP_TITLES = {"seeds": "seeds", "official": "official metric", "delta": "Δ", "dev": "dev", "score": "test scores",
                "per_class_f1": "test F1 per {}", "classifier": "classifier cost",
                "explainer": "explainer"}


def to_rich(board: Leaderboard) -> Table:
    """The board for the terminal as one table: every column, the machine's latencies included."""
    model = build_table(board, machine=True)
    return _table(model, list(range(len(model.columns))), first=True)


def to_rich_parts(board: Leaderboard, width: int, console: Console | None = None) -> list[Table]:
    """The board as tables no wider than ``width`` where it can be: the whole board when it fits,
    else the variant column and as many column groups as fit, then the next groups in tables of
    their own (each again with the variant column). Only a table of the variant column and a
    single column wider than ``width`` is wider (the terminal folds its cells)."""
    model = build_table(board, machine=True)
    measure = console or Console(width=width, color_system=None)

    def fits(columns: list[int]) -> bool:
        table = _table(model, columns, first=len(parts) == 1)  # the first has the published results too
        return Measurement.get(measure, measure.options.update(width=10_000), table).maximum <= width

    groups: list[list[int]] = []  # the columns after the variant's, by group, in order
    for i, column in enumerate(model.columns[1:], start=1):
        if groups and model.columns[groups[-1][0]].group == column.group:
            groups[-1].append(i)
        else:
            groups.append([i])
    parts: list[list[int]] = [[0]]
    for group in groups:
        if fits(parts[-1] + group):
            parts[-1] += group
            continue
        if len(parts[-1]) > 1:
            parts.append([0])
            if fits(parts[-1] + group):
                parts[-1] += group
                continue
        for i in group:  # wider than the window by itself: as many of its columns in a table as fit
            if len(parts[-1]) > 1 and not fits(parts[-1] + [i]):
                parts.append([0])
            parts[-1].append(i)
    return [_table(model, columns, first=n == 0) for n, columns in enumerate(parts)]


def _table(model: LeaderboardTable, columns: list[int], *, first: bool) -> Table:
    """A table of ``columns`` (indices into the model's) of every row; the first gets the board's
    title, caption and published results."""
    board = model.board
    if first:
        title = f"{board.task} — official metric: {board.official_metric}{board.direction} (test, mean ± std over seeds)"
    else:
        groups = list(dict.fromkeys(model.columns[i].group for i in columns[1:]))
        what = ", ".join(GROUP_TITLES.get(g, g).replace("{}", "label" if board.multi_label else "class")
                         for g in groups)
        title = f"{board.task}, continued: {what} (mean ± std over seeds)"
    # rich_text, not str: rich would read "F1[positive]" or a variant named "x[y]" as markup and drop it.
    table = Table(title=rich_text(title))
    for i in columns:
        column = model.columns[i]
        # fold, never "…": a narrow terminal may break "0.682±0.012" over two lines, not hide it
        table.add_column(rich_text(column.header), justify="left" if i == 0 else "right",
                         style="bold" if column.group == "official" else None, overflow="fold")
    for row in board.rows:
        cells = model.text_cells(row)
        table.add_row(*(rich_text(cells[i]) for i in columns))
    if not first:
        return table
    caption = [SIGNIFICANCE_NOTE] if board.baseline else []
    if has_simulated(board):
        caption.append(SIMULATED_NOTE)
    if board.references:
        table.add_section()
        for ref in board.references:
            cells = [c if c is not None else "–" for c in model.reference_cells(ref)]
            cells[0] = f"{ref.name} {REFERENCE_MARK}"
            table.add_row(*(rich_text(cells[i]) for i in columns), style="dim")
        caption += [REFERENCE_NOTE, *(reference_line(board, r) for r in board.references)]
    table.caption = rich_text("\n".join(caption), "table.caption", multiline=True) if caption else None
    return table


def print_rich(console: Console, board: Leaderboard) -> None:
    """Print a leaderboard without hiding digits: on a terminal in as many tables as it takes to
    fit the window (:func:`to_rich_parts`); anywhere else (a log file, a pipe, CI) as one table at
    its natural width. A swept study's curves and stage effects follow."""
    tables = to_rich_parts(board, console.width, console) if console.is_terminal else [to_rich(board)]
    for table in tables:
        print_table(console, table)
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

