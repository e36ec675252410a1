"""Built-in task definitions (SMM4H 2023 Tasks 1, 2, 4, the demo task, public stand-ins), the
built-in variants and the studies: contributes the repository's ``tasks/`` and ``studies/``."""

from __future__ import annotations

from pathlib import Path

from alexbench import hookimpl

TASKS_DIR = Path(__file__).resolve().parents[2] / "tasks"
STUDIES_DIR = TASKS_DIR.parent / "studies"


@hookimpl
def alexbench_task_dirs() -> list[Path]:
    if not TASKS_DIR.is_dir():
        raise FileNotFoundError(
            f"built-in task folder {TASKS_DIR} not found: install alexbench from a checkout with 'pip install -e .'"
        )
    return [TASKS_DIR, STUDIES_DIR] if STUDIES_DIR.is_dir() else [TASKS_DIR]
