"""Every renderer draws the columns of the one table model (alexbench.report.table): the same
columns, in the same order, under the header each format spells, in the terminal, Markdown,
LaTeX and HTML outputs of leaderboards built from real runs (with a baseline, an explainer,
published references and a variant name full of markup)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import io
import re

import pytest
from rich.console import Console

from alexbench.config.tasks import Reference
from alexbench.report import leaderboard as lb
from alexbench.report.columns import EXPLAINER_COLUMNS
from alexbench.report.htmlpage import render_html
from alexbench.report.latex import latex_escape, to_latex
from alexbench.report.table import build_table, explainer_label

from .leaderboard_runs import make_boards

WHEN = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
REFS = [Reference("Team <X> & co", 0.5, "Proc. SMM4H 2023, Table 2", note="participant-reported")]


@pytest.fixture(scope="module")
def boards(tmp_path_factory: pytest.TempPathFactory) -> list[lb.Leaderboard]:
    built = make_boards(tmp_path_factory.mktemp("columns"))
    demo = next(b for b in built if b.task == "demo")
    no_llm = dataclasses.replace(demo, rows=[r for r in demo.rows if not r.explainer], baseline=None)
    return [dataclasses.replace(b, references=REFS) for b in built] + [no_llm]


def markdown_heads(text: str) -> list[str]:
    line = next(line for line in text.splitlines() if line.startswith("| variant |"))
    return [cell.strip() for cell in line.strip("|").split(" | ")]


def latex_heads(text: str) -> list[str]:
    lines = text.splitlines()
    return lines[lines.index(r"\toprule") + 1].removesuffix(r" \\").split(" & ")


def html_heads(page: str, task: str) -> list[str]:
    section = page[page.index(f'data-task="{html.escape(task)}"'):]
    section = section[:section.index("</thead>")]
    return [html.unescape(h) for h in re.findall(r'<th scope="col"[^>]*>([^<]*)</th>', section)]


def test_the_model_has_the_columns_the_board_asks_for(boards) -> None:
    demo, no_llm = boards[0], boards[-1]
    keys = [c.key for c in build_table(demo).columns]
    assert keys[:5] == ["variant", "seeds", "test_official", "delta", "dev_official"]
    assert [k for k in keys if k.startswith("f1_")] == [f"f1_{label}" for label in demo.labels]
    assert {"explainer_sent", "explainer_flips", "explainer_flip_precision"} <= set(keys)
    # No baseline, no Δ; no explainer on any row, no explainer column.
    assert [c.group for c in build_table(no_llm).columns if c.group in ("delta", "explainer")] == []
    # One definition of the explainer columns, keyed as metrics.json keys them.
    assert lb.EXPLAINER_KEYS == tuple(c.key for c in EXPLAINER_COLUMNS) and len(set(lb.EXPLAINER_KEYS)) == 9


def test_every_renderer_draws_the_model_columns_in_order(boards) -> None:
    page = render_html(boards[:2], generated_at=WHEN)
    for board in boards:
        columns = build_table(board).columns
        n = len(columns)
        md = lb.to_markdown(board)
        assert markdown_heads(md) == [c.header for c in columns]
        body = [line for line in md.splitlines() if line.startswith("| ") and not line.startswith("| variant |")]
        assert len(body) == len(board.rows) + len(board.references)
        assert all(line.count(" | ") == n - 1 for line in body)  # nothing in the cells has " | "

        tex = to_latex(board)
        assert latex_heads(tex) == [c.latex.replace("{}", latex_escape(c.subject)) for c in columns]
        assert rf"\begin{{tabular}}{{l{'r' * (n - 1)}}}" in tex
        rows = [line for line in tex.splitlines() if line.endswith(r" \\")][1:]  # the header row first
        assert len(rows) == len(board.rows) + len(board.references)
        assert all(len(line.split(" & ")) == n for line in rows)

        one = page if board in boards[:2] else render_html([board], generated_at=WHEN)
        assert html_heads(one, board.task) == [c.html for c in columns]
        section = one[one.index(f'data-task="{html.escape(board.task)}"'):]
        section = section[:section.index("<h3>Test confusion matrices")]
        mains = re.findall(r'<tr class="main">(.*?)</tr>', section, re.S)
        assert len(mains) == len(board.rows) + len(board.references)
        assert all(m.count("<td") + m.count('<th scope="row"') == n for m in mains)

        buf = io.StringIO()
        Console(file=buf, width=1000, color_system=None).print(lb.to_rich(board))
        head = next(line for line in buf.getvalue().splitlines() if line.startswith("┃"))
        assert [cell.strip() for cell in head.strip("┃").split("┃")] == [c.header for c in columns]


def test_the_explainer_columns_agree_across_formats(boards) -> None:
    demo = boards[0]
    shown = [c for c in build_table(demo).columns if c.group == "explainer"]
    specs = {f"explainer_{s.key}": s for s in EXPLAINER_COLUMNS}
    assert shown and all(c.key in specs for c in shown)
    md, tex, page = lb.to_markdown(demo), to_latex(demo), render_html([demo], generated_at=WHEN)
    name, typeset = explainer_label(demo), latex_escape(explainer_label(demo, typeset=True))
    assert name == "third_party_veto"  # the board's explainer (tests/test_explainer_headers.py: the LLM's)
    for column in shown:
        spec = specs[column.key]
        assert spec.header.replace("{}", name) in markdown_heads(md)
        assert spec.latex.replace("{}", typeset) in latex_heads(tex)
        assert spec.html.replace("{}", name) in html_heads(page, demo.task)
        assert f'title="{html.escape(spec.tooltip)}"' in page
    # CSV keeps its fixed schema: every explainer statistic, shown or not, but the machine's latencies
    # and those recorded only where they happened (failed posts).
    head = lb.to_csv(demo).splitlines()[0].split(",")
    assert all((f"explainer_{s.key}_mean" in head) is not (s.machine or s.sparse) for s in EXPLAINER_COLUMNS)


def test_the_machines_latencies_are_in_the_terminal_only(boards) -> None:
    """Latency p50/p95 measure the machine, not the method: the terminal shows them; Markdown, CSV,
    JSON, LaTeX and HTML leave them out, so a board rendered again elsewhere is the same file."""
    demo = boards[0]
    rows = [dataclasses.replace(r, explainer={**r.explainer, "latency_p50_s": lb.Stat([0.25, 0.75]),
                                              "latency_p95_s": lb.Stat([1.5, 2.5])}) if r.explainer else r
            for r in demo.rows]
    timed = dataclasses.replace(demo, rows=rows)
    machine = [s for s in EXPLAINER_COLUMNS if s.machine]
    assert {s.key for s in machine} == {"latency_p50_s", "latency_p95_s"}
    buf = io.StringIO()
    Console(file=buf, width=1000, color_system=None).print(lb.to_rich(timed))
    terminal = buf.getvalue()
    assert all(s.header.replace("{}", "third_party_veto") in terminal for s in machine) and "0.500±0.354" in terminal
    md, tex, page, csv_text, js = (lb.to_markdown(timed), to_latex(timed), render_html([timed]), lb.to_csv(timed),
                                   lb.to_json(timed))
    for s in machine:
        assert s.header.replace("{}", "third_party_veto") not in md and s.latex.replace("{}", r"third\_party\_veto") not in tex
        assert s.html.replace("{}", "third_party_veto") not in html_heads(page, timed.task)
        assert s.key not in csv_text and s.key not in js
    # The rest of the explainer's statistics stay in every file.
    assert "third_party_veto flips" in md and "explainer_flips_mean" in csv_text and '"flips"' in js
    # No time stamp unless asked for: the page is a function of the boards alone.
    assert render_html([timed]) == page and "generated" not in page.split("<main>")[0]
    assert "2026-01-02 03:04:05 UTC" in render_html([timed], generated_at=WHEN)
