"""The performance suite's summary: every benchmark that compares alexbench with a hand-written
baseline records its ratio through the ``record_ratio`` fixture; at the end of the session the
ratios are printed as one table (goal and whether it is met) and saved to
``leaderboards/bench_ratios.json`` beside pytest-benchmark's own ``benchmarks.json``.

A ratio below its goal is reported, not failed: the goals are targets for a quiet machine, and a
benchmark only fails on a gross regression (its own, much looser assertion).
"""

from __future__ import annotations

import json
import operator
import os
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "leaderboards" / "bench_ratios.json"
_GOALS: dict[str, Callable[[float, float], bool]] = {">=": operator.ge, "<=": operator.le}


@dataclass(frozen=True)
class Ratio:
    name: str
    value: float
    unit: str  # "x" for a ratio, "s" for a plain measurement
    goal: str  # e.g. ">= 0.9"; "" when there is no goal
    detail: str

    @property
    def met(self) -> bool | None:
        if not self.goal:
            return None
        op, bound = self.goal.split()
        return _GOALS[op](self.value, float(bound))


_RATIOS = pytest.StashKey[list[Ratio]]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_RATIOS] = []


@pytest.fixture
def record_ratio(request: pytest.FixtureRequest) -> Callable[..., Ratio]:
    """``record_ratio(name, value, goal=">= 0.9", unit="x", detail="...")``."""
    def record(name: str, value: float, *, goal: str = "", unit: str = "x", detail: str = "") -> Ratio:
        if goal and (len(goal.split()) != 2 or goal.split()[0] not in _GOALS):
            raise ValueError(f"goal must look like '>= 0.9' or '<= 1.1', got {goal!r}")
        ratio = Ratio(name, float(value), unit, goal, detail)
        request.config.stash[_RATIOS].append(ratio)
        return ratio

    return record


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    ratios = config.stash.get(_RATIOS, [])
    if not ratios:
        return
    tr = terminalreporter
    tr.section("alexbench: ratios against their goals")
    width = max(len(r.name) for r in ratios)
    for r in ratios:
        value = f"{r.value:,.2f}{r.unit}" if r.value < 100 else f"{r.value:,.0f}{r.unit}"
        verdict = {True: "met", False: "NOT MET", None: ""}[r.met]
        tr.write_line(f"{r.name:<{width}}  {value:>12}  {r.goal:>8}  {verdict:<7}  {r.detail}")
    # A partial run (one file, -k) updates its own entries and keeps the others with their dates.
    now = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    kept = json.loads(OUT.read_text())["ratios"] if OUT.is_file() else []
    fresh = {r.name for r in ratios}
    report = {"cpu_count": os.cpu_count(), "machine": platform.machine(), "python": platform.python_version(),
              "ratios": [e for e in kept if e["name"] not in fresh]
              + [{**asdict(r), "met": r.met, "measured_at": now} for r in ratios]}
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    tr.write_line(f"saved to {OUT.relative_to(REPO)}")
