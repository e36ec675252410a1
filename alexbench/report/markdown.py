"""A leaderboard as a Markdown section (a GitHub-flavoured table), drawn from the table model.

Every piece of text from the data (variant, task, label and reference names, notes, warnings) is
escaped (:func:`alexbench.safetext.markdown`): no HTML, image, link or line break of its own gets
into a file that GitHub, GitLab and IDEs render; ordinary text is written as it is."""

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
from alexbench.safetext import markdown, markdown_cell, markdown_code


def row(cells: list[str]) -> str:
    """A table row of already escaped cells (:func:`~alexbench.safetext.markdown_cell`)."""
    return "| " + " | ".join(cells) + " |"


def to_markdown(board: Leaderboard) -> str:
    model = build_table(board)
    heads = [markdown_cell(column.header) for column in model.columns]
    lines = [f"## {markdown(board.task)}", "",
             f"Official metric: {markdown_code(board.official_metric)}{board.direction} on test; mean ± std over seeds."
             + (f" {SIGNIFICANCE_NOTE}" if board.baseline else ""), "",
             "| " + " | ".join(heads) + " |", "|" + "|".join([":--"] + ["--:"] * (len(heads) - 1)) + "|"]
    lines += [row([markdown_cell(text) for text in model.text_cells(r)]) for r in board.rows]
    for ref in board.references:
        cells = [markdown_cell(c) if c is not None else "–" for c in model.reference_cells(ref)]
        cells[0] = f"*{markdown_cell(ref.name)}* {REFERENCE_MARK}"
        lines.append(row(cells))
    if has_simulated(board):
        lines += ["", SIMULATED_NOTE]
    if board.references:
        lines += ["", REFERENCE_NOTE, ""] + [f"- {markdown(reference_line(board, ref))}" for ref in board.references]
    lines += [f"\n> **Warning:** {markdown(warning)}" for warning in board.warnings]
    lines += [f"\n> {markdown(note)}" for note in board.notes]
    for report in board.sweeps:
        lines += sweep_tables.to_markdown(report)
    return "\n".join(lines) + "\n"
