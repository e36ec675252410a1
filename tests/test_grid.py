"""Grids: a killed grid resumes without recomputing finished runs; a failing variant is recorded
and the rest go on."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

STUDY = """
[study]
name = "resume"
tasks = ["demo"]
variants = ["tfidf", "tfidf-balanced"]
seeds = [{seeds}]
baseline = "tfidf"
"""


def test_killed_grid_resumes_without_recompute(tmp_path: Path) -> None:
    study = tmp_path / "study.toml"
    study.write_text(STUDY.format(seeds=", ".join(str(s) for s in range(1, 13))))
    cmd = [sys.executable, "-m", "alexbench", "grid", str(study), "--no-progress", "--bootstrap", "50"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    done_before = 0
    assert proc.stderr is not None
    for line in proc.stderr:
        if line.startswith("✓"):
            done_before += 1
            if done_before == 5:
                os.kill(proc.pid, signal.SIGKILL)
                break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    runs = tmp_path / "results" / "runs" / "demo"
    finished = {p: (p / "metrics.json").stat().st_mtime_ns for p in runs.glob("*/s*") if (p / "metrics.json").exists()}
    assert 5 <= len(finished) < 24
    rerun = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False)
    assert rerun.returncode == 0, rerun.stderr
    assert rerun.stderr.count("reused") == len(finished) and rerun.stderr.count(": done,") == 24 - len(finished)
    assert all((p / "metrics.json").stat().st_mtime_ns == t for p, t in finished.items())
    assert not list(runs.rglob("*.tmp")) and len(list(runs.glob("*/s*"))) == 24
    board = json.loads((tmp_path / "leaderboards" / "resume" / "demo.json").read_text())
    assert sorted(len(r["seeds"]) for r in board["rows"]) == [12, 12]


def test_failing_variant_is_recorded_and_the_grid_goes_on(tmp_path: Path) -> None:
    study = tmp_path / "study.toml"
    study.write_text(STUDY.format(seeds="1").replace('variants = ["tfidf", "tfidf-balanced"]',
                                                     'variants = ["tfidf", "broken"]')
                     + '\n[variants.broken]\nextends = "tfidf"\nclassifier = { params = { min_df = 100000 } }\n')
    result = subprocess.run([sys.executable, "-m", "alexbench", "grid", str(study), "--no-progress"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 1
    assert "✗ [2/2] demo · broken · seed 1" in result.stderr and "1 of 2 runs failed" in result.stderr
    failures = list((tmp_path / "results" / "failed").glob("*.json"))
    assert len(failures) == 1 and "min_df" in json.loads(failures[0].read_text())["error"]
    assert (tmp_path / "leaderboards" / "resume" / "demo.json").exists()


def test_bad_parameters_fail_before_any_run(tmp_path: Path) -> None:
    study = tmp_path / "study.toml"
    study.write_text(STUDY.format(seeds="1").replace('variants = ["tfidf", "tfidf-balanced"]',
                                                     'variants = ["tfidf", "typo"]')
                     + '\n[variants.typo]\nextends = "tfidf"\nclassifier = { params = { min_dff = 2 } }\n')
    result = subprocess.run([sys.executable, "-m", "alexbench", "grid", str(study), "--no-progress"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 2 and "has no parameter 'min_dff'. Did you mean 'min_df'?" in result.stderr
    assert not (tmp_path / "results" / "runs").exists()
