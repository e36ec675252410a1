"""A leaderboard as a LaTeX table (booktabs), ready to paste into a paper.

Needs ``\\usepackage{booktabs}`` in the preamble. Values are mean ± std over seeds; the best
official score is bold; Δ vs the baseline carries the significance markers (Holm-corrected paired
bootstrap: * p<0.05, ** p<0.01) and the 95% bootstrap CI. Every piece of text from the data
(variant, task and label names) is escaped.
"""

from __future__ import annotations

import math

from alexbench.report.board import Leaderboard, Row, Stat
from alexbench.report.sweep import AxisReport, SweepPoint
from alexbench.report.table import Column, LeaderboardTable, build_table
from alexbench.safetext import terminal

LATEX_SPECIALS = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
    "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "<": r"\textless{}", ">": r"\textgreater{}",
    "[": "{[}", "]": "{]}",  # a row starting with "[" would be read as the optional argument of "\\"
}


def latex_escape(text: object) -> str:
    """Escape the characters LaTeX treats specially, so the text prints as itself; control
    characters (a newline, ESC) are shown as escapes (``\\x1b``), as in the terminal."""
    return "".join(LATEX_SPECIALS.get(ch, ch) for ch in terminal(text))


def _stat(s: Stat | None, digits: int = 3, bold: bool = False) -> str:
    if s is None or not s.values or not math.isfinite(s.mean):
        return "--"
    mean = f"{s.mean:.{digits}f}"
    mean = rf"\textbf{{{mean}}}" if bold else mean
    if len(s.values) == 1:
        return mean
    return rf"{mean}\,{{\scriptsize$\pm${s.std:.{digits}f}}}"


def _delta(board: Leaderboard, row: Row) -> str:
    if row.variant == board.baseline:
        return r"\textit{baseline}"
    if row.delta is None:
        return "--"
    c = row.comparison
    if c is None:
        return f"${row.delta:+.3f}$"
    marker = c.marker()
    sup = f"^{{{marker}}}" if marker else ""
    return rf"${row.delta:+.3f}{sup}$\,{{\scriptsize[${c.ci_low:+.3f}$, ${c.ci_high:+.3f}$]}}"


def _head(column: Column) -> str:
    return column.latex.replace("{}", latex_escape(column.subject))


def _cell(model: LeaderboardTable, column: Column, row: Row) -> str:
    if column.group == "variant":
        return latex_escape(row.variant) + (r"$^\ddagger$" if row.simulated else "")
    if column.group == "seeds":
        return str(len(row.seeds))
    if column.group == "delta":
        return _delta(model.board, row)
    return _stat(column.value(row), column.typeset_digits, bold=column.group == "official" and model.is_best(row))


def to_latex(board: Leaderboard, *, caption: str | None = None, label: str | None = None) -> str:
    """A ``table`` float with a booktabs ``tabular``: one row per variant, leaderboard order."""
    model = build_table(board)
    metric = latex_escape(board.official_metric)
    heads = [_head(column) for column in model.columns]
    lines = [" & ".join(_cell(model, column, row) for column in model.columns) + r" \\" for row in board.rows]
    if board.references:  # published results, below a rule, in italics with a dagger
        lines.append(r"\midrule")
        for ref in board.references:
            cells = [c if c is not None else "--" for c in model.reference_cells(ref)]
            cells[0] = rf"\textit{{{latex_escape(ref.name)}}}$^\dagger$"
            lines.append(" & ".join(cells) + r" \\")
    n_seeds = "/".join(str(n) for n in sorted({len(r.seeds) for r in board.rows})) or "0"
    if caption is None:
        caption = (f"{latex_escape(board.task)}: official metric {metric}{board.direction} on test, mean $\\pm$ std "
                   f"over {n_seeds} seeds; best in bold.")
        if board.baseline:
            caption += (rf" $\Delta$: difference from {latex_escape(board.baseline)} with the 95\% paired-bootstrap "
                        r"CI; $^{*}$~$p<0.05$, $^{**}$~$p<0.01$ (paired bootstrap over test posts, Holm-corrected "
                        r"across variants).")
        if any(r.simulated for r in board.rows):
            caption += (r" $^\ddagger$~Simulated: a component reads the gold labels (a judge of known quality); "
                        "not ranked.")
        if board.references:
            caption += (r" $^\dagger$~Published, not run here (no $\Delta$, significance or ranking): "
                        + "; ".join(f"{latex_escape(r.name)}, {latex_escape(r.source)}"
                                    + (f" ({latex_escape(r.note)})" if r.note else "") for r in board.references)
                        + ".")
    if label is None:
        label = "tab:" + "".join(ch if ch.isalnum() or ch in "-_:." else "-" for ch in board.task)
    spec = "l" + "r" * (len(heads) - 1)
    out = [
        f"% alexbench leaderboard for task {latex_escape(board.task)}; needs \\usepackage{{booktabs}}",
        r"\begin{table}[t]", r"\centering", r"\small",
        rf"\begin{{tabular}}{{{spec}}}", r"\toprule",
        " & ".join(heads) + r" \\", r"\midrule", *lines, r"\bottomrule", r"\end{tabular}",
        rf"\caption{{{caption}}}", rf"\label{{{label}}}", r"\end{table}",
    ]
    return "\n".join(out) + "\n" + "".join("\n" + sweep_to_latex(report) for report in board.sweeps)


def sweep_to_latex(report: AxisReport) -> str:
    """The stage effects as a booktabs table float."""
    labels = report.labels
    effects = [s for s in report.series if s.first_significant is not None]
    head = " & ".join(["Stage (variant)", *(latex_escape(lab) for lab in labels), "First sig. gain"]) + r" \\"

    def cell(p: SweepPoint) -> str:
        if p.delta is None:
            return "--"
        c = p.comparison
        sup = f"^{{{c.marker()}}}" if c and c.marker() else ""
        ci = rf"\,{{\scriptsize[${c.ci_low:+.3f}$, ${c.ci_high:+.3f}$]}}" if c else ""
        return rf"${p.delta:+.3f}{sup}${ci}"

    rows = [" & ".join([latex_escape(s.variant) + (r"$^\ddagger$" if s.simulated else ""),
                        *(cell(p) for p in s.points), latex_escape(s.first_significant or "")]) + r" \\"
            for s in effects]
    label = "tab:" + "".join(ch if ch.isalnum() or ch in "-_:." else "-" for ch in f"{report.task}-{report.axis.name}")
    caption = (rf"{latex_escape(report.task)}: $\Delta$ of each stage against {latex_escape(report.baseline or '')} "
               rf"at each {latex_escape(report.axis.name)} point, with the 95\% paired-bootstrap CI; $^{{*}}$~$p<0.05$, "
               r"$^{**}$~$p<0.01$ (Holm across the variants at each point).")
    if any(s.simulated for s in effects):
        caption += r" $^\ddagger$~Simulated: reads the gold labels; not ranked."
    return "\n".join([f"% alexbench sweep of {latex_escape(report.task)} over {latex_escape(report.axis.name)}",
                      r"\begin{table}[t]", r"\centering", r"\small",
                      rf"\begin{{tabular}}{{l{'r' * len(labels)}l}}", r"\toprule", head, r"\midrule", *rows,
                      r"\bottomrule", r"\end{tabular}", rf"\caption{{{caption}}}", rf"\label{{{label}}}",
                      r"\end{table}"]) + "\n"
