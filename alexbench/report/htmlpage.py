"""One self-contained static HTML page for a set of leaderboards, from jinja2 templates.

Inline CSS and a few lines of vanilla JavaScript, no external files, fonts or scripts, so the page
opens from ``file://`` offline and can be mailed or attached to a paper's supplement. Per task: a
sortable table (click a header; numeric columns sort by value) with the columns of the table
model (:mod:`alexbench.report.table`): the official metric first as mean ± std over seeds, Δ vs
the baseline with significance markers and the bootstrap CI, per-class F1 bars with ±std error
bars, explainer columns when a variant has an explainer, and a ``<details>`` per row with the
components (and their parameters), the significance tests and the provenance. Below each table,
the test confusion matrix of every variant, summed over seeds. With several tasks, a ranking
across tasks comes first.

The markup is in ``templates/*.j2`` (package data), the CSS and JavaScript in
``templates/page.css`` and ``page.js``, inlined verbatim. Autoescape is on: every piece of text
from the data is escaped (quotes too, so it is safe in attribute values). The templates are
written indented over many lines; their line breaks and indentation are dropped when they are
loaded (:class:`JoinLines`), so the page is as compact as it always was: a space that matters is
written inside a line, never at its end.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from jinja2.ext import Extension
from markupsafe import Markup

from alexbench import __version__
from alexbench.fsio import atomic_write_text
from alexbench.report import sweep_tables
from alexbench.report.board import SIGNIFICANCE_NOTE, Leaderboard, Row, Stat, ranking
from alexbench.report.sweep_svg import curves_svg
from alexbench.report.table import REFERENCE_NOTE, SIMULATED_NOTE, Column, build_table, reference_score
from alexbench.safetext import terminal
from alexbench.scoring.significance import verdict


class JoinLines(Extension):
    """Drop the line breaks and indentation of ``*.j2`` templates (not of the inlined CSS/JS)."""

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        if name is None or not name.endswith(".j2"):
            return source
        return "".join(line.strip() for line in source.splitlines())


def _escape(value: Any) -> Markup:
    """The environment's ``finalize``: every ``{{ value }}`` passes here before autoescaping. Text is
    escaped as ``html.escape(quote=True)`` spells it (``&quot;``, ``&#x27;``; markupsafe would
    write ``&#34;``, ``&#39;``), so the page stays byte for byte what it was before the templates;
    control characters and bidi overrides in it are shown as escapes (``\\x1b``, ``\\u202e``:
    :func:`~alexbench.safetext.terminal`, newlines and tabs kept), as in every other format, so a
    name cannot reorder the text around it or act on a terminal that shows the file; markup (a
    macro's output, ``Markup``) passes as is."""
    if isinstance(value, Markup) or hasattr(value, "__html__"):
        return Markup(value)
    return Markup(html.escape(terminal(value, multiline=True), quote=True))


def _num(value: float | None) -> str:
    """A ``data-sort`` value: full precision, empty when missing or not finite (sorted last)."""
    if value is None or not math.isfinite(value):
        return ""
    return repr(float(value))


def _mean(s: Stat | None) -> float | None:
    return s.mean if s is not None and s.values else None


def _fmt(value: Any, spec: str) -> str:
    return format(value, spec)


def _p(p: float | None) -> str:
    return "–" if p is None else f"{p:.4g}"


def _anchor(task: str) -> str:
    return "task-" + "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in task)


def _params_text(params: dict[str, Any]) -> str:
    return ", ".join(f"{k}={json.dumps(v, sort_keys=True)}" for k, v in sorted(params.items()))


def _component_text(comp: dict[str, Any] | None) -> str:
    if not comp:
        return "none"
    params = comp.get("params") or {}
    return f"{comp.get('name')} {comp.get('version', '')}".strip() + (f" ({_params_text(params)})" if params else "")


def components_summary(row: Row) -> str:
    """One line for the variant's hover text: augmenters → classifier → explainer, with params."""
    c = row.components
    augs = c.get("augmenters") or []
    parts = [
        "augmenters: " + ("; ".join(_component_text(a) for a in augs) if augs else "none"),
        "classifier: " + _component_text(c.get("classifier")),
        "explainer: " + _component_text(c.get("explainer")),
    ]
    return "\n".join(parts)


@dataclass(frozen=True)
class Bar:
    """An F1 bar: the mean's bar and the ±std whisker, in SVG units (``width`` × ``height``)."""

    stat: Stat
    width: int = 56
    height: int = 12

    def x(self, value: float) -> float:
        return round(value * self.width, 2)

    @property
    def mean(self) -> float:  # clamped to the bar
        return min(max(self.stat.mean, 0.0), 1.0)

    @property
    def fill(self) -> float:
        return self.x(self.mean)

    @property
    def low(self) -> float:
        return self.x(max(self.mean - self.stat.std, 0.0))

    @property
    def high(self) -> float:
        return self.x(min(self.mean + self.stat.std, 1.0))


def _delta_tip(row: Row) -> str:
    c = row.comparison
    assert c is not None
    return (f"paired bootstrap: p = {c.p_bootstrap:.4g}, Holm-corrected p = {_p(c.p_bootstrap_holm)}\n"
            f"McNemar (seed-majority): p = {c.p_mcnemar:.4g}, Holm-corrected p = {_p(c.p_mcnemar_holm)}\n"
            f"95% CI of Δ: [{c.ci_low:+.4f}, {c.ci_high:+.4f}] over {c.n_posts} test posts, {c.n_boot} resamples")


def _sort_key(board: Leaderboard, column: Column, row: Row) -> float | None:
    """A cell's ``data-sort`` value (the baseline's Δ sorts as 0)."""
    if column.group == "seeds":
        return float(len(row.seeds))
    if column.group == "delta":
        return 0.0 if row.variant == board.baseline else row.delta
    return _mean(column.value(row))


def _board_view(board: Leaderboard) -> dict[str, Any]:
    n_seeds = sorted({len(r.seeds) for r in board.rows})
    return {"board": board, "table": build_table(board), "anchor": _anchor(board.task),
            "seeds_text": "/".join(str(n) for n in n_seeds)}


def _ranking_view(boards: Sequence[Leaderboard]) -> dict[str, Any] | None:
    ranks = ranking(list(boards))
    if not ranks:
        return None
    return {"ranks": ranks, "scores": {b.task: {r.variant: r.test_official.mean for r in b.rows} for b in boards}}


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("alexbench.report", "templates"), autoescape=True,
                             finalize=_escape, extensions=[JoinLines], keep_trailing_newline=True,
                             undefined=jinja2.StrictUndefined)
    env.filters.update(f=_fmt, num=_num, p=_p)
    env.globals.update(
        Bar=Bar, zip=zip, components_summary=components_summary, json=lambda v: json.dumps(v, sort_keys=True),
        sort_key=_sort_key, delta_tip=_delta_tip, verdict=verdict, reference_score=reference_score,
        inline=lambda name: Markup(env.loader.get_source(env, name)[0]),  # type: ignore[union-attr]
        SIGNIFICANCE_NOTE=SIGNIFICANCE_NOTE, REFERENCE_NOTE=REFERENCE_NOTE, SIMULATED_NOTE=SIMULATED_NOTE,
        version=__version__, curves_svg=curves_svg, curve_cell=sweep_tables.curve_cell,
        effect_cell=sweep_tables.effect_cell, break_even_lines=sweep_tables.break_even_lines,
        CURVE_NOTE=sweep_tables.CURVE_NOTE, EFFECT_NOTE=sweep_tables.EFFECT_NOTE)
    return env


def render_html(boards: Sequence[Leaderboard], *, generated_at: dt.datetime | None = None,
                title: str = "alexbench leaderboards") -> str:
    """The whole page as a string. ``generated_at``, when given, is printed in the header; by
    default there is no time stamp, so the page is a function of the boards alone (rendered again
    from the same runs, it is the same file: a committed board does not change by being redone)."""
    when = generated_at.astimezone(dt.UTC) if generated_at is not None else None
    ranked = _ranking_view(boards)
    nav: list[tuple[str, str]] = []
    if len(boards) > 1:
        nav = ([("ranking", "ranking")] if ranked else []) + [(_anchor(b.task), b.task) for b in boards]
    return environment().get_template("page.html.j2").render(
        title=title, when=when, stamp=when.strftime("%Y-%m-%d %H:%M:%S UTC") if when else "",
        boards=[_board_view(b) for b in boards],
        nav=nav, ranked=ranked)


def write_html(boards: Sequence[Leaderboard], path: Path, *, generated_at: dt.datetime | None = None,
               title: str = "alexbench leaderboards") -> Path:
    """Write the page (atomically) and return its path; the parent folder is created."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, render_html(boards, generated_at=generated_at, title=title))
    return path
