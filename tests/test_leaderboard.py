"""Leaderboard rows and their terminal rendering: a row never mixes two definitions of a variant;
the terminal table never hides a digit (on a terminal a board too wide for it is split into tables
that fit, whose cells fold only when even one column does not fit; in a log or a pipe the table is
printed at its natural width)."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from alexbench.config.tasks import TaskCatalog, load_task
from alexbench.config.variants import VariantCatalog
from alexbench.plugin.host import PluginHost
from alexbench.report import leaderboard as lb
from alexbench.run.runner import Runner
from alexbench.run.store import ResultsStore
from alexbench.testing import write_tiny_task

from .conftest import REPO
from .leaderboard_runs import make_boards

STAT = re.compile(r"\d\.\d{3}±\d\.\d{3}")


@pytest.fixture(scope="module")
def board(tmp_path_factory) -> lb.Leaderboard:
    return make_boards(tmp_path_factory.mktemp("boards"), tasks=("demo",))[0]


def expected_stats(board: lb.Leaderboard) -> int:
    return sum(len(STAT.findall(" ".join(lb.build_table(board).text_cells(row)))) for row in board.rows)


def test_a_log_gets_the_whole_table_on_one_line_per_row(board) -> None:
    buf = io.StringIO()
    console = Console(file=buf, width=100, force_terminal=False)  # as the CLI's console in CI
    lb.print_rich(console, board)
    text = buf.getvalue()
    assert "…" not in text
    assert len(STAT.findall(text)) == expected_stats(board) > 20  # every mean±std, whole
    rows = [line for line in text.splitlines() if line.startswith("│")]
    assert len(rows) == len(board.rows)  # nothing wrapped onto a second line
    assert "F1[1]" in text and "third_party_veto flip_precision" in text


def tables_in(text: str) -> list[list[str]]:
    """The printed tables: each one's lines from its top border to its bottom border."""
    tables: list[list[str]] = []
    for line in text.splitlines():
        if line.startswith("┏"):
            tables.append([])
        if tables and (not tables[-1] or not tables[-1][-1].startswith("└")):
            tables[-1].append(line)
    return tables


def test_a_narrow_terminal_folds_cells_instead_of_cutting_them(board) -> None:
    """40 columns: not even the variant column (a 45-character name) fits. Every table is as narrow
    as the terminal and its cells fold; none is cut."""
    buf = io.StringIO()
    console = Console(file=buf, width=40, force_terminal=True, color_system=None)
    lb.print_rich(console, board)
    text = buf.getvalue()
    assert "…" not in text
    assert max(len(line) for line in text.splitlines()) <= 40
    parts = lb.to_rich_parts(board, 40)
    printed = tables_in(text)
    assert len(printed) == len(parts) > 1
    # Read each column top to bottom: its pieces, joined, are exactly its cells, in row order.
    for lines, table in zip(printed, parts):
        body = [line for line in lines if line.startswith("│")]
        columns = list(zip(*(line.split("│")[1:-1] for line in body)))
        cells = [[cell.plain for cell in column.cells] for column in table.columns]
        assert len(columns) == len(cells) and len(body) > len(board.rows)  # folded onto more lines
        for pieces, column in zip(columns, cells):
            assert "".join("".join(p.split()) for p in pieces) == "".join("".join(c.split()) for c in column)


@pytest.fixture(scope="module")
def multi_label(tmp_path_factory) -> lb.Leaderboard:
    """The built-in multi-label task (six concerns): three real variants, one seed."""
    host = PluginHost()
    store = ResultsStore(tmp_path_factory.mktemp("multi") / "results")
    runner = Runner(host, store, show_progress=False)
    task = load_task(REPO / "plugins" / "alexbench_tasks" / "tasks" / "vaccine_concerns" / "task.toml")
    for variant in ("majority", "tfidf", "tfidf-balanced"):
        assert runner.run(task, VariantCatalog(TaskCatalog(host.task_dirs()).variant_files).get(variant), 1).ok
    return lb.build(store, baseline="majority", metrics=host.metrics, n_boot=100)[0]


@pytest.mark.parametrize("width", [80, 120, 160])
def test_a_wide_board_fits_the_terminal_in_tables_of_whole_cells(multi_label, width) -> None:
    """A multi-label board is ~250 characters wide (a column per label). On a terminal it is
    split into tables as wide as the window at most, each with the variant column and whole cells
    (a row a line); together they hold every cell of the board once, the per-label F1 after the
    official metric and Δ."""
    model = lb.build_table(multi_label, machine=True)
    natural = io.StringIO()
    lb.print_rich(Console(file=natural, width=100, force_terminal=False), multi_label)
    assert max(len(line) for line in natural.getvalue().splitlines()) > 230  # one table, a row a line, off a terminal
    buf = io.StringIO()
    lb.print_rich(Console(file=buf, width=width, force_terminal=True, color_system=None), multi_label)
    text = buf.getvalue()
    assert max(len(line) for line in text.splitlines()) <= width
    seen: dict[str, list[str]] = {}
    tables = tables_in(text)
    assert len(tables) > 1
    for lines in tables:
        heads = [h.strip() for h in next(line for line in lines if line.startswith("┃")).strip("┃").split("┃")]
        assert heads[0] == "variant" and sum(line.startswith("┃") for line in lines) == 1  # headers unfolded
        body = [[c.strip() for c in line.strip("│").split("│")] for line in lines if line.startswith("│")]
        assert len(body) == len(multi_label.rows)  # a row a line: nothing folded
        for j, head in enumerate(heads[1:], start=1):
            assert head not in seen  # every column once
            seen[head] = [row[j] for row in body]
    expected = {c.header: [model.text_cells(r)[i] for r in multi_label.rows]
                for i, c in enumerate(model.columns) if i}
    assert seen == expected
    first = [h.strip() for h in tables[0][1].strip("┃").split("┃")]
    assert first[:4] == ["variant", "seeds", "test macro_f1", "Δ vs majority"]
    assert not any(h.startswith("F1[") for h in first)  # the per-label scores come in a table of their own


LONG = "tfidf-balanced-with-a-rather-long-descriptive-variant-name"
STUDY = f"""
[study]
name = "wide"
tasks = ["{{task}}"]
variants = ["tfidf", "{LONG}"]
seeds = [1, 2]
baseline = "tfidf"

[variants."{LONG}"]
extends = "tfidf-balanced"
"""


def test_the_cli_prints_the_whole_table_to_a_pipe(tmp_path: Path) -> None:
    """Three classes and a long variant name: wider than the CLI's 160 columns for non-terminals."""
    task = write_tiny_task(tmp_path / "tasks", "multiclass")
    (tmp_path / "wide.toml").write_text(STUDY.format(task=task))
    out = subprocess.run([sys.executable, "-m", "alexbench", "grid", "wide.toml", "--no-progress", "--out", "lb"],
                         cwd=tmp_path, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    rows = [line for line in out.stdout.splitlines() if line.startswith("│")]
    assert len(rows) == 2 and max(len(line) for line in rows) > 160 and LONG in out.stdout
    assert "…" not in out.stdout
    assert len(STAT.findall(out.stdout)) == 2 * 7  # 2 variants × (test, dev, macro_f1, accuracy, 3 × F1)


def test_a_row_never_mixes_two_definitions_of_a_variant(tmp_path: Path) -> None:
    """Run a variant on seeds 1-3, change its definition and rerun seed 1 only: the row is the
    new definition's seed 1 alone, and a note says why seeds 2 and 3 are missing."""
    from alexbench.config.tasks import load_task
    from alexbench.config.variants import ComponentSpec, VariantSpec
    from alexbench.plugin.host import PluginHost
    from alexbench.run.runner import Runner
    from alexbench.run.store import ResultsStore

    from .conftest import REPO

    task = load_task(REPO / "plugins" / "alexbench_tasks" / "tasks" / "demo" / "task.toml")
    store = ResultsStore(tmp_path / "results")
    runner = Runner(PluginHost(), store, show_progress=False)
    old = VariantSpec("tfidf-x", ComponentSpec("tfidf_logreg", {"class_weight": "balanced"}))
    new = VariantSpec("tfidf-x", ComponentSpec("tfidf_logreg", {"class_weight": "balanced", "C": 0.05}))
    old_values = [runner.run(task, old, seed).run.metrics()["test"]["official"]["value"] for seed in (1, 2, 3)]
    new_value = runner.run(task, new, 1).run.metrics()["test"]["official"]["value"]
    assert new_value != old_values[0]  # the two definitions really score differently
    board = lb.build(store)[0]
    (row,) = board.rows
    assert row.seeds == [1] and row.test_official.values == [new_value]
    assert row.components["classifier"]["params"]["C"] == 0.05
    assert board.notes == ["tfidf-x: seed(s) 2, 3 left out: only an earlier definition of the variant (or of the "
                           "task or its data) was run for them; rerun them to include them"]


def test_a_table_of_rows_run_on_different_data_warns(tmp_path: Path) -> None:
    """A data file changed between runs (here the test labels): the rows do not compare, and the
    leaderboard says so in every format, whatever else it shows. The same posts in a file
    re-saved with other line endings are the same data."""
    from alexbench.config.tasks import load_task
    from alexbench.config.variants import ComponentSpec, VariantSpec
    from alexbench.plugin.host import PluginHost
    from alexbench.run.runner import Runner
    from alexbench.run.store import ResultsStore

    task = load_task(write_tiny_task(tmp_path / "tasks", "binary"))
    store = ResultsStore(tmp_path / "results")
    Runner(PluginHost(), store, show_progress=False).run(task, VariantSpec("majority", ComponentSpec("majority")), 0)
    assert lb.build(store)[0].warnings == []
    test_file = task.split_path("test")
    test_file.write_bytes(test_file.read_bytes().replace(b"\n", b"\r\n"))
    Runner(PluginHost(), store, show_progress=False).run(task, VariantSpec("crlf", ComponentSpec("majority")), 0)
    assert lb.build(store)[0].warnings == []
    test_file.write_text(test_file.read_text().replace("\t1\n", "\t0\n"))
    Runner(PluginHost(), store, show_progress=False).run(task, VariantSpec("tfidf", ComponentSpec("tfidf_logreg")), 0)
    board = lb.build(store)[0]
    (warning,) = board.warnings
    assert warning.startswith("the rows of this table were run on different test data (posts ")
    assert warning.count("… for crlf, majority") == 1 and warning.count("… for tfidf") == 1
    assert f"> **Warning:** {warning}" in lb.to_markdown(board) and board.to_dict()["warnings"] == [warning]
