"""One self-contained static HTML page for a set of leaderboards.

Inline CSS and a few lines of vanilla JavaScript, no external files, fonts or scripts, so the page
opens from ``file://`` offline and can be mailed or attached to a paper's supplement. Per task: a
sortable table (click a header; numeric columns sort by value), the official metric first as
mean ± std over seeds, Δ vs the baseline with significance markers and the bootstrap CI, per-class
F1 bars with ±std error bars, explainer columns when a variant has an explainer, and a ``<details>``
per row with the components (and their parameters), the significance tests and the provenance.
Below each table, the test confusion matrix of every variant, summed over seeds. With several
tasks, a ranking across tasks comes first. Every piece of text from the data is escaped.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

from alexbench import __version__
from alexbench.config.tasks import Reference
from alexbench.fsio import atomic_write_text
from alexbench.report.board import SIGNIFICANCE_NOTE, Leaderboard, Row, Stat, ranking
from alexbench.report.table import REFERENCE_NOTE, build_table, reference_score


def e(value: Any) -> str:
    """HTML-escape any value (quotes too: the result is safe in text and in attribute values)."""
    return escape(str(value), quote=True)


def _num(value: float | None) -> str:
    """A ``data-sort`` value: full precision, empty when missing or not finite (sorted last)."""
    if value is None or not math.isfinite(value):
        return ""
    return repr(float(value))


def _stat(s: Stat | None, digits: int = 3) -> str:
    if s is None or not s.values:
        return '<span class="missing">–</span>'
    if len(s.values) == 1:
        return f"{s.mean:.{digits}f}"
    return f'{s.mean:.{digits}f}<span class="pm">±{s.std:.{digits}f}</span>'


def _mean(s: Stat | None) -> float | None:
    return s.mean if s is not None and s.values else None


@dataclass(frozen=True)
class Column:
    key: str
    head: str
    tip: str
    numeric: bool = True
    cell: Callable[[Row], tuple[str, float | None]] | None = None  # -> (inner HTML, sort value)
    css: str = ""


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


# --------------------------------------------------------------------------------------------- cells


def _f1_bar(s: Stat | None) -> tuple[str, float | None]:
    if s is None or not s.values:
        return '<span class="missing">–</span>', None
    w, h = 56, 12
    mean, std = min(max(s.mean, 0.0), 1.0), s.std
    lo, hi = max(mean - std, 0.0), min(mean + std, 1.0)
    x = lambda v: round(v * w, 2)  # noqa: E731
    svg = (f'<svg class="bar" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" '
           f'aria-label="F1 {s.mean:.3f} ± {std:.3f}">'
           f'<rect class="track" x="0" y="2" width="{w}" height="{h - 4}"/>'
           f'<rect class="fill" x="0" y="2" width="{x(mean)}" height="{h - 4}"/>')
    if std > 0:
        svg += (f'<path class="err" d="M{x(lo)} {h / 2}H{x(hi)}M{x(lo)} 1V{h - 1}M{x(hi)} 1V{h - 1}"/>')
    svg += "</svg>"
    return f'{svg}<span class="val">{_stat(s)}</span>', s.mean


def _delta_cell(board: Leaderboard, row: Row) -> tuple[str, float | None]:
    if row.variant == board.baseline:
        return '<span class="baseline-tag">baseline</span>', 0.0
    if row.delta is None:
        return '<span class="missing">–</span>', None
    sign = "pos" if row.delta > 0 else "neg" if row.delta < 0 else "zero"
    c = row.comparison
    if c is None:
        return f'<span class="delta {sign}">{row.delta:+.3f}</span>', row.delta
    marker = c.marker()
    tip = (f"paired bootstrap: p = {c.p_bootstrap:.4g}, Holm-corrected p = {_p(c.p_bootstrap_holm)}\n"
           f"McNemar (seed-majority): p = {c.p_mcnemar:.4g}, Holm-corrected p = {_p(c.p_mcnemar_holm)}\n"
           f"95% CI of Δ: [{c.ci_low:+.4f}, {c.ci_high:+.4f}] over {c.n_posts} test posts, {c.n_boot} resamples")
    return (f'<span class="delta {sign}" title="{e(tip)}">{row.delta:+.3f}'
            f'<span class="sig">{e(marker)}</span></span>'
            f'<span class="ci">[{c.ci_low:+.3f}, {c.ci_high:+.3f}]</span>'), row.delta


def _p(p: float | None) -> str:
    return "–" if p is None else f"{p:.4g}"


def _columns(board: Leaderboard) -> list[Column]:
    """The table model's columns, each with its HTML cell."""
    css = {"official": "official", "per_class_f1": "f1"}
    cols = []
    for c in build_table(board).columns:
        if c.group == "seeds":
            cell = lambda r: (str(len(r.seeds)), float(len(r.seeds)))  # noqa: E731
        elif c.group == "delta":
            cell = lambda r: _delta_cell(board, r)  # noqa: E731
        elif c.group == "per_class_f1":
            cell = lambda r, c=c: _f1_bar(c.value(r))  # noqa: E731
        else:
            cell = lambda r, c=c: (_stat(c.value(r), c.typeset_digits), _mean(c.value(r)))  # noqa: E731
        cols.append(Column(c.key, c.html, c.tooltip, c.numeric, None if c.group == "variant" else cell,
                           css.get(c.group, "")))
    return cols


# ------------------------------------------------------------------------------------------- details


def _kv(items: Sequence[tuple[str, Any]]) -> str:
    return "<dl>" + "".join(f"<dt>{e(k)}</dt><dd>{v}</dd>" for k, v in items) + "</dl>"


def _component_html(comp: dict[str, Any] | None) -> str:
    if not comp:
        return '<span class="missing">none</span>'
    params = comp.get("params") or {}
    head = f"<code>{e(comp.get('name'))}</code> <span class=\"ver\">{e(comp.get('version', ''))}</span>"
    if not params:
        return head
    rows = "".join(f"<tr><th>{e(k)}</th><td><code>{e(json.dumps(v, sort_keys=True))}</code></td></tr>"
                   for k, v in sorted(params.items()))
    return f'{head}<table class="params">{rows}</table>'


def _details(board: Leaderboard, row: Row) -> str:
    c = row.components
    augs = c.get("augmenters") or []
    comp = _kv([
        ("augmenters", "<ol>" + "".join(f"<li>{_component_html(a)}</li>" for a in augs) + "</ol>" if augs
         else '<span class="missing">none</span>'),
        ("classifier", _component_html(c.get("classifier"))),
        ("explainer", _component_html(c.get("explainer"))),
    ])
    per_seed = ", ".join(f"s{s}: {v:.4f}" for s, v in zip(row.seeds, row.test_official.values))
    sig_items: list[tuple[str, Any]] = [(f"test {board.official_metric} per seed", e(per_seed))]
    cmp_ = row.comparison
    if cmp_ is not None:
        sig_items += [
            ("Δ (95% CI)", f"{cmp_.delta:+.4f} [{cmp_.ci_low:+.4f}, {cmp_.ci_high:+.4f}]"),
            ("paired bootstrap p", f"{cmp_.p_bootstrap:.4g} (Holm {_p(cmp_.p_bootstrap_holm)})"),
            ("McNemar p", f"{cmp_.p_mcnemar:.4g} (Holm {_p(cmp_.p_mcnemar_holm)})"),
            ("discordant posts", f"{cmp_.discordant[0]} right only here, {cmp_.discordant[1]} right only in "
                                 f"{e(board.baseline)}"),
            ("test posts / resamples", f"{cmp_.n_posts} / {cmp_.n_boot}"),
        ]
    elif row.variant == board.baseline:
        sig_items.append(("significance", "this is the baseline"))
    for key, stat in sorted(row.scalars.items()):
        sig_items.append((f"test {key}", _stat(stat, 4)))
    p = row.provenance
    git = p.get("git") or {}
    git_text = (f"<code>{e(str(git.get('sha', ''))[:12])}</code>" + (" (dirty)" if git.get("dirty") else "")
                if git else '<span class="missing">unknown</span>')
    runs = "<br>".join(f"s{s}: <code>{e(rid)}</code>" for s, rid in zip(row.seeds, row.run_ids))
    dirs = "<br>".join(f"<code>{e(r.path)}</code>" for r in row.runs)
    data = "<br>".join(f"{e(k)}: <code>{e(str(v)[:16])}…</code>" for k, v in sorted((p.get("data_sha256") or {}).items()))
    prov = _kv([
        ("runs", runs), ("run folders", dirs or '<span class="missing">–</span>'),
        ("alexbench", e(p.get("alexbench"))), ("git", git_text), ("python", e(p.get("python"))),
        ("task version", e(p.get("task_version"))),
        ("task file sha256", f"<code>{e(str(p.get('task_file_sha256', ''))[:16])}…</code>"),
        ("data sha256", data or '<span class="missing">–</span>'), ("run schema", e(p.get("schema"))),
    ])
    return (f'<div class="detail-grid"><section><h4>Components</h4>{comp}</section>'
            f'<section><h4>Scores and significance</h4>{_kv(sig_items)}</section>'
            f'<section><h4>Provenance</h4>{prov}</section></div>')


def _confusion(board: Leaderboard, row: Row) -> str:
    labels, matrix = board.labels, row.confusion
    if not matrix:
        return ""
    head = "".join(f"<th>{e(lab)}</th>" for lab in labels)
    body = []
    for lab, counts in zip(labels, matrix):
        total = sum(counts) or 1
        cells = []
        for j, n in enumerate(counts):
            share = n / total
            kind = ("diag" if labels[j] == lab else "off") + (" dark" if share > 0.5 else "")
            cells.append(f'<td class="{kind}" style="--a:{share:.3f}" title="{e(f"gold {lab} → predicted {labels[j]}: {n} ({share:.1%} of gold {lab})")}">{n}</td>')
        body.append(f"<tr><th>{e(lab)}</th>{''.join(cells)}</tr>")
    return (f'<figure class="cm"><figcaption>{e(row.variant)}</figcaption>'
            f'<table><thead><tr><th class="corner">gold \\ pred</th>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></figure>')


# --------------------------------------------------------------------------------------------- pages


def _anchor(task: str) -> str:
    return "task-" + "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in task)


def _board_html(board: Leaderboard) -> str:
    cols = _columns(board)
    best = max((r.test_official.mean for r in board.rows if r.test_official.values
                and math.isfinite(r.test_official.mean)), default=None)
    heads = "".join(
        f'<th scope="col" data-type="{"number" if c.numeric else "text"}" class="{c.css}" '
        f'title="{e(c.tip)}">{e(c.head)}</th>' for c in cols)
    bodies = []
    for row in board.rows:
        cells = []
        for c in cols:
            if c.key == "variant":
                cells.append(f'<th scope="row" class="variant" data-sort="{e(row.variant)}">'
                             f'<details class="toggle"><summary title="{e(components_summary(row))}">'
                             f'{e(row.variant)}</summary></details></th>')
                continue
            assert c.cell is not None
            inner, key = c.cell(row)
            css = c.css + (" best" if c.key == "test_official" and best is not None and row.test_official.mean == best
                           else "")
            cells.append(f'<td class="{css.strip()}" data-sort="{_num(key)}">{inner}</td>')
        bodies.append(f'<tbody class="entry" data-variant="{e(row.variant)}"><tr class="main">{"".join(cells)}</tr>'
                      f'<tr class="detail"><td colspan="{len(cols)}">{_details(board, row)}</td></tr></tbody>')
    bodies += [_reference_html(board, ref, cols) for ref in board.references]
    n_seeds = sorted({len(r.seeds) for r in board.rows})
    seeds_text = "/".join(str(n) for n in n_seeds)
    intro = (f"Official metric <b>{e(board.official_metric)}</b> on test, mean ± std over {e(seeds_text)} seeds; "
             f"{len(board.rows)} variants" + (f"; baseline <b>{e(board.baseline)}</b>" if board.baseline else "")
             + ". Click a column header to sort, a variant to see its components, significance tests and provenance.")
    notes = "".join(f'<p class="note warning"><b>Warning:</b> {e(w)}</p>' for w in board.warnings)
    notes += "".join(f'<p class="note">{e(n)}</p>' for n in board.notes)
    if board.references:
        notes += f'<p class="refnote">{e(REFERENCE_NOTE)} Hover or open a published row for its source.</p>'
    cms = "".join(_confusion(board, r) for r in board.rows)
    return (f'<section class="board" id="{_anchor(board.task)}" data-task="{e(board.task)}">'
            f'<h2>{e(board.task)}</h2><p class="intro">{intro}</p>{notes}'
            f'<div class="scroll"><table class="lb sortable grouped"><thead><tr>{heads}</tr></thead>'
            f'{"".join(bodies)}</table></div>'
            f'<h3>Test confusion matrices, summed over seeds</h3><div class="cms">{cms}</div></section>')


def _reference_html(board: Leaderboard, ref: Reference, cols: list[Column]) -> str:
    """A published result: its own style, its name and score; the source on hover and in the detail."""
    tip = f"published, not run here: {ref.source}" + (f" ({ref.note})" if ref.note else "")
    cells = [f'<th scope="row" class="variant" data-sort="{e(ref.name)}"><details class="toggle">'
             f'<summary title="{e(tip)}">{e(ref.name)}<sup class="dagger">†</sup></summary></details></th>']
    for c in cols[1:]:
        if c.key == "seeds":
            cells.append('<td data-sort=""><span class="pub-tag">published</span></td>')
        elif c.key == "test_official":
            cells.append(f'<td class="official" data-sort="{_num(ref.score)}" title="{e(tip)}">'
                         f'{e(reference_score(ref))}</td>')
        else:
            cells.append('<td data-sort=""><span class="missing">–</span></td>')
    detail = _kv([("published score", f"{e(board.official_metric)} {e(reference_score(ref))} on {e(ref.split)}"),
                  ("source", e(ref.source)), ("note", e(ref.note) or '<span class="missing">–</span>'),
                  ("compared", "no: a published result takes no part in Δ, significance or ranking")])
    return (f'<tbody class="entry reference" data-variant="{e(ref.name)}" data-reference="true">'
            f'<tr class="main">{"".join(cells)}</tr>'
            f'<tr class="detail"><td colspan="{len(cols)}">{detail}</td></tr></tbody>')


def _ranking_html(boards: Sequence[Leaderboard]) -> str:
    ranks = ranking(list(boards))
    if not ranks:
        return ""
    scores = {b.task: {r.variant: r.test_official.mean for r in b.rows} for b in boards}
    task_heads = "".join(f'<th scope="col" data-type="number" title="{e(f"test {b.official_metric} on {b.task}")}">'
                         f'{e(b.task)}</th>' for b in boards)
    rows = []
    for r in ranks:
        per_task = "".join(f'<td data-sort="{_num(scores[b.task].get(r["variant"]))}">'
                           f'{scores[b.task][r["variant"]]:.3f}</td>' for b in boards)
        rows.append(f'<tr><th scope="row" data-sort="{e(r["variant"])}">{e(r["variant"])}</th>'
                    f'<td data-sort="{_num(r["mean_rank"])}">{r["mean_rank"]:.2f}</td>'
                    f'<td data-sort="{_num(r["win_rate"])}">{r["win_rate"]:.2f}</td>{per_task}</tr>')
    return (f'<section class="board" id="ranking"><h2>Ranking across {len(boards)} tasks</h2>'
            '<p class="intro">Variants present on every task. Mean rank of the official test metric (1 = best) and '
            'win rate: the share of (task, other variant) pairs it beats. Per-task columns: official test metric.</p>'
            '<div class="scroll"><table class="lb sortable rank"><thead><tr>'
            '<th scope="col" data-type="text">variant</th>'
            '<th scope="col" data-type="number" title="mean rank over tasks, 1 = best">mean rank</th>'
            '<th scope="col" data-type="number" title="share of pairwise wins">win rate</th>'
            f'{task_heads}</tr></thead><tbody>{"".join(rows)}</tbody></table></div></section>')


def render_html(boards: Sequence[Leaderboard], *, generated_at: dt.datetime | None = None,
                title: str = "alexbench leaderboards") -> str:
    """The whole page as a string. ``generated_at`` (default: now, UTC) is printed in the header."""
    when = (generated_at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    stamp = when.strftime("%Y-%m-%d %H:%M:%S UTC")
    nav = ""
    if len(boards) > 1:
        links = [('ranking', 'ranking')] if ranking(list(boards)) else []
        links += [(_anchor(b.task), b.task) for b in boards]
        nav = "<nav>" + " · ".join(f'<a href="#{e(a)}">{e(t)}</a>' for a, t in links) + "</nav>"
    body = _ranking_html(boards) + "".join(_board_html(b) for b in boards)
    if not boards:
        body = '<p class="note">No finished runs yet: run <code>alexbench demo</code> or <code>alexbench grid</code>.</p>'
    legend = (f'<footer><h3>How to read this page</h3><p>{e(SIGNIFICANCE_NOTE)}</p>'
              '<p>Δ colour: <span class="delta pos">better</span> / <span class="delta neg">worse</span> than the '
              'baseline; <span class="sig">*</span> p&lt;0.05, <span class="sig">**</span> p&lt;0.01; the bracket is the '
              '95% bootstrap CI of Δ. Hover a Δ for the raw and corrected p-values. F1 bars: mean over seeds, whisker '
              '±1 std. Confusion-matrix shading: share of the gold row.</p>'
              f'<p class="meta">generated {e(stamp)} by alexbench {e(__version__)}</p></footer>')
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta name="generator" content="alexbench {e(__version__)}">'
            f'<title>{e(title)}</title><style>{CSS}</style></head><body>'
            f'<header><h1>{e(title)}</h1><p class="meta">generated <time datetime="{e(when.isoformat())}">{e(stamp)}'
            f'</time> · alexbench {e(__version__)} · {len(boards)} task{"s" if len(boards) != 1 else ""}</p>'
            f'{nav}</header><main>{body}</main>{legend}<script>{JS}</script></body></html>\n')


def write_html(boards: Sequence[Leaderboard], path: Path, *, generated_at: dt.datetime | None = None,
               title: str = "alexbench leaderboards") -> Path:
    """Write the page (atomically) and return its path; the parent folder is created."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, render_html(boards, generated_at=generated_at, title=title))
    return path


CSS = """
:root{--fg:#1f2328;--muted:#656d76;--line:#d0d7de;--bg:#fff;--head:#f6f8fa;--accent:#0969da;--pos:#1a7f37;
--neg:#cf222e;--bar:#54aeff;--track:#eaeef2;--best:#fff8c5}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
color:var(--fg);background:var(--bg)}
header,main,footer{max-width:1800px;margin:0 auto;padding:0 20px}
header{padding-top:18px;border-bottom:1px solid var(--line);padding-bottom:10px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:26px 0 4px}h3{font-size:14px;margin:18px 0 6px}
h4{font-size:13px;margin:0 0 6px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
.meta,.intro{color:var(--muted);margin:2px 0 8px}nav a{color:var(--accent);text-decoration:none}
.note{background:#fff1e5;border-left:3px solid #bc4c00;padding:6px 10px;margin:6px 0}
.scroll{overflow-x:auto;border:1px solid var(--line);border-radius:6px}
table.lb{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
table.lb th,table.lb td{padding:5px 8px;border-bottom:1px solid var(--line);text-align:right;white-space:nowrap;
vertical-align:middle}
table.lb thead th{white-space:normal;vertical-align:bottom;background:var(--head);position:sticky;top:0;cursor:pointer;user-select:none;font-weight:600}
table.lb thead th:hover{background:#eaeef2}
table.lb thead th::after{content:"\\2195";color:#afb8c1;margin-left:4px;font-size:11px}
table.lb thead th[aria-sort=ascending]::after{content:"\\25B2";color:var(--accent)}
table.lb thead th[aria-sort=descending]::after{content:"\\25BC";color:var(--accent)}
table.lb th:first-child,table.lb td:first-child{text-align:left}
table.lb tbody th{font-weight:600}table.lb th.variant{white-space:normal;max-width:20em;overflow-wrap:anywhere}
td.official{font-weight:600}td.best{background:var(--best)}
.pm{display:block;color:var(--muted);font-weight:400;font-size:11px;line-height:1.1}.val{display:inline-block;vertical-align:middle;text-align:right;min-width:3.2em}dd .pm{display:inline}.missing{color:#afb8c1}
.delta.pos{color:var(--pos)}.delta.neg{color:var(--neg)}.delta.zero{color:var(--muted)}
.sig{font-weight:700;margin-left:1px}.ci{display:block;color:var(--muted);font-size:11px}
.baseline-tag{font-size:11px;border:1px solid var(--line);border-radius:10px;padding:1px 7px;color:var(--muted)}
svg.bar{vertical-align:middle;margin-right:6px}svg.bar .track{fill:var(--track)}svg.bar .fill{fill:var(--bar)}
svg.bar .err{stroke:var(--fg);stroke-width:1.2;fill:none}
details.toggle summary{cursor:pointer;color:var(--accent);min-width:10em}details.toggle summary:hover{text-decoration:underline}
tr.detail{display:none}tbody.entry:has(details.toggle[open]) tr.detail{display:table-row}
tr.detail td{text-align:left;background:#fbfcfd;white-space:normal}
.detail-grid{display:flex;flex-wrap:wrap;gap:18px 32px}.detail-grid section{min-width:260px;flex:1}
dl{display:grid;grid-template-columns:max-content 1fr;gap:3px 12px;margin:0}dt{color:var(--muted)}dd{margin:0}
dd ol{margin:0;padding-left:18px}dd code{overflow-wrap:anywhere}code{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.ver{color:var(--muted);font-size:12px}table.params{border-collapse:collapse;margin-top:3px}
table.params th,table.params td{text-align:left;padding:1px 8px 1px 0;font-weight:400;border:0}
table.params th{color:var(--muted)}
.cms{display:flex;flex-wrap:wrap;gap:14px}
figure.cm{margin:0;border:1px solid var(--line);border-radius:6px;padding:8px 10px}
figure.cm figcaption{font-weight:600;margin-bottom:4px}
figure.cm table{border-collapse:collapse;font-variant-numeric:tabular-nums}
figure.cm th,figure.cm td{padding:3px 9px;text-align:right;font-size:12px}
figure.cm th{color:var(--muted);font-weight:500}figure.cm th.corner{font-size:10px}
figure.cm td.dark{color:#fff}figure.cm td.diag{background:rgba(26,127,55,var(--a))}figure.cm td.off{background:rgba(207,34,46,var(--a))}
tbody.reference tr.main{background:repeating-linear-gradient(135deg,transparent 0 6px,var(--head) 6px 12px);
font-style:italic}tbody.reference th.variant summary{color:var(--muted)}sup.dagger{color:var(--muted);margin-left:2px}
.pub-tag{font-size:11px;border:1px dashed var(--muted);border-radius:10px;padding:1px 7px;color:var(--muted);font-style:normal}
.refnote{color:var(--muted);font-size:12px;margin:4px 0}
footer{border-top:1px solid var(--line);margin-top:28px;padding-bottom:30px;color:var(--muted);font-size:13px}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#8d96a0;--line:#30363d;--bg:#0d1117;--head:#161b22;
--track:#21262d;--best:#3b2e00}table.lb thead th:hover{background:#21262d}tr.detail td{background:#161b22}
.note{background:#2d1b0b}}
"""

JS = """
(function(){
  function key(entry, col, numeric){
    var row = entry.tagName === 'TBODY' ? entry.rows[0] : entry;
    var cell = row.cells[col];
    var raw = cell ? (cell.getAttribute('data-sort') !== null ? cell.getAttribute('data-sort') : cell.textContent) : '';
    if (!numeric) return raw.trim().toLowerCase();
    var v = parseFloat(raw);
    return isNaN(v) ? null : v;
  }
  function sortBy(table, th){
    var col = th.cellIndex, numeric = th.getAttribute('data-type') === 'number';
    var asc = th.getAttribute('aria-sort') !== 'ascending';
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function(h){ h.removeAttribute('aria-sort'); });
    th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
    var grouped = table.classList.contains('grouped');
    var parent = grouped ? table : table.tBodies[0];
    var entries = Array.prototype.slice.call(grouped ? table.tBodies : table.tBodies[0].rows);
    var keyed = entries.map(function(en, i){ return {en: en, k: key(en, col, numeric), i: i}; });
    keyed.sort(function(a, b){
      if (a.k === null || b.k === null) return a.k === null ? (b.k === null ? a.i - b.i : 1) : -1;
      var c = a.k < b.k ? -1 : a.k > b.k ? 1 : 0;
      return (asc ? c : -c) || a.i - b.i;
    });
    keyed.forEach(function(x){ parent.appendChild(x.en); });
  }
  document.querySelectorAll('table.sortable').forEach(function(table){
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function(th){
      th.tabIndex = 0;
      th.addEventListener('click', function(){ sortBy(table, th); });
      th.addEventListener('keydown', function(ev){
        if (ev.key === 'Enter' || ev.key === ' '){ ev.preventDefault(); sortBy(table, th); }
      });
    });
  });
})();
"""
