"""A swept study's outputs as text: Markdown sections, rich tables and a long CSV (LaTeX: in
:mod:`alexbench.report.latex`), drawn
from :class:`~alexbench.report.sweep.AxisReport` (the curves' points and the stage effects)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from rich.table import Table
from rich.text import Text

from alexbench.report.sweep import AxisReport, SweepPoint
from alexbench.report.table import SIMULATED_MARK, SIMULATED_NOTE
from alexbench.safetext import csv_text, markdown, markdown_cell, markdown_code, rich_text

CURVE_NOTE = "Official test metric at each point of the axis: mean over seeds [95% CI, Student's t over the seeds]."
EFFECT_NOTE = ("Stage effects: Δ of each variant (the stage it adds over the baseline) against the baseline at the same "
               "point [95% paired-bootstrap CI]; * p<0.05, ** p<0.01, Holm-corrected across the variants compared at "
               "each point. First significant gain: the first point, in the listed order, where Δ is significantly "
               "better.")


def _num(value: float | None, digits: int = 3, sign: bool = False) -> str:
    if value is None:
        return "–"
    return f"{value:+.{digits}f}" if sign else f"{value:.{digits}f}"


def curve_cell(point: SweepPoint) -> str:
    if point.mean is None:
        return "–"
    if point.ci_low is None:
        return _num(point.mean)
    return f"{_num(point.mean)} [{_num(point.ci_low)}, {_num(point.ci_high)}]"


def effect_cell(point: SweepPoint) -> str:
    if point.delta is None:
        return "–"
    c = point.comparison
    if c is None:
        return _num(point.delta, sign=True)
    return f"{_num(point.delta, sign=True)}{c.marker()} [{_num(c.ci_low, sign=True)}, {_num(c.ci_high, sign=True)}]"


def _name(report: AxisReport, variant: str) -> str:
    s = next(s for s in report.series if s.variant == variant)
    mark = f" {SIMULATED_MARK}" if s.simulated else ""
    return f"{variant}{mark}" + ("" if s.swept else " (not swept)")


def title(report: AxisReport) -> str:
    return f"{report.task}: sweep over {report.axis.name}"


def break_even_lines(report: AxisReport) -> list[str]:
    lines = []
    for b in report.break_even:
        lines.append(f"Break-even of {b.variant} (simulated): {b.note}.")
    for m in report.measured:
        ci = f" [{_num(m.ci_low, sign=True)}, {_num(m.ci_high, sign=True)}]" if m.ci_low is not None else ""
        lines.append(f"Measured judge {m.variant}: flip precision {m.flip_precision:.2f}, Δ vs "
                     f"{report.baseline} {_num(m.delta, sign=True)}{ci} at the reference point.")
    return lines


def _md_row(cells: Sequence[str]) -> str:
    """A Markdown table row; every cell escaped (text from the data: variant names, point labels)."""
    return "| " + " | ".join(markdown_cell(c) for c in cells) + " |"


def to_markdown(report: AxisReport) -> list[str]:
    labels = report.labels
    lines = ["", f"### {markdown(title(report))}", "", CURVE_NOTE, "",
             _md_row(["variant", *labels]), "|" + "|".join([":--"] + ["--:"] * len(labels)) + "|"]
    lines += [_md_row([_name(report, s.variant), *(curve_cell(p) for p in s.points)]) for s in report.series]
    effects = [s for s in report.series if s.first_significant is not None]
    if effects:
        lines += ["", f"{EFFECT_NOTE} Baseline: {markdown_code(report.baseline)}.", "",
                  _md_row(["stage (variant)", *labels, "first significant gain"]),
                  "|" + "|".join([":--"] + ["--:"] * len(labels) + [":--"]) + "|"]
        lines += [_md_row([_name(report, s.variant), *(effect_cell(p) for p in s.points), s.first_significant or ""])
                  for s in effects]
    extra = break_even_lines(report)
    if extra:
        lines += [""] + [f"- {markdown(line)}" for line in extra]
    if any(s.simulated for s in report.series):
        lines += ["", SIMULATED_NOTE]
    lines += [f"\n> {markdown(note)}" for note in report.notes]
    return lines


def to_csv(reports: Sequence[AxisReport]) -> str:
    """Every point of every axis, one line each (long format); text cells can never be spreadsheet
    formulas (:func:`~alexbench.safetext.csv_text`)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["task", "axis", "point", "variant", "run_variant", "swept", "simulated", "seeds", "mean",
                     "ci95_low", "ci95_high", "baseline", "delta", "delta_ci_low", "delta_ci_high", "p_bootstrap_holm",
                     "flip_precision", "first_significant_gain"])
    for r in reports:
        for s in r.series:
            for p in s.points:
                c = p.comparison
                writer.writerow([*map(csv_text, (r.task, r.axis.name, p.label, s.variant, p.variant)), str(s.swept).lower(),
                                 str(s.simulated).lower(), p.seeds, *(("" if v is None else f"{v:.6f}")
                                                                      for v in (p.mean, p.ci_low, p.ci_high)),
                                 csv_text(r.baseline or ""), "" if p.delta is None else f"{p.delta:.6f}",
                                 *(["", "", ""] if c is None else [f"{c.ci_low:.6f}", f"{c.ci_high:.6f}",
                                                                   f"{c.p_bootstrap_holm:.6g}"]),
                                 "" if p.flip_precision is None else f"{p.flip_precision:.6f}",
                                 csv_text(s.first_significant or "")])
    return buf.getvalue()


def to_rich(report: AxisReport) -> list[Table]:
    labels = report.labels
    curves = Table(title=rich_text(f"{title(report)}: official test metric, mean [95% CI]"), title_justify="left")
    curves.add_column(Text("variant"))
    for lab in labels:
        curves.add_column(rich_text(lab), justify="right", overflow="fold")
    for s in report.series:
        curves.add_row(rich_text(_name(report, s.variant)), *(rich_text(curve_cell(p)) for p in s.points))
    out = [curves]
    effects = [s for s in report.series if s.first_significant is not None]
    if effects:
        table = Table(title=rich_text(f"{title(report)}: Δ vs {report.baseline} at each point"), title_justify="left",
                      caption=rich_text("\n".join(break_even_lines(report)), "table.caption", multiline=True) or None)
        table.add_column(Text("stage (variant)"))
        for lab in labels:
            table.add_column(rich_text(lab), justify="right", overflow="fold")
        table.add_column(Text("first significant gain"))
        for s in effects:
            table.add_row(rich_text(_name(report, s.variant)), *(rich_text(effect_cell(p)) for p in s.points),
                          rich_text(s.first_significant or ""))
        out.append(table)
    return out
