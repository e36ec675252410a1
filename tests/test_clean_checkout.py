"""The README's main job leaves a fresh clone as it found it (issue 26): run from an empty results
store, `alexbench demo` writes the demo's leaderboards again, and they are the committed files byte
for byte (no time stamp, no latencies, no git revision in them; the numbers equal the committed
ones). Then the Python API's docs example (docs/examples/demo_from_python.py) builds the same
board from Python, on the store the main job left: it prints the board as a DataFrame and draws a
plot (issue 29). The demo's LLM classifier row (llm-zero-shot) is the run that the ``grid
--dry-run`` taken before the main job must have counted exactly (issue 28). Slow: it is the whole
main job (about three minutes on 2 cores)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .conftest import REPO

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class DemoClone:
    path: Path
    status_before: str
    planned: list[dict[str, Any]]  # `grid demo --dry-run --json`'s runs, from the empty store


def dry_run(clone: Path) -> list[dict[str, Any]]:
    done = subprocess.run([sys.executable, "-m", "alexbench", "grid", "demo", "--dry-run", "--json"], cwd=clone,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)["runs"]


@pytest.fixture(scope="module")
def demo_clone(tmp_path_factory: pytest.TempPathFactory) -> DemoClone:
    """A fresh clone, its status and the demo's dry run before, after the README's main job has run in it."""
    clone = tmp_path_factory.mktemp("checkout") / "clone"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True)
    before = subprocess.run(["git", "status", "--porcelain"], cwd=clone, capture_output=True, text=True,
                            check=True).stdout
    planned = dry_run(clone)
    # The README's first command without its install (this suite runs after it).
    job = subprocess.run([sys.executable, "-m", "alexbench", "demo"], cwd=clone,
                         capture_output=True, text=True, timeout=1800)
    assert job.returncode == 0, job.stderr[-3000:]
    return DemoClone(clone, before, planned)


def test_the_main_job_leaves_a_fresh_clone_clean(demo_clone: DemoClone) -> None:
    clone, before = demo_clone.path, demo_clone.status_before
    assert before == ""
    assert (clone / "results" / "runs").is_dir()  # it ran, from an empty store, in the clone
    status = subprocess.run(["git", "status", "--porcelain"], cwd=clone, capture_output=True, text=True,
                            check=True).stdout
    diff = subprocess.run(["git", "diff", "--stat"], cwd=clone, capture_output=True, text=True).stdout
    assert status == "", f"the main job changed tracked files or left untracked ones:\n{status}\n{diff}"


def test_the_python_api_example_prints_the_demo_board_and_plots_it(demo_clone: DemoClone, tmp_path: Path) -> None:
    clone = demo_clone.path
    plot = tmp_path / "demo.png"
    done = subprocess.run([sys.executable, str(clone / "docs" / "examples" / "demo_from_python.py"),
                           "--results", str(clone / "results"), "--plot", str(plot)],
                          cwd=clone, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    board = json.loads((clone / "leaderboards" / "demo" / "demo.json").read_text())
    lines = done.stdout.splitlines()
    runs = [line for line in lines if line.startswith("[")]
    seeds = {seed for row in board["rows"] for seed in row["seeds"]}
    assert len(runs) == len(board["rows"]) * len(seeds)
    assert all(" reused demo · " in line for line in runs), runs  # the main job's runs, not run again
    for row in board["rows"]:  # the DataFrame holds the committed board's numbers
        shown = next(line.split() for line in lines if line.split()[:2] == ["demo", row["variant"]])
        assert float(shown[3]) == pytest.approx(row["test_official"]["mean"], abs=0.0005)
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and plot.stat().st_size > 5000


def test_the_dry_run_counted_the_tokens_the_llm_classifier_then_sent(demo_clone: DemoClone) -> None:
    """``grid --dry-run`` from the empty store planned exactly the questions and prompt tokens the
    demo's LLM classifier (zero-shot, calibrated on dev) then sent; once stored, it plans nothing."""
    clone = demo_clone.path
    (before,) = [r["plan"] for r in demo_clone.planned if r["component"] == "classifier" and r["variant"] == "llm-zero-shot"]
    (metrics_file,) = clone.glob("results/runs/demo/llm-zero-shot/*/metrics.json")
    provenance = json.loads((metrics_file.parent / "provenance.json").read_text())
    dev, test = provenance["fit"]["dev_usage"], json.loads(metrics_file.read_text())["classifier_usage"]["test"]
    assert before["posts"] == 90 + 120 and before["to_send"] == dev["from_model"] + test["from_model"] == 210
    assert before["prompt_tokens"] == dev["prompt_tokens"] + test["prompt_tokens"] > 0
    after = [r for r in dry_run(clone) if r["component"] == "classifier" and r["variant"] == "llm-zero-shot"]
    assert len(after) == 1 and after[0]["reused"]
    # The board shows what the classifier's model cost (local: 0) and keeps it in the JSON.
    assert "classifier $/1k posts" in (clone / "leaderboards" / "demo" / "demo.md").read_text()
    (row,) = [r for r in json.loads((clone / "leaderboards" / "demo" / "demo.json").read_text())["rows"]
              if r["variant"] == "llm-zero-shot"]
    assert row["classifier_usage"]["cost_per_1000_posts_usd"]["mean"] == 0.0
    assert "latency_p50_s" not in row["classifier_usage"]  # the machine's, not the method's: terminal only
