"""A swept study's outputs (issue 27): per task and axis, the official metric along the axis, each
stage's effect at each point, and the flip precision a judge must reach.

Built from a task's leaderboard rows (every cell of the study is a row: ``minilm[minority_share=0.1]``)
and the study's :class:`~alexbench.config.sweeps.SweepPlan`:

* **curves** — per variant, the official test metric at each point of the axis, in the listed
  order: mean over seeds and its 95% confidence interval (Student's t over the seed means; one
  seed: no interval). A variant the axis does not apply to (a parameter it lacks) is drawn flat
  at its reference runs.
* **stage effects** — per variant other than the baseline (the stage it adds over the baseline),
  its Δ against the baseline *at the same point*, with the 95% paired-bootstrap CI and Holm's
  correction across the variants compared at that point (as on the leaderboard), and the first
  point (in the listed order) where Δ is significantly positive (p < 0.05 after Holm; negative
  for a lower-is-better metric), or "none".
* **break-even** — for a simulated judge (``oracle_judge``, reading the gold labels) swept over
  its rates: Δ against the baseline as a function of its flip precision (pooled over seeds: flips
  that fixed an error / all flips), and the precision where Δ crosses 0 (linear interpolation
  between the neighbouring points), with the precisions where the CI's bounds cross 0 as its
  interval. The measured judges of the board (variants whose explainer flips without reading the
  gold labels, e.g. ``minilm+llm``) are placed on the same axes.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from alexbench.config.sweeps import Axis, SweepPlan
from alexbench.scoring.significance import Comparison

if TYPE_CHECKING:
    from alexbench.plugin.registry import Registry
    from alexbench.report.board import Leaderboard, Row
    from alexbench.scoring.metrics import Metric

ALPHA = 0.05


def mean_ci(values: Sequence[float]) -> tuple[float, float | None, float | None]:
    """Mean and 95% Student-t interval over seeds (None bounds with fewer than two)."""
    mean = statistics.fmean(values)
    if len(values) < 2:
        return mean, None, None
    from scipy.stats import t

    half = float(t.ppf(0.975, len(values) - 1)) * statistics.stdev(values) / math.sqrt(len(values))
    return mean, mean - half, mean + half


@dataclass
class SweepPoint:
    """One variant at one value of the axis."""

    value: Any
    label: str
    variant: str  # the row (run variant name) it comes from
    mean: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    seeds: int = 0
    delta: float | None = None
    comparison: Comparison | None = None
    flip_precision: float | None = None
    flips: float | None = None

    def significant(self, higher_is_better: bool) -> bool:
        c = self.comparison
        if c is None or self.delta is None or c.p_bootstrap_holm >= ALPHA:
            return False
        return self.delta > 0 if higher_is_better else self.delta < 0

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "label": self.label, "variant": self.variant, "mean": self.mean,
                "ci95": [self.ci_low, self.ci_high], "seeds": self.seeds, "delta_vs_baseline": self.delta,
                "comparison": self.comparison.to_dict() if self.comparison else None,
                "flip_precision": self.flip_precision, "flips": self.flips}


@dataclass
class SweepSeries:
    """One variant along the axis."""

    variant: str
    swept: bool  # False: the axis does not apply to it (its reference runs at every point)
    simulated: bool
    points: list[SweepPoint] = field(default_factory=list)
    #: The first point where Δ is significantly positive: its label, "none", or None for the baseline.
    first_significant: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"variant": self.variant, "swept": self.swept, "simulated": self.simulated,
                "first_significant_gain": self.first_significant, "points": [p.to_dict() for p in self.points]}


@dataclass
class BreakEven:
    """Where a simulated judge's Δ crosses 0, as a flip precision."""

    variant: str
    precision: float | None
    low: float | None  # the CI of the precision: where Δ's CI bounds cross 0
    high: float | None
    note: str
    points: list[tuple[float, float, float | None, float | None]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"variant": self.variant, "break_even_flip_precision": self.precision,
                "ci95": [self.low, self.high], "note": self.note,
                "points": [{"flip_precision": p, "delta": d, "ci95": [lo, hi]} for p, d, lo, hi in self.points]}


@dataclass
class MeasuredJudge:
    """A real judge of the same board at the reference point: its flip precision and Δ."""

    variant: str
    flip_precision: float
    delta: float | None
    ci_low: float | None
    ci_high: float | None

    def to_dict(self) -> dict[str, Any]:
        return {"variant": self.variant, "flip_precision": self.flip_precision, "delta": self.delta,
                "ci95": [self.ci_low, self.ci_high]}


@dataclass
class AxisReport:
    task: str
    axis: Axis
    baseline: str | None
    higher_is_better: bool
    series: list[SweepSeries]
    break_even: list[BreakEven] = field(default_factory=list)
    measured: list[MeasuredJudge] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def labels(self) -> list[str]:
        return [self.axis.label(v) for v in self.axis.values]

    def to_dict(self) -> dict[str, Any]:
        return {"axis": self.axis.name, "kind": "transform" if self.axis.is_transform else "parameter",
                "points": self.labels, "baseline": self.baseline, "series": [s.to_dict() for s in self.series],
                "break_even": [b.to_dict() for b in self.break_even], "measured_judges": [m.to_dict() for m in self.measured],
                "notes": list(self.notes)}


def _precision(row: Row) -> tuple[float | None, float | None]:
    """Pooled flip precision over seeds (flips that fixed an error / flips) and mean flips."""
    flips = row.explainer.get("flips")
    precision = row.explainer.get("flip_precision")
    if flips is None:
        return None, None
    total = sum(flips.values)
    if total == 0:
        return None, flips.mean
    if precision is not None and len(precision.values) == len(flips.values):
        fixed = sum(p * f for p, f in zip(precision.values, flips.values))
        return fixed / total, flips.mean
    return (precision.mean if precision else None), flips.mean


def _crossing(points: list[tuple[float, float]]) -> float | None:
    """The x where y crosses 0, by linear interpolation along x (the first crossing upwards)."""
    pts = sorted(points)
    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
        if y0 == 0:
            return x0
        if (y0 < 0 <= y1) or (y0 > 0 >= y1):
            return x0 + (x1 - x0) * (0 - y0) / (y1 - y0) if y1 != y0 else x0
    if pts and pts[-1][1] == 0:
        return pts[-1][0]
    return None


def break_even(series: SweepSeries, higher_is_better: bool) -> BreakEven:
    sign = 1.0 if higher_is_better else -1.0  # "better" is positive whatever the metric's direction

    def bounds(c: Comparison | None) -> tuple[float | None, float | None]:
        if c is None:
            return None, None
        a, b = sign * c.ci_low, sign * c.ci_high
        return min(a, b), max(a, b)

    pts = [(p.flip_precision, sign * p.delta, *bounds(p.comparison))
           for p in series.points if p.flip_precision is not None and p.delta is not None]
    pts = sorted(set(pts))
    if len(pts) < 2:
        return BreakEven(series.variant, None, None, None, "fewer than two points with flips", pts)
    center = _crossing([(p, d) for p, d, _, _ in pts])
    high = _crossing([(p, lo) for p, _, lo, _ in pts if lo is not None])  # the CI's low bound reaches 0 last
    low = _crossing([(p, hi) for p, _, _, hi in pts if hi is not None])
    lo_p, hi_p = min(p for p, *_ in pts), max(p for p, *_ in pts)
    if center is None:
        where = "above 0" if all(d > 0 for _, d, _, _ in pts) else "below 0"
        note = f"Δ stays {where} over the swept flip precisions ({lo_p:.2f}–{hi_p:.2f})"
    else:
        # a CI bound that never crosses 0 leaves that end of the interval beyond the swept range
        below = f"{low:.2f}" if low is not None else f"below {lo_p:.2f}"
        above = f"{high:.2f}" if high is not None else f"above {hi_p:.2f}"
        note = (f"Δ crosses 0 at a flip precision of {center:.2f} (95% CI {below} to {above}; swept "
                f"{lo_p:.2f}–{hi_p:.2f})")
    return BreakEven(series.variant, center, low, high, note, pts)


def build_axis(board: Leaderboard, plan: SweepPlan, axis: Axis, variants: Sequence[str],
               metrics: Registry[Metric] | None, n_boot: int) -> AxisReport:
    """One axis of one task's board."""
    from alexbench.report.board import compare_rows

    rows = {r.variant: r for r in board.rows}
    baseline = board.baseline
    cell_of = {(c.base, c.axis, _key(c.value)): c.variant.name for c in plan.cells if c.axis == axis.name}
    report = AxisReport(board.task, axis, baseline, board.higher_is_better, [])

    def row_at(variant: str, value: Any) -> Row | None:
        if not plan.applies(axis.name, variant) or _same(value, plan.positions[(axis.name, variant)]):
            return rows.get(variant)
        name = cell_of.get((variant, axis.name, _key(value)))
        return rows.get(name) if name else None

    series = []
    for variant in variants:
        ref = rows.get(variant)
        s = SweepSeries(variant, plan.applies(axis.name, variant), bool(ref and ref.simulated))
        for value in axis.values:
            row = row_at(variant, value)
            point = SweepPoint(value, axis.label(value), row.variant if row else "")
            if row is not None and row.test_official.values:
                point.mean, point.ci_low, point.ci_high = mean_ci(row.test_official.values)
                point.seeds = len(row.seeds)
                point.flip_precision, point.flips = _precision(row)
            s.points.append(point)
        series.append(s)
    report.series = series
    if baseline is None or metrics is None:
        report.notes.append("no baseline: no stage effects")
        return report
    for i, value in enumerate(axis.values):
        base_row = row_at(baseline, value)
        if base_row is None:
            report.notes.append(f"{axis.label(value)}: the baseline {baseline!r} has no finished runs there")
            continue
        others = [(s, row_at(s.variant, value)) for s in series if s.variant != baseline]
        present = [r for _, r in others if r is not None and r is not base_row]
        compared = compare_rows(board, base_row, present, metrics, n_boot) if present else {}
        for s, row in others:
            if row is None:
                continue
            point = s.points[i]
            point.delta = row.test_official.mean - base_row.test_official.mean
            point.comparison = compared.get(row.variant)
    for s in series:
        if s.variant == baseline:
            continue
        first = next((p.label for p in s.points if p.significant(board.higher_is_better)), None)
        s.first_significant = (first or "none") if s.swept else "not swept"
        # Δ against flip precision only along the simulated judge's own rates: along a task
        # transform its precision moves with the data, not with the judge.
        if s.simulated and s.swept and axis.name.startswith("explainer.") \
                and any(p.flip_precision is not None for p in s.points):
            report.break_even.append(break_even(s, board.higher_is_better))
    if report.break_even:
        base_ref = rows.get(baseline)
        simulated = {s.variant for s in series if s.simulated}
        for row in board.rows:
            precision, _ = _precision(row)
            if row.simulated or row.variant in simulated or precision is None or "[" in row.variant:
                continue
            c = row.comparison if base_ref is not None else None
            report.measured.append(MeasuredJudge(row.variant, precision, row.delta,
                                                 c.ci_low if c else None, c.ci_high if c else None))
    return report


def _key(value: Any) -> str:
    return repr(float(value)) if isinstance(value, (int, float)) and not isinstance(value, bool) else repr(value)


def _same(a: Any, b: Any) -> bool:
    return _key(a) == _key(b)


def attach(boards: Sequence[Leaderboard], plan: SweepPlan, variants: Sequence[str],
           metrics: Registry[Metric] | None, n_boot: int) -> None:
    """Each board's :attr:`~alexbench.report.board.Leaderboard.sweeps`, one report per axis."""
    for board in boards:
        board.sweeps = [build_axis(board, plan, axis, variants, metrics, n_boot) for axis in plan.axes]
