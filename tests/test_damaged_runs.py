"""A damaged stored run (an empty or truncated metrics.json, a cut predictions file): every
command names the file and the repair in one line, keeps going with the intact runs, exits 1,
and 'rescore --write' rebuilds metrics.json from the predictions."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def alexbench(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "alexbench", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=600, check=False)


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("finished")
    result = alexbench("grid", "demo-baselines", "--no-progress", "--bootstrap", "50", cwd=root)
    assert result.returncode == 0, result.stderr
    return root / "results"


@pytest.fixture
def work(finished: Path, tmp_path: Path) -> Path:
    shutil.copytree(finished, tmp_path / "results")
    return tmp_path


def _run_dir(work: Path, variant: str = "tfidf", seed: int = 2) -> Path:
    """The run's folder, relative to ``work`` (as the commands run there name it)."""
    return next((work / "results" / "runs" / "demo" / variant).glob(f"s{seed}-*")).relative_to(work)


def _one_error_line(stderr: str) -> None:
    assert "Traceback" not in stderr and "KeyError" not in stderr and "JSONDecodeError" not in stderr


@pytest.mark.parametrize("damage", ["{}", "truncated", ""])
def test_a_damaged_metrics_file_is_named_and_repairable(work: Path, damage: str) -> None:
    run = _run_dir(work)
    metrics = run / "metrics.json"
    original = json.loads((work / metrics).read_text())
    (work / metrics).write_text((work / metrics).read_text()[:200] if damage == "truncated" else damage)

    board = alexbench("leaderboard", "--study", "demo-baselines", cwd=work)
    assert board.returncode == 1, board.stderr
    _one_error_line(board.stderr)
    assert f"left out of the leaderboard: {metrics}" in board.stderr
    assert f"'alexbench rescore --run {run} --write' rebuilds it" in board.stderr
    assert "majority" in board.stdout and "tfidf-balanced" in board.stdout  # the intact runs are shown
    rows = {line.split()[1]: line for line in board.stdout.splitlines() if line.startswith("│ tfidf ")}
    assert " 2 " in rows["tfidf"]  # two seeds of tfidf left

    grid = alexbench("grid", "demo-baselines", "--no-progress", "--bootstrap", "50", cwd=work)
    assert grid.returncode == 1, grid.stderr
    _one_error_line(grid.stderr)
    assert grid.stderr.count("reused") == 8 and "run demo/tfidf/seed 2 is stored but damaged: " in grid.stderr
    assert f"{metrics}" in grid.stderr and "1 of 9 runs failed" in grid.stderr

    check = alexbench("rescore", cwd=work)
    assert check.returncode == 1 and "differs" in check.stderr and "stored metrics damaged" in check.stderr
    repair = alexbench("rescore", "--run", str(run), "--write", cwd=work)
    assert repair.returncode == 0, repair.stderr
    assert json.loads((work / metrics).read_text()) == original
    assert alexbench("rescore", cwd=work).returncode == 0
    assert alexbench("leaderboard", cwd=work).returncode == 0


def test_rescore_exits_1_when_stored_metrics_differ(work: Path) -> None:
    metrics = work / _run_dir(work, "majority", 1) / "metrics.json"
    data = json.loads(metrics.read_text())
    data["test"]["official"]["value"] = 0.5
    metrics.write_text(json.dumps(data))
    differs = alexbench("rescore", cwd=work)
    assert differs.returncode == 1 and "9 runs rescored, 1 differ" in differs.stdout
    assert alexbench("rescore", "--write", cwd=work).returncode == 0
    again = alexbench("rescore", cwd=work)
    assert again.returncode == 0 and "9 runs rescored, 0 differ" in again.stdout


def test_damaged_predictions_are_named_by_line(work: Path) -> None:
    run = _run_dir(work, "tfidf-balanced", 3)
    predictions = run / "predictions.jsonl"
    lines = (work / predictions).read_text().splitlines(keepends=True)
    (work / predictions).write_text("".join(lines[:-1]) + lines[-1][:20])  # the last row cut short
    rescore = alexbench("rescore", cwd=work)
    assert rescore.returncode == 1
    _one_error_line(rescore.stderr)
    assert f"cannot rescore {run}: {predictions}:{len(lines)}: not valid JSON" in rescore.stderr
    assert "1 cannot be rescored" in rescore.stdout
    board = alexbench("leaderboard", "--study", "demo-baselines", cwd=work)  # the numbers are in metrics.json
    assert board.returncode == 0, board.stderr
    assert f"tfidf-balanced: not compared: {predictions}:{len(lines)}: not valid JSON" in board.stderr
    explain_less = alexbench("submit", "--run", str(run), "--out", "subs", cwd=work)
    assert explain_less.returncode == 1 and f"{predictions}:{len(lines)}" in explain_less.stderr
    _one_error_line(explain_less.stderr)
