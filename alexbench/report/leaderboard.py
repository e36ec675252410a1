"""Leaderboards: the public face of :mod:`alexbench.report`, and the per-task files.

Building a leaderboard from stored runs is :mod:`alexbench.report.board`; the table model every
renderer draws is :mod:`alexbench.report.table`; the renderers are :mod:`~alexbench.report.terminal`
(rich), :mod:`~alexbench.report.markdown`, :mod:`~alexbench.report.csvjson` (CSV and JSON),
:mod:`~alexbench.report.latex`, :mod:`~alexbench.report.htmlpage` (jinja2 templates) and
:mod:`~alexbench.report.plots`. The names below are re-exported so that
``from alexbench.report import leaderboard as lb`` reaches the usual ones."""

from __future__ import annotations

from pathlib import Path

from alexbench.fsio import atomic_write_text
from alexbench.report.board import (
    SIGNIFICANCE_NOTE,
    Leaderboard,
    Row,
    Stat,
    build,
    data_warnings,
    ranking,
)
from alexbench.report.columns import EXPLAINER_COLUMNS, EXPLAINER_KEYS
from alexbench.report.csvjson import to_csv, to_json
from alexbench.report.markdown import to_markdown
from alexbench.report.table import (
    REFERENCE_MARK,
    REFERENCE_NOTE,
    build_table,
    explainer_columns,
    reference_line,
    reference_score,
)
from alexbench.report.terminal import print_rich, print_table, to_rich, to_rich_parts

__all__ = [
    "EXPLAINER_COLUMNS", "EXPLAINER_KEYS", "REFERENCE_MARK", "REFERENCE_NOTE", "SIGNIFICANCE_NOTE", "Leaderboard",
    "Row", "Stat", "build", "build_table", "data_warnings", "explainer_columns", "print_rich", "print_table",
    "ranking", "reference_line", "reference_score", "to_csv", "to_json", "to_markdown", "to_rich", "to_rich_parts",
    "write",
]


def write(board: Leaderboard, out_dir: Path) -> list[Path]:
    """Write ``<task>.md``, ``<task>.json`` and ``<task>.csv`` into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        out_dir / f"{board.task}.md": to_markdown(board),
        out_dir / f"{board.task}.json": to_json(board) + "\n",
        out_dir / f"{board.task}.csv": to_csv(board),
    }
    for path, text in paths.items():
        atomic_write_text(path, text)
    return list(paths)
