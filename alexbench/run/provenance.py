"""What is recorded with every result: software versions, code revision, machine."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

from alexbench import __version__

#: Distributions whose versions matter to a score; those not installed are recorded as None.
TRACKED = (
    "alexbench", "numpy", "scipy", "scikit-learn", "torch", "transformers", "tokenizers", "textattack",
    "nlpaug", "nltk", "litellm", "llama_cpp_python", "pluggy",
)


def package_version(name: str) -> str | None:
    """The installed version of distribution ``name``, or None when it is not installed."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def package_versions(extra: tuple[str, ...] = ()) -> dict[str, str | None]:
    return {name: package_version(name) for name in (*TRACKED, *extra)}


def git_revision(path: Path | None = None) -> dict[str, Any] | None:
    """HEAD sha and dirty flag of the checkout holding alexbench, or None outside git."""
    where = path or Path(__file__).resolve().parent
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, timeout=5)
        if sha.returncode != 0:
            return None
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=where,
                                capture_output=True, text=True, timeout=5)
        return {"sha": sha.stdout.strip(), "dirty": bool(status.stdout.strip())}
    except (OSError, subprocess.SubprocessError):
        return None


def environment() -> dict[str, Any]:
    return {
        "alexbench": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "packages": package_versions(),
        "git": git_revision(),
        "argv": list(sys.argv),
    }
