"""The README's main job leaves a fresh clone as it found it (issue 26): run from an empty results
store, `alexbench demo` writes the demo's leaderboards again, and they are the committed files byte
for byte (no time stamp, no latencies, no git revision in them; the numbers equal the committed
ones). Slow: it is the whole main job (about two minutes on 2 cores)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from .conftest import REPO

pytestmark = pytest.mark.slow


def test_the_main_job_leaves_a_fresh_clone_clean(tmp_path) -> None:
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True)
    assert subprocess.run(["git", "status", "--porcelain"], cwd=clone, capture_output=True, text=True,
                          check=True).stdout == ""
    # The README's first command without its install (this suite runs after it).
    job = subprocess.run([sys.executable, "-m", "alexbench", "demo"], cwd=clone,
                         capture_output=True, text=True, timeout=1800)
    assert job.returncode == 0, job.stderr[-3000:]
    assert (clone / "results" / "runs").is_dir()  # it ran, from an empty store, in the clone
    status = subprocess.run(["git", "status", "--porcelain"], cwd=clone, capture_output=True, text=True,
                            check=True).stdout
    diff = subprocess.run(["git", "diff", "--stat"], cwd=clone, capture_output=True, text=True).stdout
    assert status == "", f"the main job changed tracked files or left untracked ones:\n{status}\n{diff}"
