"""alexbench as a normal package: a wheel, installed into a fresh virtual environment, works from
an unrelated folder with the source tree gone, and behaves exactly as the editable install.

The venv sees the system's packages (torch, scikit-learn, … and this checkout's editable
alexbench); the wheel's copy comes first on sys.path, which the test checks before anything else.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO
from .venvs import QUIET_PIP, Venv

TOP_LEVEL_ONLY = {"results", "data", "build", "dist", "leaderboards", ".git", ".tox", ".venv", ".benchmarks"}
ANYWHERE = shutil.ignore_patterns("__pycache__", "*.egg-info", ".pytest_cache", ".ruff_cache")


def _not_shipped(folder: str, names: list[str]) -> set[str]:
    """A checkout's by-products (results, build folders, caches), not its sources."""
    skipped = set(ANYWHERE(folder, names))
    return skipped | (TOP_LEVEL_ONLY & set(names) if Path(folder) == REPO else set())


@pytest.fixture(scope="module")
def wheel_venv(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"
    shutil.copytree(REPO, source, ignore=_not_shipped)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w",
                            str(root / "dist"), str(source)], capture_output=True, text=True, timeout=600,
                           env={**os.environ, **QUIET_PIP})
    assert built.returncode == 0, built.stderr
    wheels = list((root / "dist").glob("alexbench-*.whl"))
    assert len(wheels) == 1, wheels
    shutil.rmtree(source)  # nothing can come from a source tree any more
    venv = Venv(root / "venv", checkout_first=False)
    venv.install(wheels[0])
    return venv


def test_the_wheel_carries_the_builtin_tasks_and_is_what_runs(wheel_venv: Venv, tmp_path: Path) -> None:
    code = ("import json, alexbench, alexbench_tasks, alexbench_llm\n"
            "from alexbench.plugin.host import PluginHost\n"
            "print(json.dumps({'modules': [alexbench.__file__, alexbench_tasks.__file__, alexbench_llm.__file__],"
            " 'task_dirs': [str(p) for p in PluginHost().task_dirs()]}))")
    result = wheel_venv.run("-c", code, cwd=tmp_path)  # not the checkout: python -c imports from its cwd first
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    venv = str(wheel_venv.root)
    assert all(path.startswith(venv) for path in found["modules"] + found["task_dirs"]), found
    assert [Path(p).name for p in found["task_dirs"]] == ["tasks", "studies"]


def test_tasks_and_a_study_run_from_an_unrelated_folder_as_in_the_editable_install(wheel_venv: Venv,
                                                                                   tmp_path: Path) -> None:
    outputs = {}
    for name, python in (("wheel", wheel_venv.python), ("editable", sys.executable)):
        work = tmp_path / name / "somewhere"
        work.mkdir(parents=True)
        tasks = subprocess.run([python, "-m", "alexbench", "tasks"], cwd=work, capture_output=True, text=True,
                               timeout=300)
        assert tasks.returncode == 0, tasks.stderr
        grid = subprocess.run([python, "-m", "alexbench", "grid", "demo-baselines", "--no-progress", "--bootstrap",
                               "100"], cwd=work, capture_output=True, text=True, timeout=600)
        assert grid.returncode == 0, grid.stderr
        board = json.loads((work / "leaderboards" / "demo-baselines" / "demo.json").read_text())
        page = (work / "leaderboards" / "demo-baselines" / "index.html").read_text(encoding="utf-8")
        assert '<table class="lb sortable grouped">' in page  # the HTML templates are package data
        outputs[name] = tasks.stdout, board
    (wheel_tasks, wheel_board), (editable_tasks, editable_board) = outputs["wheel"], outputs["editable"]
    assert "demo" in wheel_tasks and "smm4h23_task1" in wheel_tasks and "ready" in wheel_tasks
    assert wheel_tasks.replace(str(tmp_path / "wheel"), "") == editable_tasks.replace(str(tmp_path / "editable"), "")
    assert wheel_board["baseline"] == "majority"

    def essence(board: dict) -> list:
        return [(r["variant"], r["run_ids"], r["test_official"]["values"], r["comparison"]) for r in board["rows"]]

    assert essence(wheel_board) == essence(editable_board)  # same task files and data: the same run ids and scores
