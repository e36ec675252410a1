"""What a sweep's task transform costs (issue 27), at real size, side by side in one run:

* ``minority_share`` and ``train_size`` on CONSTRAINT 2021's 6,420 training posts, and on SMM4H
  2022 premise (stratified by claim: the metric's ``group_by``), in milliseconds;
* each against reading the task's splits from disk (``load_dataset``), which every run does
  anyway: the transform must be a small fraction of it (goal ≤ 0.1×).

    python -m pytest benchmarks/test_bench_transforms.py -m bench

The data comes from ``../shared/data`` (or ``ALEXBENCH_DATA_ROOT``); a task whose data is absent is
skipped.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from alexbench.config.sweeps import TaskTransform
from alexbench.config.tasks import load_task
from alexbench.data.splits import load_dataset
from alexbench.data.transforms import transformed

pytestmark = pytest.mark.bench
REPO = Path(__file__).resolve().parents[1]
STANDINS = REPO / "plugins" / "alexbench_tasks" / "tasks" / "standins"
DATA_ROOT = Path(os.environ.get("ALEXBENCH_DATA_ROOT", REPO.parent / "shared" / "data"))
TASKS = {"constraint2021": "constraint2021_covid_fakenews", "smm4h22_task2_premise": "smm4h22_task2_stance"}
POINTS = [TaskTransform("minority_share", 0.05), TaskTransform("train_size", 1000)]


@pytest.mark.parametrize("point", POINTS, ids=[p.label for p in POINTS])
@pytest.mark.parametrize("name", sorted(TASKS))
def test_transform_against_reading_the_task(benchmark, record_ratio, name: str, point: TaskTransform) -> None:
    if not (DATA_ROOT / TASKS[name]).is_dir():
        pytest.skip(f"{name}'s data is not under {DATA_ROOT}")
    task = load_task(STANDINS / f"{name}.toml", data_root=DATA_ROOT)
    reads = []
    for _ in range(3):
        start = time.perf_counter()
        data = load_dataset(task)
        reads.append(time.perf_counter() - start)
    read_s = min(reads)

    seed = iter(range(1, 1_000_000))  # a new seed each round: no round reuses another's sample
    out = benchmark.pedantic(lambda: transformed(data, point, next(seed)), rounds=20, iterations=1)
    transform_s = benchmark.stats.stats.min
    before, after = out.transform["train_before"], out.transform["train_after"]
    detail = (f"{transform_s * 1000:.1f} ms vs {read_s * 1000:.0f} ms to read the splits; train "
              f"{sum(before.values()):,} -> {sum(after.values()):,} posts {after}")
    benchmark.extra_info.update(transform_ms=transform_s * 1000, read_ms=read_s * 1000)
    record_ratio(f"task transform {point.label} on {name}: time vs reading the task", transform_s / read_s,
                 goal="<= 0.1", detail=detail)
