"""Leaderboard plots as PNG (matplotlib, Agg canvas; no pyplot, so no global figure state and no
display needed).

Per task: ``<task>_official.png``, the official test metric per variant (mean over seeds, ±1 std
error bars, Δ significance markers against the baseline; published results as dashed lines), and ``<task>_per_class_f1.png``, per-class
test F1 grouped by class with one bar per variant. The same leaderboard gives byte-identical files
(fixed style, no timestamp or software tag in the PNG metadata).
"""

from __future__ import annotations

import math
from pathlib import Path

from alexbench.fsio import atomic_write_bytes
from alexbench.report.board import Leaderboard, Row
from alexbench.report.table import build_table, reference_score

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
        ax.set_yticks(ys, [_t(r.variant) for r in rows])
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
            ax.bar(xs, means, width * 0.92, yerr=stds, color=colour, capsize=2, label=_t(row.variant),
                   error_kw={"elinewidth": 0.9, "ecolor": "#24292f"})
        kind = "label" if board.multi_label else "class"
        ax.set_xticks(range(len(columns)), [_t(f"{kind} {column.subject}") for column in columns])
        ax.set_ylim(0, 1.05)
        ax.set_ylabel("test F1 (mean ± std over seeds)")
        ax.grid(axis="x", visible=False)
        ax.set_title(_t(f"{board.task}: per-{kind} F1"), loc="left", fontsize=9.5)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8)
        return _figure_bytes(fig)


def write_plots(board: Leaderboard, out_dir: Path) -> list[Path]:
    """Write ``<task>_official.png`` and ``<task>_per_class_f1.png`` into ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {out_dir / f"{board.task}_official.png": official_png(board),
             out_dir / f"{board.task}_per_class_f1.png": per_class_f1_png(board)}
    for path, data in files.items():
        atomic_write_bytes(path, data)
    return list(files)
