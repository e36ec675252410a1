"""A leaderboard as a Markdown section (a GitHub-flavoured table), drawn from the table model."""

from __future__ import annotations

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


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def to_markdown(board: Leaderboard) -> str:
    model = build_table(board)
    heads = [column.header for column in model.columns]
    lines = [f"## {board.task}", "",
             f"Official metric: `{board.official_metric}`{board.direction} on test; mean ± std over seeds."
             + (f" {SIGNIFICANCE_NOTE}" if board.baseline else ""), "",
             "| " + " | ".join(heads) + " |", "|" + "|".join([":--"] + ["--:"] * (len(heads) - 1)) + "|"]
    lines += [_row(model.text_cells(row)) for row in board.rows]
    for ref in board.references:
        cells = [c if c is not None else "–" for c in model.reference_cells(ref)]
        cells[0] = f"*{ref.name}* {REFERENCE_MARK}"
        lines.append(_row(cells))
    if has_simulated(board):
        lines += ["", SIMULATED_NOTE]
    if board.references:
        lines += ["", REFERENCE_NOTE, ""] + [f"- {reference_line(board, ref)}" for ref in board.references]
    lines += [f"\n> **Warning:** {warning}" for warning in board.warnings]
    lines += [f"\n> {note}" for note in board.notes]
    for report in board.sweeps:
        lines += sweep_tables.to_markdown(report)
    return "\n".join(lines) + "\n"
