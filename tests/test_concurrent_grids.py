"""Several processes on one results store (issue 30, item 9): grids started together store every
run once, complete and identical to a sequential grid's; a run's claim makes a second grid wait
for (and reuse) a run another process is computing; a writer killed with SIGKILL leaves nothing
that stops a later grid, and a live writer's temporary folder is never removed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

STUDY = """
[study]
name = "shared"
tasks = ["demo"]
variants = ["majority", "tfidf", "tfidf-balanced"]
seeds = [1, 2, 3]
baseline = "tfidf"
"""  # demo-baselines under another name: nine runs of a few seconds
RUNS = 9
GRID = [sys.executable, "-m", "alexbench", "grid", "study.toml", "--no-progress", "--bootstrap", "20"]


def _grids(cwd: Path, n: int) -> list[tuple[int, str]]:
    """``n`` grids of the study started together on one store: (exit code, stderr) of each."""
    procs = [subprocess.Popen(GRID, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
             for _ in range(n)]
    return [(p.wait(timeout=1200), p.stderr.read()) for p in procs if p.stderr is not None]


def _stored(root: Path) -> dict[str, Path]:
    return {str(p.relative_to(root)): p for p in sorted((root / "runs").glob("*/*/s*"))}


def _leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.endswith((".tmp", ".claim"))]


@pytest.fixture(scope="module")
def sequential(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The results store of the study run by one grid alone."""
    work = tmp_path_factory.mktemp("sequential")
    (work / "study.toml").write_text(STUDY)
    [(code, err)] = _grids(work, 1)
    assert code == 0, err
    return work / "results"


@pytest.mark.parametrize("n", [2, 4])
def test_grids_started_together_store_every_run_once_as_one_grid_does(tmp_path: Path, sequential: Path,
                                                                        n: int) -> None:
    (tmp_path / "study.toml").write_text(STUDY)
    results = _grids(tmp_path, n)
    for code, err in results:
        assert code == 0, err
        assert err.count("✓") == RUNS and "✗" not in err
    # Each run was computed by one grid; the others waited for it and reused it.
    assert sum(err.count(": done,") for _, err in results) == RUNS
    assert sum(err.count(": reused,") for _, err in results) == (n - 1) * RUNS
    root = tmp_path / "results"
    want, got = _stored(sequential), _stored(root)
    assert sorted(got) == sorted(want) and len(got) == RUNS
    for name, path in got.items():
        assert sorted(f.name for f in path.iterdir()) == [
            "checksums.json", "metrics.json", "predictions.jsonl", "provenance.json", "run_spec.json"], name
        for file in ("checksums.json", "metrics.json", "predictions.jsonl", "run_spec.json"):
            assert (path / file).read_bytes() == (want[name] / file).read_bytes(), f"{name}/{file}"
    assert _leftovers(root) == []
    assert not list((root / "failed").glob("*.json"))
    board = subprocess.run([sys.executable, "-m", "alexbench", "leaderboard", "--study", "study.toml"], cwd=tmp_path,
                           capture_output=True, text=True, timeout=600, check=False)
    assert board.returncode == 0, board.stderr


HOLDER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from alexbench.fsio import make_temp_dir
    from alexbench.run.claims import temp_prefix
    from alexbench.run.store import ResultsStore

    root, task, variant, seed, run_id = sys.argv[1:]
    store = ResultsStore(Path(root))
    final = store.run_dir(task, variant, int(seed), run_id)
    with store.claim(task, variant, int(seed), run_id) as held:
        assert held
        tmp = make_temp_dir(final.parent, temp_prefix(final))  # a write under way, as write_run makes it
        (tmp / "metrics.json").write_text("{}")
        print(tmp, flush=True)
        sys.stdin.readline()  # held until the test says
        (tmp / "metrics.json").unlink()
        tmp.rmdir()
""")


def _holder(root: Path, run: Path) -> tuple[subprocess.Popen[str], Path]:
    """A process that holds the claim of the run ``run`` (not stored) and has a temporary folder
    of it, until a line is written to its stdin."""
    seed, run_id = run.name[1:].split("-")
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(root), "demo", run.parent.name, seed, run_id],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    return proc, Path(proc.stdout.readline().strip())


def _copy_of(sequential: Path, tmp_path: Path) -> tuple[Path, Path, bytes]:
    """A copy of the sequential store, with one run deleted: (store, that run's folder, its metrics)."""
    (tmp_path / "study.toml").write_text(STUDY)
    root = tmp_path / "results"
    subprocess.run(["cp", "-a", str(sequential), str(root)], check=True)
    run = next(p for p in _stored(root).values() if "tfidf-balanced/s3-" in str(p))
    metrics = (run / "metrics.json").read_bytes()
    subprocess.run(["rm", "-r", str(run)], check=True)
    return root, run, metrics


def test_a_writer_killed_with_sigkill_leaves_nothing_that_stops_the_next_grid(tmp_path: Path,
                                                                              sequential: Path) -> None:
    root, run, metrics = _copy_of(sequential, tmp_path)
    proc, tmp = _holder(root, run)
    assert tmp.is_dir() and tmp.name.startswith(f".{run.name}.{proc.pid}@")
    os.kill(proc.pid, signal.SIGKILL)  # its claim file and temporary folder stay behind
    proc.wait(timeout=60)
    assert tmp.is_dir() and (run.parent / f".{run.name}.claim").is_file()
    grid = subprocess.run(GRID, cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False)
    assert grid.returncode == 0, grid.stderr
    assert grid.stderr.count(": done,") == 1 and grid.stderr.count(": reused,") == RUNS - 1
    assert (run / "metrics.json").read_bytes() == metrics and (run / "run_spec.json").is_file()
    assert _leftovers(root) == []


def test_a_live_writers_run_is_waited_for_and_its_folder_left_alone(tmp_path: Path, sequential: Path) -> None:
    root, run, metrics = _copy_of(sequential, tmp_path)
    proc, tmp = _holder(root, run)
    grid = subprocess.Popen(GRID, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert grid.stderr is not None
    waiting = ""
    for line in grid.stderr:  # the grid does every other run first, then waits for the held one
        if "waiting for" in line:
            waiting = line
            break
    assert f"demo/tfidf-balanced/s3: waiting for process {proc.pid}@" in waiting
    time.sleep(1)
    assert (tmp / "metrics.json").read_text() == "{}" and not run.exists()  # untouched while its writer lives
    proc.communicate("done\n", timeout=120)
    assert proc.returncode == 0
    rest = grid.stderr.read()
    assert grid.wait(timeout=600) == 0, rest
    assert (run / "metrics.json").read_bytes() == metrics
    assert _leftovers(root) == []


def test_a_folder_put_in_place_first_by_another_process_is_kept(tmp_path: Path) -> None:
    from alexbench.fsio import move_dir_into_place

    final, mine = tmp_path / "run", tmp_path / ".run.1.tmp"
    for folder, text in ((final, "first"), (mine, "second")):
        folder.mkdir()
        (folder / "metrics.json").write_text(text)
    assert move_dir_into_place(mine, final) is False
    assert (final / "metrics.json").read_text() == "first" and not mine.exists()
    assert move_dir_into_place(final, tmp_path / "moved") is True and (tmp_path / "moved" / "metrics.json").is_file()
