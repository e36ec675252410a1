"""The README's main job leaves a fresh clone as it found it (issue 26): run from an empty results
store, `alexbench demo` writes the demo's leaderboards again, and they are the committed files byte
for byte (no time stamp, no latencies, no git revision in them; the numbers equal the committed
ones). Then the Python API's docs example (docs/examples/demo_from_python.py) builds the same
board from Python, on the store the main job left: it prints the board as a DataFrame and draws a
plot (issue 29). Slow: it is the whole main job (about three minutes on 2 cores)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_clone(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A fresh clone, its status before, after the README's main job has run in it."""
    clone = tmp_path_factory.mktemp("checkout") / "clone"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True)
    before = subprocess.run(["git", "status", "--porcelain"], cwd=clone, capture_output=True, text=True,
                            check=True).stdout
    # The README's first command without its install (this suite runs after it).
    job = subprocess.run([sys.executable, "-m", "alexbench", "demo"], cwd=clone,
                         capture_output=True, text=True, timeout=1800)
    assert job.returncode == 0, job.stderr[-3000:]
    return clone, before


def test_the_main_job_leaves_a_fresh_clone_clean(demo_clone: tuple[Path, str]) -> None:
    clone, before = demo_clone
    assert before == ""
    assert (clone / "results" / "runs").is_dir()  # it ran, from an empty store, in the clone
    status = subprocess.run(["git", "status", "--porcelain"], cwd=clone, capture_output=True, text=True,
                            check=True).stdout
    diff = subprocess.run(["git", "diff", "--stat"], cwd=clone, capture_output=True, text=True).stdout
    assert status == "", f"the main job changed tracked files or left untracked ones:\n{status}\n{diff}"


def test_the_python_api_example_prints_the_demo_board_and_plots_it(demo_clone: tuple[Path, str],
                                                                    tmp_path: Path) -> None:
    clone, _ = demo_clone
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
