"""Outputs go where users ask: queries print and write nothing unless given --out; a study's
leaderboards go to leaderboards/<study>/ and re-rendering a study reproduces them exactly."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def alexbench(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "alexbench", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=600, check=False)


def _files(root: Path) -> dict[Path, int]:
    return {p.relative_to(root): p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def baselines(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder where 'grid demo-baselines' ran (3 baselines × 3 seeds)."""
    root = tmp_path_factory.mktemp("outputs")
    result = alexbench("grid", "demo-baselines", "--no-progress", "--bootstrap", "200", cwd=root)
    assert result.returncode == 0, result.stderr
    return root


def test_a_study_writes_its_leaderboards_to_its_own_folder(baselines: Path) -> None:
    written = sorted(p.name for p in (baselines / "leaderboards" / "demo-baselines").iterdir())
    assert written == ["demo.csv", "demo.json", "demo.md", "demo.tex", "demo_official.png", "demo_per_class_f1.png",
                       "index.html"]
    assert sorted(p.name for p in (baselines / "leaderboards").iterdir()) == ["demo-baselines"]


@pytest.mark.parametrize("args", [
    ["leaderboard", "--format", "json"], ["leaderboard"], ["leaderboard", "--format", "markdown", "-t", "demo"],
    ["leaderboard", "--study", "demo-baselines", "--format", "csv"], ["tasks"], ["plugins"], ["plugins", "--json"],
    ["variants"],
])
def test_queries_print_and_write_nothing(baselines: Path, args: list[str]) -> None:
    before = _files(baselines)
    result = alexbench(*args, cwd=baselines)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() and "written:" not in result.stderr
    assert _files(baselines) == before  # not a file added, removed or touched


def test_explain_writes_nothing(tmp_path: Path) -> None:
    study = tmp_path / "s.toml"
    study.write_text('[study]\nname = "s"\ntasks = ["demo"]\nvariants = ["echo"]\nseeds = [1]\n'
                     '[variants.echo]\nextends = "majority"\n'
                     'explainer = { name = "llm", params = { model = "openai/none", api_base = "http://127.0.0.1:9/v1", '
                     'retries = 0, backoff_s = 0.01 } }\n')
    run = alexbench("grid", str(study), "--no-progress", "--bootstrap", "20", "--out", "lb", cwd=tmp_path)
    run_dirs = list((tmp_path / "results" / "runs" / "demo" / "echo").glob("s1-*"))
    assert run.returncode == 0 and len(run_dirs) == 1, run.stderr  # the majority class is never sent to the LLM
    before = _files(tmp_path)
    for args in (["explain", "--run", run_dirs[0].name.split("-")[1], "--all"],
                 ["explain", "--run", str(run_dirs[0]), "--json", "--all"]):
        result = alexbench(*args, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert _files(tmp_path) == before


def test_leaderboard_out_writes_only_when_asked(baselines: Path, tmp_path: Path) -> None:
    result = alexbench("leaderboard", "--results", str(baselines / "results"), "--format", "json",
                       "--out", str(tmp_path / "mine"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["task"] == "demo"
    assert sorted(p.name for p in (tmp_path / "mine").iterdir())[:3] == ["demo.csv", "demo.json", "demo.md"]


def test_rerendering_a_study_reproduces_baseline_delta_and_significance(baselines: Path, tmp_path: Path) -> None:
    """'leaderboard --study' gives the same files as the grid wrote (index.html differs only in
    its time stamp), so the Δ and significance columns survive a re-render."""
    result = alexbench("leaderboard", "--study", "demo-baselines", "--bootstrap", "200", "--out",
                       str(tmp_path / "again"), cwd=baselines)
    assert result.returncode == 0, result.stderr
    original = baselines / "leaderboards" / "demo-baselines"
    for name in ("demo.md", "demo.json", "demo.csv", "demo.tex", "demo_official.png", "demo_per_class_f1.png"):
        assert (tmp_path / "again" / name).read_bytes() == (original / name).read_bytes(), name
    md = (tmp_path / "again" / "demo.md").read_text()
    assert "Δ vs majority" in md and "(baseline)" in md and "*" in md.split("(baseline)")[0]
    board = json.loads((tmp_path / "again" / "demo.json").read_text())
    assert board["baseline"] == "majority"
    assert all(r["comparison"] for r in board["rows"] if r["variant"] != "majority")


def test_a_study_leaderboard_shows_its_own_seeds_only(baselines: Path, tmp_path: Path) -> None:
    """Runs of other studies in the same store (here: seed 4) stay out of the study's rows."""
    results = tmp_path / "results"
    results.mkdir()
    for entry in (baselines / "results").iterdir():
        (results / entry.name).symlink_to(entry) if entry.name != "runs" else None
    subprocess.run(["cp", "-r", str(baselines / "results" / "runs"), str(results / "runs")], check=True)
    extra = alexbench("run", "-t", "demo", "-v", "majority", "--seeds", "4", "--results", str(results),
                      "--no-progress", cwd=tmp_path)
    assert extra.returncode == 0, extra.stderr
    assert not (tmp_path / "leaderboards").exists()  # 'run' writes leaderboards only with --out
    study = json.loads(alexbench("leaderboard", "--study", "demo-baselines", "--format", "json", "--results",
                                 str(results), cwd=tmp_path).stdout)
    assert {r["variant"]: r["seeds"] for r in study["rows"]}["majority"] == [1, 2, 3]
    everything = json.loads(alexbench("leaderboard", "--format", "json", "--results", str(results), cwd=tmp_path).stdout)
    assert {r["variant"]: r["seeds"] for r in everything["rows"]}["majority"] == [1, 2, 3, 4]
