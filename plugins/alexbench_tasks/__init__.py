"""Built-in task definitions (SMM4H 2023 Tasks 1, 2, 4, the demo task, public stand-ins), the
built-in variants, the studies, the prompt templates and the demo data.

They are package data of this plugin (``alexbench_tasks/tasks/`` and ``alexbench_tasks/studies/``),
found with :mod:`importlib.resources`, so an editable install, a wheel and an sdist all see the
same files; nothing is looked up relative to a checkout.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from alexbench import hookimpl


def _package_dir(name: str) -> Path:
    """A data folder of this package as a real path (task files are read with pathlib and their
    data files confined to their folder, so a zipped install cannot serve them)."""
    folder = files(__name__) / name
    if not isinstance(folder, Path) or not folder.is_dir():
        raise FileNotFoundError(f"built-in folder {name!r} of package {__name__} not found at {folder}: "
                                "reinstall alexbench (pip install alexbench, or pip install -e . in a checkout)")
    return folder


@hookimpl
def alexbench_task_dirs() -> list[Path]:
    return [_package_dir("tasks"), _package_dir("studies")]
