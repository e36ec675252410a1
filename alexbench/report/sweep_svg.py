"""A sweep axis's curves as an inline SVG for the HTML page (no image files, no script): one
polyline per variant over the axis's points, 95% CI whiskers, axis ticks and a legend. Every text
from the data is escaped."""

from __future__ import annotations

from markupsafe import Markup, escape

from alexbench.report.sweep import AxisReport

#: The page's series colours (the same as the PNG plots').
PALETTE = ["#0969da", "#bc4c00", "#1a7f37", "#8250df", "#cf222e", "#9a6700", "#1b7c83", "#bf3989",
           "#57606a", "#953800", "#0550ae", "#116329"]
BASELINE = "#8c959f"
W, H, LEFT, RIGHT, TOP, BOTTOM = 640, 280, 52, 190, 14, 40


def curves_svg(report: AxisReport) -> Markup:
    values = [v for s in report.series for p in s.points for v in (p.mean, p.ci_low, p.ci_high) if v is not None]
    if not values:
        return Markup("")
    low, high = min(values), max(values)
    pad = (high - low) * 0.08 or 0.05
    low, high = low - pad, high + pad
    n = len(report.labels)
    span_x = W - LEFT - RIGHT

    def x(i: int) -> float:
        return LEFT + (span_x * (i + 0.5) / n)

    def y(v: float) -> float:
        return TOP + (H - TOP - BOTTOM) * (high - v) / (high - low)

    parts = [f'<svg class="sweep-chart" viewBox="0 0 {W} {H}" role="img" '
             f'aria-label="{escape(report.task)}: official metric along {escape(report.axis.name)}">']
    for k in range(5):  # y grid and ticks
        v = low + (high - low) * k / 4
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{W - RIGHT}" y1="{y(v):.1f}" y2="{y(v):.1f}"/>'
                     f'<text class="tick" x="{LEFT - 6}" y="{y(v) + 3:.1f}" text-anchor="end">{v:.3f}</text>')
    for i, label in enumerate(report.labels):
        parts.append(f'<text class="tick" x="{x(i):.1f}" y="{H - BOTTOM + 16}" text-anchor="middle">{escape(label)}</text>')
    parts.append(f'<text class="axis" x="{LEFT + span_x / 2:.1f}" y="{H - 6}" text-anchor="middle">'
                 f'{escape(report.axis.name)}</text>')
    for k, series in enumerate(report.series):
        colour = BASELINE if series.variant == report.baseline else PALETTE[k % len(PALETTE)]
        dashed = series.simulated or not series.swept
        pts = [(i, p) for i, p in enumerate(series.points) if p.mean is not None]
        if not pts:
            continue
        coords = " ".join(f"{x(i):.1f},{y(p.mean):.1f}" for i, p in pts)  # type: ignore[arg-type]
        simulated = ' data-simulated="true"' if series.simulated else ""
        line_class = ' class="dashed"' if dashed else ""
        parts.append(f'<g class="series" data-variant="{escape(series.variant)}"{simulated} style="--c:{colour}">'
                     f'<polyline points="{coords}"{line_class}/>')
        for i, p in pts:
            if p.ci_low is not None and p.ci_high is not None:
                parts.append(f'<line class="ci" x1="{x(i):.1f}" x2="{x(i):.1f}" y1="{y(p.ci_low):.1f}" '
                             f'y2="{y(p.ci_high):.1f}"/>')
            tip = f"{series.variant} at {p.label}: {p.mean:.4f}" + (
                f" [{p.ci_low:.4f}, {p.ci_high:.4f}]" if p.ci_low is not None else "")
            parts.append(f'<circle cx="{x(i):.1f}" cy="{y(p.mean):.1f}" r="3"><title>{escape(tip)}</title></circle>')  # type: ignore[arg-type]
        name = series.variant + (" ‡" if series.simulated else "") + ("" if series.swept else " (not swept)")
        ly = TOP + 8 + 16 * k
        parts.append(f'<line class="key" x1="{W - RIGHT + 12}" x2="{W - RIGHT + 30}" y1="{ly}" y2="{ly}"/>'
                     f'<text class="legend" x="{W - RIGHT + 36}" y="{ly + 4}">{escape(name)}</text></g>')
    parts.append("</svg>")
    return Markup("".join(parts))
