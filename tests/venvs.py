"""Throw-away virtual environments for installing plugin packages the way users do.

``--system-site-packages`` sees this machine's alexbench (and its heavy dependencies) without
copying them; ``--without-pip`` skips bootstrapping pip (the system pip installs into the venv
when run by the venv's python); build isolation is off and dependencies are not resolved, so
nothing is downloaded. A ``.pth`` file puts the alexbench these tests import (this checkout,
which may not be the one installed system-wide) ahead of the installed one; a venv that tests
an installed alexbench itself (the wheel test) is made with ``checkout_first=False``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import alexbench_baselines

import alexbench

QUIET_PIP = {"PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1", "PIP_NO_INDEX": "1"}


class Venv:
    def __init__(self, root: Path, *, checkout_first: bool = True) -> None:
        self.root = root
        subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(root)],
                       check=True)
        self.python = str(root / "bin" / "python")
        assert Path(self.python).exists(), f"no interpreter in {root}"
        if not checkout_first:
            return
        under_test = dict.fromkeys(str(Path(module.__file__).resolve().parents[1])
                                   for module in (alexbench, alexbench_baselines))
        (site,) = root.glob("lib/python*/site-packages")
        (site / "alexbench_under_test.pth").write_text("\n".join(under_test) + "\n")

    def install(self, *packages: Path) -> None:
        result = self.run("-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                          *(str(p) for p in packages))
        assert result.returncode == 0, result.stderr

    def run(self, *args: str, cwd: Path | None = None, timeout: float = 300,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, **QUIET_PIP, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", **(env or {})}
        env.pop("PYTHONPATH", None)
        return subprocess.run([self.python, *args], capture_output=True, text=True, cwd=cwd, env=env,
                              timeout=timeout, check=False)

    def alexbench(self, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return self.run("-m", "alexbench", *args, cwd=cwd)
