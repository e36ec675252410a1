"""Published results ([[references]] in a task file) in every leaderboard format: clearly marked
rows, no part in Δ, significance or ranking; and end to end through the command line."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from alexbench.config.tasks import Reference
from alexbench.report import leaderboard as lb
from alexbench.report.latex import to_latex
from alexbench.report.leaderboard import Leaderboard

from .leaderboard_runs import make_boards

REFS = [Reference("Best 2023", 0.94, "arXiv:2401.02158", note="participant-reported"),
        Reference("Baseline | SVM", 0.5, "Overview, Table 1", split="test")]


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> Leaderboard:
    demo = next(b for b in make_boards(tmp_path_factory.mktemp("lb"), tasks=("demo",)) if b.task == "demo")
    return dataclasses.replace(demo, references=list(REFS))


def test_markdown_marks_them_italic_with_a_dagger_and_cites_the_source(board) -> None:
    text = lb.to_markdown(board)
    assert "| *Best 2023* † | published | 0.94 |" in text
    assert "| *Baseline \\| SVM* † | published | 0.5 |" in text  # a | in a name is escaped
    assert "- † Best 2023: f1_positive 0.94 on test (participant-reported); arXiv:2401.02158" in text
    assert lb.REFERENCE_NOTE in text
    ref_line = next(line for line in text.splitlines() if line.startswith("| *Best 2023*"))
    assert ref_line.count("|") == text.splitlines()[4].count("|")  # the table's own columns
    assert "+" not in ref_line.split("|")[4]  # no Δ


def test_json_lists_them_apart_from_the_rows(board) -> None:
    data = json.loads(json.dumps(board.to_dict()))
    assert [r["name"] for r in data["references"]] == ["Best 2023", "Baseline | SVM"]
    assert data["references"][0] == {"name": "Best 2023", "score": 0.94, "split": "test", "source": "arXiv:2401.02158",
                                      "note": "participant-reported", "official_metric": "f1_positive"}
    assert {r["variant"] for r in data["rows"]} == {r.variant for r in board.rows}


def test_csv_has_them_as_rows_of_kind_reference(board) -> None:
    rows = list(csv.DictReader(io.StringIO(lb.to_csv(board))))
    kinds = [r["kind"] for r in rows]
    assert kinds == ["run"] * len(board.rows) + ["reference"] * 2
    ref = rows[-2]
    assert (ref["variant"], ref["test_official_mean"], ref["delta"], ref["reference_source"]) == (
        "Best 2023", "0.94", "", "arXiv:2401.02158")
    assert ref["n_seeds"] == "0" and ref["p_bootstrap_holm"] == ""


def test_latex_and_terminal(board) -> None:
    tex = to_latex(board)
    assert r"\textit{Best 2023}$^\dagger$ & published & 0.94 &" in tex
    assert r"\textit{Baseline | SVM}$^\dagger$" in tex or r"\textit{Baseline {|} SVM}$^\dagger$" in tex
    assert r"$^\dagger$~Published, not run here" in tex and "arXiv:2401.02158" in tex
    assert tex.index(r"\textit{Best 2023}") > tex.index(board.rows[-1].variant.split()[0])
    from rich.console import Console

    console = Console(record=True, width=250, color_system="truecolor")
    console.print(lb.to_rich(board))
    styled = console.export_text(clear=False, styles=True)
    shown = console.export_text()
    assert "Best 2023 †" in shown and "published" in shown and "arXiv:2401.02158" in shown
    assert "\x1b[2m" in styled  # dim


def test_they_take_no_part_in_ranking_or_significance(board) -> None:
    without = dataclasses.replace(board, references=[])
    assert lb.ranking([board, board]) == lb.ranking([without, without])
    assert all(r.variant not in {ref.name for ref in REFS} for r in board.rows)
    assert [(r.variant, r.delta) for r in board.rows] == [(r.variant, r.delta) for r in without.rows]


def test_end_to_end_from_a_task_file(tiny_task_file: Path, tmp_path: Path) -> None:
    task = tiny_task_file.parent / "published.toml"
    task.write_text(tiny_task_file.read_text()
                    + '\n[[references]]\nname = "Shared-task best"\nscore = 0.9\nsource = "Overview, Table 3"\n'
                      'note = "participant-reported"\n')
    base = [sys.executable, "-m", "alexbench", "--results", str(tmp_path / "results")]
    done = subprocess.run([*base, "run", "-t", str(task), "-v", "tfidf", "--no-progress"], capture_output=True,
                          text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = subprocess.run([*base, "leaderboard", "--format", "json"], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["references"][0]["name"] == "Shared-task best" and data["references"][0]["score"] == 0.9
    md = subprocess.run([*base, "leaderboard", "--format", "markdown"], capture_output=True, text=True, cwd=tmp_path)
    assert "| *Shared-task best* † | published | 0.9 |" in md.stdout
