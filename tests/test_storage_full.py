"""A results disk that fills up while a grid runs — a real, size-limited tmpfs mounted in a
private user + mount namespace (``unshare -rm``), so the kernel itself answers ENOSPC.

Expected: the grid stops at the first run that cannot be written, with one clear error (no
traceback) that says what happened and how to resume; every finished run is whole; nothing
half-written is left; a rerun with room reuses the finished runs and completes the rest.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from alexbench.errors import StorageError
from alexbench.run.store import MIN_FREE_BYTES, ResultsStore, storage_exhausted

PAGE = os.sysconf("SC_PAGE_SIZE")  # tmpfs charges whole pages of file data
RUN_FILES = {"run_spec.json", "metrics.json", "provenance.json", "predictions.jsonl", "checksums.json"}


def _namespaces_work(tmp: Path) -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", f"mount -t tmpfs -o size=64k tmpfs '{tmp}'"],
                           capture_output=True)
    return probe.returncode == 0


@pytest.fixture
def small_disk(tmp_path: Path):
    """``run(script, size, workers)``: runs a bash script in a private namespace where ``$R`` is a
    fresh tmpfs of ``size``, ``$PY`` this Python and ``$WORKERS`` the grid's ``--workers``."""
    mount_point = tmp_path / "results"
    mount_point.mkdir()
    if not _namespaces_work(mount_point):
        pytest.skip("cannot mount a tmpfs in a user namespace here (unshare -rm refused)")

    def run(script: str, size: str, workers: int = 1) -> subprocess.CompletedProcess[str]:
        body = f'set -u\nmount -t tmpfs -o size={size} tmpfs "$R"\n{script}'
        return subprocess.run(["unshare", "-rm", "bash", "-c", body], cwd=tmp_path, capture_output=True, text=True,
                              env={**os.environ, "R": str(mount_point), "PY": sys.executable,
                                   "WORKERS": f"--workers {workers}"},
                              timeout=900)

    return tmp_path, run


GRID = '"$PY" -m alexbench grid demo-baselines --results "$R" --no-progress --bootstrap 50 --out "lb$1" $WORKERS'


def _run_dirs(root: Path) -> list[Path]:
    return sorted(p for p in (root / "runs").glob("*/*/*") if p.is_dir())


@pytest.mark.parametrize("workers", [1, 2])
def test_a_full_disk_stops_the_grid_cleanly_and_a_rerun_resumes(small_disk, workers: int) -> None:
    cwd, run = small_disk
    # 1. Measure one run's footprint on tmpfs.
    sized = run(f'set -- 0\n{GRID} >/dev/null 2>&1; cp -a "$R" sized', "64m")
    assert sized.returncode == 0, sized.stderr
    per_run = max(sum(-(-f.stat().st_size // PAGE) * PAGE for f in folder.iterdir())
                  for folder in _run_dirs(cwd / "sized"))
    # 2. A disk with room for two runs and then a remainder that lets the third start (at least
    #    MIN_FREE_BYTES free) but not finish: fill it, copy out what was left, give room back
    #    (remount), rerun, copy out again. Every term is whole pages, so tmpfs rounds nothing.
    remainder = max(MIN_FREE_BYTES, per_run - 2 * PAGE)
    assert MIN_FREE_BYTES <= remainder < per_run
    size_kib = (2 * per_run + remainder) // 1024
    script = f"""
set -- 1
{GRID} > out1 2> err1; echo $? > rc1
cp -a "$R" full
mount -o remount,size=64m tmpfs "$R"
set -- 2
{GRID} > out2 2> err2; echo $? > rc2
cp -a "$R" resumed
"""
    result = run(script, f"{size_kib}k", workers)
    assert result.returncode == 0, result.stderr
    err1, rc1 = (cwd / "err1").read_text(), int((cwd / "rc1").read_text())

    # The grid stopped with one clear error: what, where, and how to resume; no traceback.
    assert rc1 == 1, err1  # a full disk is a failure of the work (exit 1), not wrong input
    assert "No space left on device" in err1 and f"cannot write results under {cwd / 'results'}" in err1
    assert "rerun to resume" in err1 and "Traceback" not in err1
    finished = _run_dirs(cwd / "full")
    assert err1.count("✓") == len(finished), err1
    if workers == 1:
        assert len(finished) == 2, err1
        # It stopped at the run that did not fit (the third), instead of failing the six after it too.
        # The grid runs seed by seed (every variant's seed 1 first), so the third is tfidf-balanced's seed 1.
        assert err1.count("No space left on device") == 1 and "run demo/tfidf-balanced/seed 1 stopped" in err1
    else:  # two runs in flight when the disk filled: the pool stops and drops the jobs not started
        assert 1 <= len(finished) <= 3 and err1.count("✗") <= 2, err1
    # Every finished run is whole and readable; nothing half-written anywhere.
    for folder in finished:
        assert {p.name for p in folder.iterdir()} == RUN_FILES, folder
        json.loads((folder / "metrics.json").read_text())
        assert all(json.loads(line) for line in (folder / "predictions.jsonl").read_text().splitlines())
    assert not [p for p in (cwd / "full").rglob("*") if p.name.endswith(".tmp") or p.name.startswith(".probe")]
    assert not (cwd / "lb1").exists()  # no leaderboard from a grid that did not finish

    # With room again, the rerun reuses every finished run and completes the rest.
    err2 = (cwd / "err2").read_text()
    assert int((cwd / "rc2").read_text()) == 0, err2
    assert err2.count("reused") == len(finished) and err2.count("done,") == 9 - len(finished)
    resumed = _run_dirs(cwd / "resumed")
    assert len(resumed) == 9 and {p.name for p in finished} <= {p.name for p in resumed}
    for folder in finished:  # the finished runs were kept as they were, not recomputed
        assert (folder / "metrics.json").read_bytes() == (cwd / "resumed" / folder.relative_to(cwd / "full")
                                                          / "metrics.json").read_bytes()
    assert (cwd / "lb2" / "demo.md").is_file()


def test_no_room_at_all_is_refused_before_any_work(small_disk) -> None:
    cwd, run = small_disk
    # Fill the disk to the last page, then start a grid.
    script = f'dd if=/dev/zero of="$R/filler" bs=4k 2>/dev/null; set -- 1\n{GRID} > out1 2> err1; echo $? > rc1'
    result = run(script, "512k")
    assert result.returncode == 0, result.stderr
    err = (cwd / "err1").read_text()
    assert int((cwd / "rc1").read_text()) == 1
    assert f"only 0 bytes free, {MIN_FREE_BYTES:,} needed to start a run" in err and "Traceback" not in err


def test_storage_exhaustion_is_recognised_through_library_wrappers(tmp_path: Path) -> None:
    """SQLite (the LLM cache) and safetensors/torch (the model cache) wrap the OS error in their own."""
    import errno
    import sqlite3

    assert storage_exhausted(OSError(errno.ENOSPC, "No space left on device"))
    assert storage_exhausted(OSError(errno.EROFS, "Read-only file system"))
    assert storage_exhausted(sqlite3.OperationalError("database or disk is full"))
    try:
        try:
            raise OSError(errno.EDQUOT, "Disk quota exceeded")
        except OSError as inner:
            raise RuntimeError("PytorchStreamWriter failed writing file data/0") from inner
    except RuntimeError as outer:
        assert storage_exhausted(outer)
    assert not storage_exhausted(ValueError("bad label 'x'"))
    assert not storage_exhausted(OSError(errno.ENOENT, "No such file or directory"))
    # ... and a store that cannot take a run says so as a StorageError (which stops a grid).
    (tmp_path / "results").write_text("a file where the results folder should be")
    with pytest.raises(StorageError, match="rerun to resume"):
        ResultsStore(tmp_path / "results").ensure_writable()


def test_a_read_only_results_disk_is_refused_before_any_work(small_disk) -> None:
    """Results of an earlier grid on a disk since remounted read-only (as after an I/O error)."""
    cwd, run = small_disk
    script = f'set -- 1\n{GRID} >/dev/null 2>&1; mount -o remount,ro tmpfs "$R"\n' \
             f'set -- 2\n"$PY" -m alexbench grid demo-baselines --results "$R" --no-progress --force > out2 2> err2; ' \
             'echo $? > rc2'
    result = run(script, "4m")
    assert result.returncode == 0, result.stderr
    err = (cwd / "err2").read_text()
    assert int((cwd / "rc2").read_text()) == 1, err
    assert f"cannot write results under {cwd / 'results'}: Read-only file system" in err and "Traceback" not in err
    assert "✓" not in err and "✗" not in err  # refused before the first run, not once per run


# -- the leaderboard folder (--out) is the user's choice: checked first, its failures explained -----

def test_a_file_valued_out_is_refused_before_any_run(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("not a folder")
    for args in (["grid", "demo-baselines", "--out", "taken"], ["run", "-t", "demo", "-v", "majority", "--out", "taken"],
                 ["leaderboard", "--out", "taken/sub"]):
        result = subprocess.run([sys.executable, "-m", "alexbench", *args, "--no-progress"] if args[0] != "leaderboard"
                                else [sys.executable, "-m", "alexbench", *args], cwd=tmp_path, capture_output=True,
                                text=True, timeout=300)
        assert result.returncode == 2, result.stderr
        assert "taken" in result.stderr and "Traceback" not in result.stderr
        assert len([line for line in result.stderr.splitlines() if line.lower().startswith("error")]) == 1
    assert not (tmp_path / "results").exists()


def test_a_read_only_out_is_refused_before_any_run(small_disk) -> None:
    tmp_path, run = small_disk
    result = run('mount -o remount,ro "$R"\n"$PY" -m alexbench grid demo-baselines --results res --no-progress '
                 '--out "$R/lb"', "64k")
    assert result.returncode == 2, result.stderr
    assert "--out " in result.stderr and "lb: cannot write there (Read-only file system)" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "res").exists()


def test_an_out_disk_that_fills_up_at_the_end_keeps_the_runs_and_says_how_to_write(small_disk) -> None:
    """The probe passes, the leaderboards (plots of tens of kB) do not fit: one line, exit 1, the
    runs are stored, and the command it names writes the leaderboards once there is room."""
    tmp_path, run = small_disk
    result = run('"$PY" -m alexbench grid demo-baselines --results res --no-progress --bootstrap 50 --out "$R/lb"',
                 "16k")
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    error = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(error) == 1 and "No space left on device; the runs are stored" in error[0]
    assert "'alexbench leaderboard --study demo-baselines --out " in error[0]
    assert len(list((tmp_path / "res" / "runs").glob("demo/*/s*"))) == 9
    again = subprocess.run([sys.executable, "-m", "alexbench", "leaderboard", "--study", "demo-baselines", "--results",
                            "res", "--bootstrap", "50", "--out", "lb"], cwd=tmp_path, capture_output=True, text=True,
                           timeout=300)
    assert again.returncode == 0 and (tmp_path / "lb" / "demo.md").is_file(), again.stderr
