"""The leaderboard's paired bootstrap at a real test split's size, counted against called.

    python -m pytest benchmarks/test_bench_significance.py -m bench -s

A board compares every variant with the baseline by a paired bootstrap: 1,000 resamples of the
test posts, the official metric of each seed's predictions on each. Called on the resampled
posts (any metric), that is a pure-Python pass over every post per seed per resample: on
SMM4H 2022 Task 2 stance (1,487 labelled test posts, three claims, three seeds a side) ~5 CPU s per
variant (the public study's eight: 44 CPU s; 16 min wall beside a training job). Counted (``Metric.from_tables``), one ``bincount`` per seed gives the
confusion tables and the metric is arithmetic on a 3×3 matrix per claim.

- Side by side in one run, the same draws: called vs counted on the grouped macro-F1 at the
  stance split's size, and the results equal float for float. Goal >= 10×: a board of ten
  variants at real size then bootstraps in a few seconds, not a minute.
- Against the limit, at 1k, 4k and 16k posts: the draws and bincounts alone (what any exact
  bootstrap of a counting metric must do) against the counted bootstrap, and seconds per 1,000
  resamples. What counted adds to the limit is the metric's own Python arithmetic, per seed and
  claim on 3×3 matrices: constant in the posts, so the ratio falls as the split grows. No goal:
  removing it would take a batched (NumPy) metric contract, for ~0.1 s a comparison.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from alexbench.scoring.metrics import BUILTIN_METRICS, ScoreInput
from alexbench.scoring.significance import Counted, compare

pytestmark = pytest.mark.bench

LABELS = ("FAVOR", "AGAINST", "NONE")
PARAMS = {"group_by": "claim", "labels": ["FAVOR", "AGAINST"]}
GROUPED = next(m for m in BUILTIN_METRICS if m.name == "grouped_macro_f1")
N_BOOT = 1000  # as a leaderboard draws


def _split(n: int, seed: int = 0) -> tuple[list[str], list[list[str]], list[list[str]], list[dict[str, str]]]:
    """A stance-like split: three claims, gold in the real split's proportions, predictions of a
    ~70%-right and a ~65%-right system over three seeds each."""
    rng = np.random.default_rng(seed)
    gold = rng.choice(LABELS, size=n, p=[0.3, 0.35, 0.35]).tolist()
    claims = [{"claim": c} for c in rng.choice(["masks", "stay_home", "school"], size=n).tolist()]

    def system(right: float) -> list[list[str]]:
        return [[g if rng.random() < right else str(rng.choice(LABELS)) for g in gold] for _ in range(3)]

    return gold, system(0.7), system(0.65), claims


def _called(gold, pred, extra) -> float:
    value = GROUPED(ScoreInput(gold, pred, LABELS, None, extra, PARAMS))
    return float(value if value is not None else 0.0)


COUNTED = Counted(GROUPED.from_tables, LABELS, None, PARAMS)


def _timed(fn) -> float:  # the wall clock, as pytest-benchmark's own timer
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def test_counted_vs_called_at_the_stance_split(benchmark, record_ratio) -> None:
    gold, a, b, claims = _split(1487)
    called = compare(gold, a, b, _called, claims, n_boot=N_BOOT)
    counted = benchmark.pedantic(lambda: compare(gold, a, b, _called, claims, n_boot=N_BOOT, counted=COUNTED),
                                 rounds=3, iterations=1)
    assert counted == called
    slow = min(_timed(lambda: compare(gold, a, b, _called, claims, n_boot=N_BOOT)) for _ in range(2))
    fast = benchmark.stats.stats.min
    ratio = slow / fast
    record_ratio("bootstrap: counted vs called (stance size)", ratio, goal=">= 10",
                 detail=f"1,487 posts, 3 claims, 3+3 seeds, {N_BOOT} resamples: {slow:.2f} s vs {fast:.3f} s")
    assert ratio > 5, "the counted bootstrap lost most of its advantage"


def _limit(gold: list[str], a: list[list[str]], b: list[list[str]], claims: list[dict[str, str]]):
    pos = {label: i for i, label in enumerate(LABELS)}
    group = np.array([{"masks": 0, "stay_home": 1, "school": 2}[c["claim"]] for c in claims])
    cells = [(group * 3 + np.array([pos[g] for g in gold])) * 3 + np.array([pos[x] for x in p]) for p in (*a, *b)]

    def limit() -> None:  # the draws and one bincount per seed: nothing less gives the counts
        rng = np.random.default_rng(0)
        for _ in range(N_BOOT):
            idx = rng.integers(0, len(gold), len(gold))
            for cell in cells:
                np.bincount(cell[idx], minlength=27)

    return limit


@pytest.mark.parametrize("n", [1000, 4000, 16000])
def test_counted_vs_the_limit(benchmark, record_ratio, n: int) -> None:
    gold, a, b, claims = _split(n)
    benchmark.pedantic(lambda: compare(gold, a, b, _called, claims, n_boot=N_BOOT, counted=COUNTED),
                       rounds=3, iterations=1)
    counted = benchmark.stats.stats.min
    limit = _limit(gold, a, b, claims)
    floor = min(_timed(limit) for _ in range(3))
    ratio = counted / floor
    record_ratio(f"bootstrap at {n:,} posts: counted vs the limit (draws + bincounts)", ratio,
                 detail=f"{counted * 1000 / N_BOOT:.2f} s vs {floor * 1000 / N_BOOT:.2f} s per 1,000 resamples")
    assert ratio < 30, "the counted bootstrap does far more than count"
