"""End to end: the demo baselines study, and the scale curve of one variant.

    tox -e bench            (or: python -m pytest benchmarks -m bench)

The scale curve runs the same variant (TF-IDF + balanced logistic regression) on the SMM4H 2022
Task 2 stance stand-in resampled to 1×, 4× and 16× the train posts (test split fixed), each size
in a fresh process so peak memory (max RSS) is that run's own; it writes
leaderboards/scale_curve.json and leaderboards/scale_curve.png. Goal: 16× posts ≤ 18× time.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from alexbench.kit.tasks import write_task

pytestmark = pytest.mark.bench

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ALEXBENCH_SHARED_DATA", REPO.parent / "shared" / "data"))
SIZES = (1, 4, 16)


def test_demo_baselines_study(benchmark, tmp_path: Path, record_ratio) -> None:
    """Wall time of `alexbench grid demo-baselines` (3 baselines × 3 seeds) from an empty results store."""
    counter = iter(range(1000))

    def run() -> None:
        cwd = tmp_path / str(next(counter))
        cwd.mkdir()
        subprocess.run([sys.executable, "-m", "alexbench", "grid", "demo-baselines", "--no-progress"], cwd=cwd, check=True,
                       capture_output=True)

    benchmark.pedantic(run, rounds=3, iterations=1)
    record_ratio("end-to-end demo-baselines study (3 x 3 runs)", benchmark.stats.stats.min, unit=" s",
                 detail="alexbench grid demo-baselines from an empty store, best of 3")


CHILD = """
import json, resource, sys, time
from pathlib import Path
from alexbench.plugin.host import PluginHost
from alexbench.run.runner import Runner
from alexbench.config.variants import ComponentSpec, VariantSpec
from alexbench.run.store import ResultsStore
from alexbench.config.tasks import load_task
task = load_task(sys.argv[1])
runner = Runner(PluginHost(), ResultsStore(Path(sys.argv[2])), show_progress=False)
variant = VariantSpec("tfidf-balanced", ComponentSpec("tfidf_logreg", {"class_weight": "balanced"}))
start = time.perf_counter()
outcome = runner.run(task, variant, 1)
elapsed = time.perf_counter() - start
# VmHWM is this program's own peak: ru_maxrss would carry over the peak of the (forked) pytest
# process across exec, which is large once the transformer benchmarks have run.
status = Path("/proc/self/status")
hwm = [l for l in status.read_text().splitlines() if l.startswith("VmHWM:")] if status.exists() else []
peak_mb = int(hwm[0].split()[1]) / 1024 if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": elapsed, "max_rss_mb": peak_mb,
                  "train_posts": len(runner.dataset(task).train),
                  "official": outcome.run.scores().test.official.value}))
"""


def _write_scaled(base: Path, factor: int, rows: list[list[str]], dev: list[list[str]], test: list[list[str]]) -> Path:
    rng = random.Random(factor)
    train = [[f"{r[0]}~{k}", *r[1:]] for k in range(factor) for r in rows] if factor > 1 else rows
    rng.shuffle(train)
    folder = base / f"x{factor}"
    return write_task(folder, {"train": train, "dev": dev, "test": test}, header="id\ttext\tlabel\tclaim",
                      name="scale", labels=["FAVOR", "AGAINST", "NONE"], positive="AGAINST", id_column="id",
                      extra=["claim"], metric="grouped_macro_f1",
                      metric_params={"labels": ["FAVOR", "AGAINST"], "group_by": "claim"})


def test_scale_curve(tmp_path: Path, record_ratio) -> None:
    if not (SHARED / "smm4h22_task2_stance" / "train.tsv").is_file():
        pytest.skip(f"stand-in data not found under {SHARED}")
    from alexbench.config.tasks import load_task
    from alexbench.data.splits import load_dataset

    source = load_dataset(load_task(REPO / "plugins" / "alexbench_tasks" / "tasks" / "standins" / "smm4h22_task2_stance.toml",
                                    data_root=SHARED))

    def rows(posts):
        return [[p.id, p.text, str(p.label), p.extra["claim"]] for p in posts]

    points = []
    for factor in SIZES:
        task_file = _write_scaled(tmp_path, factor, rows(source.train), rows(source.dev), rows(source.test))
        result = subprocess.run([sys.executable, "-c", CHILD, str(task_file), str(tmp_path / f"r{factor}")],
                                capture_output=True, text=True, check=True)
        points.append({"factor": factor, **json.loads(result.stdout.strip().splitlines()[-1])})
    base = points[0]["seconds"]
    for p in points:
        p["time_ratio"] = p["seconds"] / base
    report = {"variant": "tfidf-balanced", "task": "smm4h22_task2_stance (train resampled)", "points": points,
              "goal": "16x posts <= 18x time", "meets_goal": points[-1]["time_ratio"] <= 18,
              "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "cpu_count": os.cpu_count()}
    last = points[-1]
    record_ratio(f"scale curve: time at {last['factor']}x posts", last["time_ratio"], goal="<= 18",
                 detail=f"{points[0]['seconds']:.1f} s -> {last['seconds']:.1f} s; peak RSS "
                        f"{points[0]['max_rss_mb']:.0f} -> {last['max_rss_mb']:.0f} MB")
    out = REPO / "leaderboards"
    out.mkdir(exist_ok=True)
    (out / "scale_curve.json").write_text(json.dumps(report, indent=2) + "\n")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax1 = plt.subplots(figsize=(6, 3.5))
    xs = [p["train_posts"] for p in points]
    ax1.plot(xs, [p["seconds"] for p in points], "o-", label="run time (s)")
    ax1.plot(xs, [base * p["factor"] for p in points], ":", color="grey", label="linear from 1×")
    ax1.set_xlabel("train posts")
    ax1.set_ylabel("seconds")
    ax2 = ax1.twinx()
    ax2.plot(xs, [p["max_rss_mb"] for p in points], "s--", color="tab:orange", label="peak RSS (MB)")
    ax2.set_ylabel("peak RSS (MB)")
    fig.legend(loc="upper left", bbox_to_anchor=(0.12, 0.88), fontsize=8)
    ax1.set_title("scale curve: tfidf-balanced on resampled SMM4H 2022 stance")
    fig.tight_layout()
    fig.savefig(out / "scale_curve.png", dpi=100)
    plt.close(fig)
    print(json.dumps(report, indent=2))
