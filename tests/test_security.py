"""Security properties that must hold for every change: pins, safe loaders, no unpickling."""

from __future__ import annotations

import importlib.metadata
import re

from .conftest import REPO

SOURCES = [p for folder in ("alexbench", "plugins") for p in (REPO / folder).rglob("*.py")]


def test_litellm_is_pinned_exactly_everywhere() -> None:
    # 1.82.7 and 1.82.8 were compromised releases: the pin must never float.
    pyproject = (REPO / "pyproject.toml").read_text()
    assert re.findall(r'"litellm[^"]*"', pyproject) == ['"litellm==1.81.13"']
    constraints = (REPO / "requirements" / "constraints.txt").read_text()
    assert re.findall(r"^litellm\S*", constraints, flags=re.M) == ["litellm==1.81.13"]
    assert importlib.metadata.version("litellm") == "1.81.13"


def test_config_files_are_parsed_with_safe_loaders_only() -> None:
    offenders = []
    for path in SOURCES:
        text = path.read_text()
        if re.search(r"\byaml\.load\(|(?<![.\w])eval\(|(?<![.\w])exec\(|\bmarshal\.loads?\(", text):
            offenders.append(str(path))
    assert not offenders, f"unsafe loaders in {offenders}"


def test_no_unpickling_of_files() -> None:
    offenders = []
    for path in SOURCES:
        for line in path.read_text().splitlines():
            if re.search(r"\bpickle\.loads?\(|\bjoblib\.load\(|\bdill\.loads?\(", line):
                offenders.append(f"{path}: {line.strip()}")
            if "torch.load(" in line and "weights_only=True" not in line:
                offenders.append(f"{path}: {line.strip()}")
    assert not offenders, "\n".join(offenders)
