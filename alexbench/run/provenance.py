"""What is recorded with every result: software versions, code revision, machine, device."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import random
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
        "argv": sys.argv,
    }


#: Seeds are whole numbers NumPy accepts: 0 ≤ seed ≤ 2**32 - 1.
SEED_MAX = 2**32 - 1


def seed_problem(value: object) -> str | None:
    """Why ``value`` cannot be a seed, or None when it can."""
    if isinstance(value, bool) or not isinstance(value, int):
        return f"expected a whole number, got {value!r}"
    if not 0 <= value <= SEED_MAX:
        return f"seeds are whole numbers from 0 to {SEED_MAX}, got {value}"
    return None


def seed_everything(seed: int) -> None:
    """Seed Python's and NumPy's global generators, and torch's when it is already imported.

    Components should still use their own generators derived from the seed; this guards
    libraries that reach for the global ones (nlpaug, TextAttack, scikit-learn defaults).
    """
    random.seed(seed)
    try:
        import numpy as np

        np.random.seed(seed % 2**32)
    except ImportError:  # pragma: no cover - numpy is a dependency
        pass
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)
        if torch.cuda.is_available():
            torch.cuda.manual_seed_all(seed)


def device_problem(prefer: str) -> str | None:
    """Why ``prefer`` is not a device name (auto, cpu, cuda or cuda:N), or None when it is."""
    if prefer in ("auto", "cpu", "cuda") or (prefer.startswith("cuda:") and prefer[5:].isdigit()):
        return None
    return f"device must be auto, cpu, cuda or cuda:N, got {prefer!r}"


def select_device(prefer: str = "auto") -> str:
    """``cuda`` when asked for or when ``auto`` and a GPU is visible, else ``cpu``."""
    problem = device_problem(prefer)
    if problem:
        raise ValueError(problem)
    if prefer == "cpu":
        return "cpu"
    try:
        import torch
    except ImportError:
        if prefer != "auto":
            raise ValueError(f"device {prefer!r} requested but torch is not installed") from None
        return "cpu"
    if torch.cuda.is_available():
        return "cuda" if prefer == "auto" else prefer
    if prefer != "auto":
        raise ValueError(f"device {prefer!r} requested but CUDA is not available")
    return "cpu"
