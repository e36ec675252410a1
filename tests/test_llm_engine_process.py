"""The local judge's engine in a child process (issue 26): the real GGUF answers exactly as the
engine does in this process; a child killed by a signal is a recorded failure of its run, never
of the grid, and a rerun completes it with the numbers of an undisturbed grid; a model that cannot
load is an error naming the file; the child never outlives its parent."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from alexbench.errors import NativeCrash

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "plugins"))
from alexbench_llm.engine import LocalEngine  # noqa: E402
from alexbench_llm.engine_process import EngineError, EngineProcess, shared_engine  # noqa: E402
from alexbench_llm.local_model import bundled_gguf  # noqa: E402
from alexbench_llm.verdict import VERDICT_OPEN  # noqa: E402

pytestmark = pytest.mark.slow
PREFIX = "You check whether the author of a tweet reports their own COVID-19 diagnosis.\n\nTweet: "
POSTS = ["I tested positive this morning", "cases are rising in the city", "my PCR came back positive, isolating"]
CHILD = "alexbench_llm.engine_process"


@pytest.fixture(scope="module")
def gguf() -> str:
    return str(bundled_gguf().path)


def test_the_child_answers_exactly_as_the_engine_in_this_process(gguf) -> None:
    here, child = LocalEngine(gguf), EngineProcess(gguf)
    try:
        for post in POSTS:
            prompt = PREFIX + post + "\nAnswer:"
            a = here.verdict_score(prompt, prefix=PREFIX, opening=VERDICT_OPEN)
            b = child.verdict_score(prompt, prefix=PREFIX, opening=VERDICT_OPEN)
            assert (a.p_true, a.p_false, a.prompt_tokens, a.reused_tokens) == (b.p_true, b.p_false, b.prompt_tokens,
                                                                               b.reused_tokens)
            g, h = (e.complete(prompt, prefix=PREFIX, max_tokens=12) for e in (here, child))
            assert (g.text, g.completion_tokens, g.finish_reason) == (h.text, h.completion_tokens, h.finish_reason)
        # What makes it fast stays in the child: the prefix state computed once, then restored.
        assert child.stats["prefix_states_computed"] == 1 and child.stats["prefix_restores"] == 2 * len(POSTS) - 1
        assert child.render([{"content": "a"}, {"content": "b"}]) == "a\n\nb"
    finally:
        child.close()
    assert child.proc.poll() is not None  # closed: the child has exited


def test_a_child_killed_by_a_signal_is_a_native_crash_and_the_next_engine_is_fresh(gguf) -> None:
    engine = shared_engine(gguf)
    prompt = PREFIX + POSTS[0]
    before = engine.verdict_score(prompt, prefix=PREFIX)
    os.kill(engine.pid, signal.SIGSEGV)
    with pytest.raises(NativeCrash) as info:
        engine.verdict_score(prompt, prefix=PREFIX)
    crash = info.value
    assert crash.signal == "SIGSEGV" and "died with SIGSEGV" in str(crash) and "alexbench doctor" in str(crash)
    assert f"child process {engine.pid}" in str(crash) and not engine.alive
    with pytest.raises(NativeCrash):  # a dead engine stays dead: it never answers from a stale state
        engine.verdict_score(prompt, prefix=PREFIX)
    fresh = shared_engine(gguf)
    assert fresh is not engine and fresh.alive and fresh.pid != engine.pid
    after = fresh.verdict_score(prompt, prefix=PREFIX)
    assert (after.p_true, after.p_false) == (before.p_true, before.p_false)


def test_a_model_that_cannot_load_is_an_error_naming_it_not_a_crash(tmp_path) -> None:
    bad = tmp_path / "not-a-model.gguf"
    bad.write_bytes(b"GGUF but not really" * 10)
    with pytest.raises(EngineError) as info:
        EngineProcess(str(bad))
    assert str(bad) in str(info.value) and "could not load" in str(info.value)


def test_the_child_never_outlives_its_parent(gguf, tmp_path) -> None:
    """A parent killed with SIGKILL (no cleanup at all) leaves no engine behind: the child reads
    the end of its socket and exits."""
    script = tmp_path / "parent.py"
    script.write_text(textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(REPO / "plugins")!r})
        from alexbench_llm.engine_process import EngineProcess
        engine = EngineProcess({gguf!r})
        print(engine.pid, flush=True)
        time.sleep(600)
    """))
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        child = psutil.Process(int(parent.stdout.readline()))
        assert child.is_running() and CHILD in " ".join(child.cmdline())
        parent.kill()
        parent.wait(timeout=30)
        child.wait(timeout=30)  # psutil.TimeoutExpired if it lingers
    finally:
        parent.kill()


STUDY = """
[study]
name = "crash"
tasks = ["demo"]
variants = ["judged"]
seeds = [1, 2]

[variants.judged]
extends = "tfidf-balanced"
explainer = { name = "llm", params = { verdict = "score", threshold = 0.5 } }
"""


def _grid(tmp_path: Path, results: Path, *, kill_engine: bool = False) -> tuple[subprocess.CompletedProcess[str], int]:
    """``alexbench grid`` on a two-run study; with ``kill_engine`` the judge's child process is
    killed with SIGSEGV as soon as it appears (in the first run). Returns the process and how many
    engine children were killed."""
    study = tmp_path / "crash.toml"
    study.write_text(STUDY)
    cmd = [sys.executable, "-m", "alexbench", "--results", str(results), "grid", str(study), "--no-progress",
           "--bootstrap", "20", "--out", str(results.parent / f"{results.name}-boards")]
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed = 0
    if kill_engine:
        grid = psutil.Process(proc.pid)
        deadline = time.monotonic() + 300
        while not killed and proc.poll() is None and time.monotonic() < deadline:
            for child in grid.children(recursive=True):
                try:
                    if CHILD in " ".join(child.cmdline()):
                        child.send_signal(signal.SIGSEGV)
                        killed += 1
                except psutil.NoSuchProcess:
                    continue
            time.sleep(0.05)
    out, err = proc.communicate(timeout=900)
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err), killed


def _runs(results: Path) -> dict[int, tuple[dict, list]]:
    """seed -> (test metrics, test predictions) of the stored runs."""
    out = {}
    for run in sorted((results / "runs" / "demo" / "judged").iterdir()):
        metrics = json.loads((run / "metrics.json").read_text())
        preds = [json.loads(line) for line in (run / "predictions.jsonl").read_text().splitlines()]
        out[int(run.name[1:].split("-")[0])] = (metrics["test"], [p for p in preds if p["split"] == "test"])
    return out


def test_a_judge_crash_fails_its_run_and_the_grid_goes_on(tmp_path) -> None:
    crashed = tmp_path / "crashed"
    first, killed = _grid(tmp_path, crashed, kill_engine=True)
    assert killed == 1
    assert first.returncode == 1, first.stderr
    assert "1 of 2 runs failed" in first.stderr and "died with SIGSEGV" in first.stderr
    assert "alexbench doctor" in first.stderr
    assert "judged" in first.stdout  # the grid went on to its leaderboard
    (record,) = [json.loads(p.read_text()) for p in (crashed / "failed").glob("*.json")]
    crash = record["crash"]
    assert crash["signal"] == "SIGSEGV" and crash["component"] == "explainer 'llm'"
    assert crash["stage"] in ("calibrate", "explain") and "alexbench doctor" in crash["hint"]
    assert len(_runs(crashed)) == 1  # the other run is stored

    again, _ = _grid(tmp_path, crashed)  # a rerun retries the failed run and reuses the stored one
    assert again.returncode == 0, again.stderr
    assert "reused" in again.stderr and not list((crashed / "failed").glob("*.json"))
    calm, _ = _grid(tmp_path, tmp_path / "undisturbed")
    assert calm.returncode == 0, calm.stderr
    assert _runs(crashed) == _runs(tmp_path / "undisturbed")
