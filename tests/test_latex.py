"""LaTeX leaderboard tables from real runs: booktabs structure, escaping, the numbers and markers."""

from __future__ import annotations

import dataclasses
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alexbench.report.latex import LATEX_SPECIALS, latex_escape, to_latex
from alexbench.report.leaderboard import Leaderboard
from alexbench.safetext import terminal

from .leaderboard_runs import NASTY, make_boards

UNESCAPE = {v: k for k, v in LATEX_SPECIALS.items()}
TOKEN = re.compile("|".join(re.escape(v) for v in sorted(UNESCAPE, key=len, reverse=True)) + "|.", re.S)


def unescape(text: str) -> str:
    return "".join(UNESCAPE.get(t, t) for t in TOKEN.findall(text))


def split_cells(line: str) -> list[str]:
    """Cells of a tabular row: split on '&' that is not escaped."""
    assert line.endswith(r" \\"), line
    return re.split(r"(?<!\\)&", line[: -len(r" \\")])


def balanced(text: str) -> bool:
    depth = 0
    for m in re.finditer(r"\\[{}]|[{}]", text):
        if m.group() in ("{", "}"):
            depth += 1 if m.group() == "{" else -1
            if depth < 0:
                return False
    return depth == 0


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Leaderboard:
    return make_boards(tmp_path_factory.mktemp("lb"), tasks=("demo",))[0]


@given(st.text())
def test_escape_round_trips_and_leaves_no_special_character(text) -> None:
    escaped = latex_escape(text)
    # as written, but for control characters (a newline, ESC): shown as escapes, as in the terminal
    assert unescape(escaped) == terminal(text)
    assert terminal(text) == text or not text.isprintable()
    bare = re.sub("|".join(re.escape(v) for v in LATEX_SPECIALS.values()), "", escaped)
    assert not set(bare) & set(LATEX_SPECIALS)


def test_table_structure_numbers_and_markers(demo) -> None:
    tex = to_latex(demo)
    lines = tex.splitlines()
    assert lines[1] == r"\begin{table}[t]" and lines[-1] == r"\end{table}" and balanced(tex)
    top, mid, bottom = lines.index(r"\toprule"), lines.index(r"\midrule"), lines.index(r"\bottomrule")
    spec = re.search(r"\\begin\{tabular\}\{([lr]+)\}", tex).group(1)
    head, rows = split_cells(lines[top + 1]), [split_cells(x) for x in lines[mid + 1:bottom]]
    assert mid == top + 2 and len(rows) == len(demo.rows)
    assert len(head) == len(spec) and all(len(r) == len(spec) for r in rows)
    assert [unescape(r[0].strip()) for r in rows] == [r.variant for r in demo.rows]
    assert head[2].strip() == r"Test f1\_positive" and head[3].strip() == r"$\Delta$ vs majority"
    assert any(r"third\_party\_veto flips" in h for h in head)  # named after the board's explainer
    for row, cells in zip(demo.rows, rows):
        assert cells[1].strip() == str(len(row.seeds))
        assert f"{row.test_official.mean:.3f}" in cells[2] and f"{row.test_official.std:.3f}" in cells[2]
        assert cells[2].count("$") % 2 == 0 and cells[3].count("$") % 2 == 0
        if row.variant == demo.baseline:
            assert cells[3].strip() == r"\textit{baseline}"
        else:
            c = row.comparison
            marker = c.marker()
            assert cells[3].strip().startswith(f"${row.delta:+.3f}" + (f"^{{{marker}}}$" if marker else "$"))
            assert f"${c.ci_low:+.3f}$, ${c.ci_high:+.3f}$" in cells[3]
    # Only the best official score is bold; at least one variant is significantly better here.
    assert [r"\textbf" in r[2] for r in rows] == [r is demo.rows[0] for r in demo.rows]
    assert any(r.comparison and r.comparison.marker() for r in demo.rows)
    assert latex_escape(NASTY) in tex and NASTY not in tex
    assert r"\label{tab:demo}" in tex


def test_optional_columns_and_awkward_names(demo) -> None:
    plain = dataclasses.replace(demo, rows=[r for r in demo.rows if not r.explainer], baseline=None)
    tex = to_latex(plain, caption="My caption", label="tab:mine")
    assert "LLM" not in tex and r"\Delta" not in tex and r"\caption{My caption}" in tex and r"\label{tab:mine}" in tex
    # A variant name starting with "[" must not become the optional argument of the previous "\\".
    odd = [dataclasses.replace(r, variant=f"[{i}] {r.variant} #1 ~x^2") for i, r in enumerate(plain.rows)]
    tex = to_latex(dataclasses.replace(plain, rows=odd, task="task_#1"))
    assert not re.search(r"\\\\\s*\n\s*\[", tex) and balanced(tex)
    assert r"\label{tab:task_-1}" in tex and r"task\_\#1" in tex
