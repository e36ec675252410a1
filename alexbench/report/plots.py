"""Leaderboard plots as PNG (matplotlib, Agg canvas; no pyplot, so no global figure state and no
display needed).

Per task: ``<task>_official.png``, the official test metric per variant (mean over seeds, ±1 std
error bars, Δ significance markers against the baseline; published results as dashed lines), and ``<task>_per_class_f1.png``, per-class
test F1 grouped by class with one bar per variant; a swept study's curves along each axis and
where a simulated judge was swept, Δ against its flip precision (:mod:`alexbench.report.sweep`).
The same leaderboard gives byte-identical files
(fixed style, no timestamp or software tag in the PNG metadata).
"""

from __future__ import annotations

import math
from pathlib import Path

from alexbench.fsio import atomic_write_bytes
from alexbench.report.board import Leaderboard, Row
from alexbench.report.sweep import AxisReport
from alexbench.report.table import build_table, reference_score, variant_text

PALETTE = ["#0969da", "#bc4c00", "#1a7f37", "#8250df", "#cf222e", "#9a6700", "#1b7c83", "#bf3989",
           "#57606a", "#953800", "#0550ae", "#116329"]
BASELINE_COLOUR = "#8c959f"
REFERENCE_COLOUR = "#6e7781"


def _figure_bytes(fig) -> bytes:  # noqa: ANN001 - matplotlib Figure
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, metadata={"Software": None}, bbox_inches="tight",
                pad_inches=0.15, facecolor="white")
    return buf.getvalue()


def _style():  # noqa: ANN202 - matplotlib rc context manager
    import matplotlib

    return matplotlib.rc_context({
        **{k: v for k, v in matplotlib.rcParamsDefault.items() if k != "backend"},
        "font.size": 9, "axes.spines.top": False, "axes.spines.right": False, "axes.axisbelow": True,
        "axes.grid": True, "grid.color": "#d0d7de", "grid.linewidth": 0.6, "svg.hashsalt": "alexbench",
        "path.simplify": True,
    })


def _t(text: str) -> str:
    """Literal text for matplotlib (a ``$`` would start mathtext)."""
    return str(text).replace("$", r"\$")


def _finite(value: float) -> float:
    return value if math.isfinite(value) else 0.0


def _marker(board: Leaderboard, row: Row) -> str:
    if row.variant == board.baseline:
        return "baseline"
    if row.delta is None:
        return ""
    sig = row.comparison.marker() if row.comparison else ""
    return f"Δ {row.delta:+.3f}{sig}"


def official_png(board: Leaderboard) -> bytes:
    """Horizontal bars (best on top) of the official test metric, mean ± std over seeds."""
    from matplotlib.figure import Figure

    rows = board.rows
    with _style():
        fig = Figure(figsize=(7.5, 0.9 + 0.42 * max(len(rows), 1)))
        ax = fig.add_subplot()
        ys = list(range(len(rows)))[::-1]
        means = [_finite(r.test_official.mean) for r in rows]
        stds = [_finite(r.test_official.std) for r in rows]
        colours = [BASELINE_COLOUR if r.variant == board.baseline else PALETTE[0] for r in rows]
        ax.barh(ys, means, xerr=stds, color=colours, height=0.62, capsize=3,
                error_kw={"elinewidth": 1, "ecolor": "#24292f"})
        ax.set_yticks(ys, [_t(variant_text(r)) for r in rows])
        top = max([m + s for m, s in zip(means, stds)] + [1e-9])
        ax.set_xlim(0, 1.0 if top <= 1.0 else top * 1.1)  # scores in [0, 1]: the same scale on every plot
        for y, r, m, s in zip(ys, rows, means, stds):
            label = f"{m:.3f}" + (f" ± {s:.3f}" if len(r.seeds) > 1 else "")
            marker = _marker(board, r)
            ax.text(m + s + ax.get_xlim()[1] * 0.01, y, _t(label + (f"   {marker}" if marker else "")),
                    va="center", fontsize=8)
        for k, ref in enumerate(board.references):  # published results: dashed lines, named, not bars
            if math.isfinite(ref.score) and 0 <= ref.score <= ax.get_xlim()[1]:
                ax.axvline(ref.score, color=REFERENCE_COLOUR, linestyle="--", linewidth=1)
                ax.text(ref.score, ys[0] + 0.55 + 0.32 * k if ys else 0.5 + 0.32 * k,
                        _t(f"† {ref.name} {reference_score(ref)}"), color=REFERENCE_COLOUR, fontsize=7.5,
                        ha="right", va="bottom")
        if board.references and ys:
            low, high = ax.get_ylim()
            ax.set_ylim(low, max(high, ys[0] + 0.6 + 0.32 * len(board.references)))
        ax.grid(axis="y", visible=False)
        n_seeds = "/".join(str(n) for n in sorted({len(r.seeds) for r in rows}))
        ax.set_xlabel(_t(f"test {board.official_metric}{board.direction} (mean ± std over {n_seeds} seeds)"))
        title = _t(f"{board.task}: {board.official_metric}{board.direction}")
        if board.baseline:
            title += _t(f" (Δ vs {board.baseline}; * p<0.05, ** p<0.01, paired bootstrap, Holm)")
        ax.set_title(title, loc="left", fontsize=9.5)
        return _figure_bytes(fig)


def per_class_f1_png(board: Leaderboard) -> bytes:
    """Grouped bars: one group per class, one bar per variant (leaderboard order), ±std whiskers."""
    from matplotlib.figure import Figure

    rows = board.rows
    columns = [c for c in build_table(board).columns if c.group == "per_class_f1"]  # one per class, in order
    n = max(len(rows), 1)
    with _style():
        fig = Figure(figsize=(max(6.0, 1.2 + len(columns) * (0.35 * n + 0.6)), 4.2))
        ax = fig.add_subplot()
        width = 0.8 / n
        for i, row in enumerate(rows):
            xs = [k - 0.4 + width * (i + 0.5) for k in range(len(columns))]
            stats = [column.value(row) for column in columns]
            means = [_finite(s.mean) if s else 0.0 for s in stats]
            stds = [_finite(s.std) if s else 0.0 for s in stats]
            colour = BASELINE_COLOUR if row.variant == board.baseline else PALETTE[i % len(PALETTE)]
            ax.bar(xs, means, width * 0.92, yerr=stds, color=colour, capsize=2, label=_t(variant_text(row)),
                   error_kw={"elinewidth": 0.9, "ecolor": "#24292f"})
        kind = "label" if board.multi_label else "class"
        ax.set_xticks(range(len(columns)), [_t(f"{kind} {column.subject}") for column in columns])
        ax.set_ylim(0, 1.05)
        ax.set_ylabel("test F1 (mean ± std over seeds)")
        ax.grid(axis="x", visible=False)
        ax.set_title(_t(f"{board.task}: per-{kind} F1"), loc="left", fontsize=9.5)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8)
        return _figure_bytes(fig)


def sweep_png(report: AxisReport, metric: str) -> bytes:
    """The official test metric along one sweep axis: a line per variant (mean over seeds, 95% CI
    whiskers), the points in the listed order; simulated variants dashed."""
    from matplotlib.figure import Figure

    labels = report.labels
    with _style():
        fig = Figure(figsize=(max(6.0, 1.6 + 0.9 * len(labels)), 4.2))
        ax = fig.add_subplot()
        for i, series in enumerate(report.series):
            xs = [k for k, p in enumerate(series.points) if p.mean is not None]
            if not xs:
                continue
            pts = [series.points[k] for k in xs]
            means = [_finite(p.mean) for p in pts]
            low = [m - _finite(p.ci_low) if p.ci_low is not None else 0.0 for m, p in zip(means, pts)]
            high = [_finite(p.ci_high) - m if p.ci_high is not None else 0.0 for m, p in zip(means, pts)]
            colour = BASELINE_COLOUR if series.variant == report.baseline else PALETTE[i % len(PALETTE)]
            name = series.variant + (" ‡" if series.simulated else "") + ("" if series.swept else " (not swept)")
            ax.errorbar(xs, means, yerr=[low, high], color=colour, marker="o", markersize=4, capsize=3,
                        linewidth=1.4, linestyle="--" if series.simulated or not series.swept else "-",
                        label=_t(name), elinewidth=0.9)
        ax.set_xticks(range(len(labels)), [_t(lab) for lab in labels])
        ax.set_xlabel(_t(report.axis.name))
        ax.set_ylabel(_t(f"test {metric} (mean, 95% CI over seeds)"))
        ax.set_title(_t(f"{report.task}: {metric} along {report.axis.name}"), loc="left", fontsize=9.5)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8)
        return _figure_bytes(fig)


def break_even_png(report: AxisReport) -> bytes:
    """Δ against the baseline as a function of the judge's flip precision: each simulated judge's
    points (95% CI whiskers) and its break-even precision, the measured judges as stars."""
    from matplotlib.figure import Figure

    with _style():
        fig = Figure(figsize=(7.0, 4.4))
        ax = fig.add_subplot()
        ax.axhline(0, color="#24292f", linewidth=0.8)
        for i, b in enumerate(report.break_even):
            colour = PALETTE[i % len(PALETTE)]
            xs = [p for p, *_ in b.points]
            ds = [d for _, d, _, _ in b.points]
            low = [d - lo if lo is not None else 0.0 for _, d, lo, _ in b.points]
            high = [hi - d if hi is not None else 0.0 for _, d, _, hi in b.points]
            ax.errorbar(xs, ds, yerr=[low, high], color=colour, marker="o", markersize=4, capsize=3, linestyle="--",
                        label=_t(f"{b.variant} ‡ (simulated)"), elinewidth=0.9)
            if b.precision is not None:
                ax.axvline(b.precision, color=colour, linewidth=0.8, linestyle=":")
                ax.text(b.precision, ax.get_ylim()[1], _t(f" break-even {b.precision:.2f}"), color=colour,
                        fontsize=7.5, va="top")
        sign = 1.0 if report.higher_is_better else -1.0
        for m in report.measured:
            if m.delta is None:
                continue
            ax.plot([m.flip_precision], [sign * m.delta], marker="*", markersize=11, color="#cf222e", linestyle="none",
                    label=_t(f"{m.variant} (measured)"))
        ax.set_xlim(0, 1.0)
        ax.set_xlabel("flip precision (flips that fixed an error / all flips, pooled over seeds)")
        ax.set_ylabel(_t(f"Δ vs {report.baseline} (better is up)"))
        ax.set_title(_t(f"{report.task}: how good must a judge be? ({report.axis.name})"), loc="left", fontsize=9.5)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8)
        return _figure_bytes(fig)


def write_plots(board: Leaderboard, out_dir: Path) -> list[Path]:
    """Write ``<task>_official.png`` and ``<task>_per_class_f1.png`` into ``out_dir``; for a swept
    study also ``<task>_sweep_<axis>.png`` per axis and ``<task>_break_even_<axis>.png`` where a
    simulated judge was swept."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {out_dir / f"{board.task}_official.png": official_png(board),
             out_dir / f"{board.task}_per_class_f1.png": per_class_f1_png(board)}
    for report in board.sweeps:
        axis = report.axis.name.replace(".", "_")
        files[out_dir / f"{board.task}_sweep_{axis}.png"] = sweep_png(report, board.official_metric)
        if report.break_even:
            files[out_dir / f"{board.task}_break_even_{axis}.png"] = break_even_png(report)
    for path, data in files.items():
        atomic_write_bytes(path, data)
    return list(files)
