"""Self-tests and ``alexbench doctor`` (issue 26): each native part runs once in a child process;
a crash, an error or a timeout there is a failed self-test naming the part, what happened and the
fix, never a crash of the caller. ``alexbench doctor`` passes on this install (exit 0) and names a
damaged model with its fix (exit 1)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from alexbench.selftest import SelfTest, run_self_test

REPO = Path(__file__).resolve().parents[1]
PARTS = {"llama.cpp (the local LLM judge)", "torch + all-MiniLM-L6-v2 (the transformer classifier)",
         "WordNet through NLTK (the augmenters)", "scikit-learn (the TF-IDF baselines)"}

TARGETS = '''
import ctypes, time
from alexbench.selftest import SelfTestFailed

def works():
    return {"answer": 42}

def segfaults():
    ctypes.string_at(0)  # reads address 0: SIGSEGV

def raises():
    raise KeyError("no such table")

def knows_its_fix():
    raise SelfTestFailed("the frobnicator is cold", fix="warm it up")

def hangs():
    time.sleep(60)

def reports_nothing():
    import os
    os._exit(0)
'''


@pytest.fixture
def targets(tmp_path, monkeypatch) -> str:
    (tmp_path / "selftest_targets.py").write_text(TARGETS)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")])))
    return "selftest_targets"


def test_a_self_test_reports_its_facts(targets) -> None:
    result = run_self_test(SelfTest("the answer", f"{targets}:works", fix="none needed"), "tests")
    assert result.ok and result.facts == {"answer": "42"} and result.line().startswith("ok      the answer (")


def test_a_crash_is_a_failed_self_test_not_a_crash_of_the_caller(targets) -> None:
    result = run_self_test(SelfTest("a native tagger", f"{targets}:segfaults", fix="reinstall the tagger"), "tests")
    assert not result.ok and result.signal == "SIGSEGV"
    assert "died with SIGSEGV (Segmentation fault)" in result.problem
    assert "Fatal Python error" in result.problem and "segfaults" in result.problem  # faulthandler's stack
    assert result.line().startswith("FAILED  a native tagger: crashed: died with SIGSEGV")
    assert result.line().endswith("— fix: reinstall the tagger")


def test_errors_timeouts_and_silence_are_failed_self_tests(targets) -> None:
    error = run_self_test(SelfTest("tables", f"{targets}:raises", fix="f"), "tests")
    assert not error.ok and error.problem == "KeyError: 'no such table'" and error.signal is None
    own = run_self_test(SelfTest("frobnicator", f"{targets}:knows_its_fix", fix="the default fix"), "tests")
    assert own.problem == "the frobnicator is cold" and own.fix == "warm it up"
    slow = run_self_test(SelfTest("sleeper", f"{targets}:hangs", fix="f", timeout_s=3), "tests")
    assert not slow.ok and slow.problem == "did not finish in 3 s"
    silent = run_self_test(SelfTest("mute", f"{targets}:reports_nothing", fix="f"), "tests")
    assert not silent.ok and silent.problem.startswith("exited with status 0 without a report")
    missing = run_self_test(SelfTest("ghost", "no_such_module_here:check", fix="f"), "tests")
    assert not missing.ok and "No module named 'no_such_module_here'" in missing.problem


def doctor(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "alexbench", "doctor", *args], capture_output=True, text=True,
                          timeout=900, env=env, cwd=REPO)


@pytest.mark.slow
def test_doctor_on_this_install_passes_every_native_part() -> None:
    proc = doctor("--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert report["ok"] and {t["part"] for t in report["self_tests"]} == PARTS
    facts = {t["part"]: t["facts"] for t in report["self_tests"]}
    llama = facts["llama.cpp (the local LLM judge)"]
    assert "-DGGML_NATIVE=OFF" in llama["build"] and "by scripts/install.sh" in llama["build"]
    assert "CPU :" in llama["system info"] and llama["model"].endswith(".gguf") and "P(false)" in llama["prompt evaluated"]
    torch = facts["torch + all-MiniLM-L6-v2 (the transformer classifier)"]
    assert torch["device a run uses (--device auto)"] in ("cpu", "cuda") and "384-dim" in torch["forward pass"]
    assert torch["cpu capability"]
    assert "synset" in facts["WordNet through NLTK (the augmenters)"]["look-up"]
    machine = report["machine"]
    assert machine["llama-cpp-python"] == "0.3.36" and machine["plugins left out"] == "none"
    assert machine["results"].startswith(str(REPO / "results"))


@pytest.mark.slow
def test_doctor_names_a_damaged_model_and_its_fix(tmp_path) -> None:
    """The bundled GGUF cut short in its cache folder (as a full disk or a killed copy leaves it;
    as root, chmod cannot make a file unreadable, so the file is damaged instead): the llama.cpp
    part fails with the file and the fix, the other parts still pass, exit 1."""
    sys.path.insert(0, str(REPO / "plugins"))
    from alexbench_llm.local_model import bundled_gguf

    good = bundled_gguf().path
    home = tmp_path / "home"
    damaged = home / ".cache" / good.parent.name / good.name
    damaged.parent.mkdir(parents=True)
    with good.open("rb") as src:
        damaged.write_bytes(src.read(1 << 20))  # the first MiB only
    proc = doctor("--brief", env={**os.environ, "HOME": str(home)})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    (failed,) = [line for line in lines if line.startswith("FAILED")]
    assert failed.startswith("FAILED  llama.cpp (the local LLM judge): ") and str(damaged) in failed
    assert "is damaged" in failed and "— fix: delete the file named" in failed
    assert sum(line.startswith("ok      ") for line in lines) == len(PARTS) - 1
    assert "1 of 4 native parts failed: llama.cpp (the local LLM judge)" in proc.stderr
    damaged.unlink()  # the fix works: the model is assembled again, offline
    assert doctor("--brief", env={**os.environ, "HOME": str(home)}).returncode == 0


def test_doctor_without_a_self_test_plugin_says_so_in_its_machine_facts(tmp_path) -> None:
    """The report's host facts are cheap and need no native part: with every plugin disabled the
    doctor still reports the machine, has nothing to test, and passes."""
    env = {**os.environ, "ALEXBENCH_DISABLE_PLUGINS": "augment,baselines,llm,transformers,tasks"}
    proc = doctor(env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("alexbench ") and "all 0 native parts work" in proc.stdout
    assert "llama-cpp-python" in proc.stdout and "plugins left out" in proc.stdout
