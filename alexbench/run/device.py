"""The device a run computes on: checking the name asked for and choosing cpu or cuda."""

from __future__ import annotations


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
