"""Executors: a process pool and a local Ray instance produce the same runs as in-process
execution, written to the same store."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

STUDY = """
[study]
name = "exec"
tasks = ["demo"]
variants = ["majority", "tfidf-balanced"]
seeds = [1, 2]
baseline = "majority"
"""


def _grid(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    study = tmp_path / "study.toml"
    study.write_text(STUDY)
    return subprocess.run([sys.executable, "-m", "alexbench", "grid", str(study), "--no-progress", "--bootstrap", "100",
                           *extra], cwd=tmp_path, capture_output=True, text=True, timeout=900, check=False)


def _runs(tmp_path: Path) -> dict[str, dict]:
    out = {}
    for metrics in (tmp_path / "results" / "runs").rglob("metrics.json"):
        out[metrics.parent.relative_to(tmp_path / "results")] = json.loads(metrics.read_text())["test"]
    return out


@pytest.fixture(scope="module")
def sequential(tmp_path_factory) -> dict:
    path = tmp_path_factory.mktemp("seq")
    assert _grid(path).returncode == 0
    return _runs(path)


def test_process_pool_matches_sequential(tmp_path: Path, sequential: dict) -> None:
    result = _grid(tmp_path, "--workers", "2")
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("✓") == 4
    assert _runs(tmp_path) == sequential  # same run folders (content hashes), same scores
    again = _grid(tmp_path, "--workers", "2")
    assert again.stderr.count("reused") == 4


@pytest.mark.slow
def test_local_ray_matches_sequential(tmp_path: Path, sequential: dict) -> None:
    pytest.importorskip("ray")
    result = _grid(tmp_path, "--executor", "ray", "--workers", "2")
    if "could not start or reach Ray" in result.stderr:
        pytest.skip(f"Ray cannot start here: {result.stderr.strip().splitlines()[-1]}")
    assert result.returncode == 0, result.stderr
    assert _runs(tmp_path) == sequential
    assert json.loads((tmp_path / "leaderboards" / "exec" / "demo.json").read_text())["baseline"] == "majority"
