"""The table model: a leaderboard's columns, built once, that every renderer draws.

:func:`build_table` turns a :class:`~alexbench.report.board.Leaderboard` into a
:class:`LeaderboardTable`: its columns in order (variant, seeds, the official test metric, Δ vs
the baseline, dev, macro F1 and accuracy — on a multi-label task macro, micro and samples F1,
subset accuracy and Hamming loss —, F1 per class or label, the explainer's statistics), each with a
key, its header as each format spells it, a tooltip, digits and where its value comes from, plus
the published reference rows. The renderers (:mod:`~alexbench.report.terminal`,
:mod:`~alexbench.report.markdown`, :mod:`~alexbench.report.latex`,
:mod:`~alexbench.report.htmlpage`) only format cells; CSV and JSON keep their fixed schema
(:mod:`~alexbench.report.csvjson`), whatever columns have values.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from alexbench.config.tasks import Reference
from alexbench.report.columns import (
    CLASSIFIER_COLUMNS,
    EXPLAINER_COLUMNS,
    EXPLAINER_KEYS,
    FILE_TABLE_KEYS,
    MIXED_EXPLAINERS,
    TYPESET_NAMES,
)

if TYPE_CHECKING:
    from alexbench.report.board import Leaderboard, Row, Stat


REFERENCE_MARK = "†"
REFERENCE_NOTE = "† published result, not run here: no Δ, significance or ranking."
SIMULATED_MARK = "‡"
SIMULATED_NOTE = ("‡ simulated: a component reads the gold labels (a judge of known quality, to tell how good a "
                  "judge must be); not ranked.")


def variant_text(row: Row) -> str:
    """A row's name as the tables show it: marked when the row is simulated."""
    return f"{row.variant} {SIMULATED_MARK}" if row.simulated else row.variant


def has_simulated(board: Leaderboard) -> bool:
    return any(r.simulated for r in board.rows)


def reference_score(ref: Reference) -> str:
    """A published score as published (0.661, 0.9332), not padded to our digits."""
    return format(ref.score, "g")


def reference_line(board: Leaderboard, ref: Reference) -> str:
    """One line per reference for footnotes: name, score, split, note, source."""
    note = f" ({ref.note})" if ref.note else ""
    return f"{REFERENCE_MARK} {ref.name}: {board.official_metric} {reference_score(ref)} on {ref.split}{note}; {ref.source}"


def explainer_names(board: Leaderboard) -> list[str]:
    """The explainers of the rows that have explainer statistics, sorted (their components'
    ``explainer.name``)."""
    return sorted({str((r.components.get("explainer") or {}).get("name") or MIXED_EXPLAINERS)
                   for r in board.rows if r.explainer})


def explainer_label(board: Leaderboard, *, typeset: bool = False) -> str:
    """What the explainer columns' headers call the explainer: its name when every row with
    explainer statistics has the same one (``llm``; typeset, for HTML and LaTeX, ``LLM``), else
    ``explainer``."""
    names = explainer_names(board)
    if len(names) != 1:
        return MIXED_EXPLAINERS
    return TYPESET_NAMES.get(names[0], names[0]) if typeset else names[0]


def explainer_columns(board: Leaderboard, *, machine: bool = False) -> list[str]:
    """The explainer columns some row of ``board`` has a value for (the machine's latencies only
    with ``machine``)."""
    return [k for k in (EXPLAINER_KEYS if machine else FILE_TABLE_KEYS) if any(k in r.explainer for r in board.rows)]


#: A multi-label task's score columns (besides the official one): the label-set metrics. Accuracy
#: there is subset accuracy (the whole set right); Hamming loss is lower-is-better.
MULTI_LABEL_SCORES = (("macro_f1", "Macro F1"), ("micro_f1", "Micro F1"), ("samples_f1", "Samples F1"),
                      ("subset_accuracy", "Subset acc."), ("hamming_loss", "Hamming loss"))

#: Column groups, in table order.
GROUPS = ("variant", "seeds", "official", "delta", "dev", "score", "per_class_f1", "classifier", "explainer")


@dataclass(frozen=True)
class Column:
    """One column of the leaderboard table. ``header`` is the plain-text header (rich, Markdown),
    ``html`` the HTML one (text, escaped when rendered), ``latex`` LaTeX source in which ``{}``
    stands for ``subject`` (the metric, baseline or class named by the header), escaped by the
    LaTeX renderer. ``stat`` gives a row's value for the columns that hold a mean ± std."""

    key: str
    group: str
    header: str
    html: str
    latex: str
    tooltip: str
    subject: str = ""
    numeric: bool = True
    digits: int = 3
    typeset_digits: int = 3
    stat: Callable[[Row], Stat | None] | None = None

    def value(self, row: Row) -> Stat | None:
        return self.stat(row) if self.stat is not None else None


@dataclass(frozen=True)
class LeaderboardTable:
    """The columns of ``board`` and its rows in leaderboard order (best first), then the
    published references (shown, never ranked)."""

    board: Leaderboard
    columns: tuple[Column, ...]

    @property
    def rows(self) -> list[Row]:
        return self.board.rows

    @property
    def references(self) -> list[Reference]:
        return self.board.references

    @property
    def best(self) -> float | None:
        """The best official test score (shown in bold or highlighted; the lowest for a
        lower-is-better metric), None when there is none."""
        pick = max if self.board.higher_is_better else min
        return pick((r.test_official.mean for r in self.board.rows if r.test_official.values
                     and math.isfinite(r.test_official.mean)), default=None)

    def is_best(self, row: Row) -> bool:
        best = self.best
        return best is not None and row.test_official.mean == best

    def text_cells(self, row: Row) -> list[str]:
        """The row as plain text, one cell per column (rich and Markdown)."""
        return [_text_cell(self.board, column, row) for column in self.columns]

    def reference_cells(self, ref: Reference) -> list[str | None]:
        """A published result in the table's columns: its name, "published" and its score; None
        where nothing applies."""
        cells: dict[str, str] = {"variant": ref.name, "seeds": "published", "official": reference_score(ref)}
        return [cells.get(column.group) for column in self.columns]


def _text_cell(board: Leaderboard, column: Column, row: Row) -> str:
    if column.group == "variant":
        return variant_text(row)
    if column.group == "seeds":
        return str(len(row.seeds))
    if column.group == "delta":
        if row.variant == board.baseline:
            return "(baseline)"
        if row.delta is None:
            return "–"
        marker = row.comparison.marker() if row.comparison else ""
        ci = f" [{row.comparison.ci_low:+.3f}, {row.comparison.ci_high:+.3f}]" if row.comparison else ""
        return f"{row.delta:+.3f}{marker}{ci}"
    s = column.value(row)
    return "–" if s is None else s.text(column.digits)


def build_table(board: Leaderboard, *, machine: bool = False) -> LeaderboardTable:
    """The columns of ``board``: Δ only with a baseline, a score or explainer column only when
    some row has a value for it, one F1 column per class of the task; the machine's latencies
    only with ``machine`` (the terminal)."""
    m, direction = board.official_metric, board.direction
    cols = [
        Column("variant", "variant", "variant", "variant", "Variant",
               "variant name; click it for components, significance and provenance", numeric=False),
        Column("seeds", "seeds", "seeds", "seeds", "Seeds", "number of seeds (finished runs) averaged"),
        Column("test_official", "official", f"test {m}", f"test {m}", "Test {}",
               f"official metric {m}{direction} on the test split, mean ± std over seeds", subject=m,
               stat=lambda r: r.test_official),
    ]
    if board.baseline:
        cols.append(Column("delta", "delta", f"Δ vs {board.baseline}", f"Δ vs {board.baseline}", r"$\Delta$ vs {}",
                           "difference of the seed-averaged official test metric from the baseline"
                           + ("" if board.higher_is_better else " (lower is better: a negative Δ is an improvement)")
                           + "; markers: Holm-corrected paired bootstrap; [95% CI]", subject=board.baseline))
    cols.append(Column("dev_official", "dev", f"dev {m}", f"dev {m}", "Dev {}",
                       f"{m} on the dev split, mean ± std over seeds", subject=m, stat=lambda r: r.dev_official))
    for key, latex in MULTI_LABEL_SCORES if board.multi_label else (("macro_f1", "Macro F1"), ("accuracy", "Accuracy")):
        if any(key in r.scalars for r in board.rows):
            cols.append(Column(key, "score", key, key, latex, f"{key} on the test split, mean ± std over seeds",
                               stat=lambda r, k=key: r.scalars.get(k)))
    what = "label" if board.multi_label else "class"
    for label in board.labels:
        cols.append(Column(f"f1_{label}", "per_class_f1", f"F1[{label}]", f"F1 [{label}]", "F1[{}]",
                           f"F1 of {what} {label!r} on test; bar = mean, whisker = ±std", subject=label,
                           stat=lambda r, lab=label: r.per_class_f1.get(lab)))
    for spec in CLASSIFIER_COLUMNS:
        if (machine or not spec.machine) and any(spec.key in r.classifier_usage for r in board.rows):
            cols.append(Column(f"classifier_{spec.key}", "classifier", spec.header, spec.html, spec.latex,
                               spec.tooltip, digits=spec.digits, typeset_digits=spec.typeset_digits,
                               stat=lambda r, k=spec.key: r.classifier_usage.get(k)))
    shown = explainer_columns(board, machine=machine)
    name, typeset, names = explainer_label(board), explainer_label(board, typeset=True), explainer_names(board)
    mixed = f"; this board's rows have different explainers ({', '.join(names)}): each row's is in its components"
    for spec in EXPLAINER_COLUMNS:
        if spec.key in shown:
            cols.append(Column(f"explainer_{spec.key}", "explainer", spec.header.replace("{}", name),
                               spec.html.replace("{}", typeset), spec.latex,
                               spec.tooltip + (mixed if len(names) > 1 else ""), subject=typeset,
                               digits=spec.digits, typeset_digits=spec.typeset_digits,
                               stat=lambda r, k=spec.key: r.explainer.get(k)))
    return LeaderboardTable(board, tuple(cols))
