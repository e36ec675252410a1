"""Leaderboard plots from real runs: PNG files that depend on the data and only on the data."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from matplotlib.colors import to_rgb
from PIL import Image

from alexbench.report.leaderboard import Leaderboard
from alexbench.report.plots import BASELINE_COLOUR, PALETTE, official_png, per_class_f1_png, write_plots

from .leaderboard_runs import make_boards


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Leaderboard:
    return make_boards(tmp_path_factory.mktemp("lb"), tasks=("demo",))[0]


def _pixels(path_or_bytes) -> np.ndarray:
    import io

    src = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else path_or_bytes
    return np.asarray(Image.open(src).convert("RGB"))


def _count(img: np.ndarray, colour: str) -> int:
    rgb = np.array([round(c * 255) for c in to_rgb(colour)])
    return int((np.abs(img.astype(int) - rgb).sum(axis=2) <= 6).sum())


def test_write_plots_writes_two_deterministic_pngs(demo, tmp_path) -> None:
    paths = write_plots(demo, tmp_path / "out")
    assert [p.name for p in paths] == ["demo_official.png", "demo_per_class_f1.png"]
    first = [p.read_bytes() for p in paths]
    assert all(b[:8] == b"\x89PNG\r\n\x1a\n" for b in first)
    assert write_plots(demo, tmp_path / "out") == paths and [p.read_bytes() for p in paths] == first
    info = Image.open(paths[0]).info
    assert "Software" not in info and not any("date" in k.lower() or "time" in k.lower() for k in info)


def test_plots_follow_the_data(demo) -> None:
    official = _pixels(official_png(demo))
    # One bar per variant: the figure grows with the number of variants.
    fewer = dataclasses.replace(demo, rows=demo.rows[:3])
    assert _pixels(official_png(fewer)).shape[0] < official.shape[0]
    # The baseline's bar is grey, the others blue; with no positive F1 the majority baseline has no
    # visible bar in the official plot, but it does in class 0's group of the per-class plot.
    per_class = _pixels(per_class_f1_png(demo))
    assert _count(official, PALETTE[0]) > 1000 and _count(official, BASELINE_COLOUR) == 0
    assert _count(per_class, BASELINE_COLOUR) > 500
    no_baseline = dataclasses.replace(demo, baseline=None)
    assert _count(_pixels(per_class_f1_png(no_baseline)), BASELINE_COLOUR) == 0
    # Longer bars for better scores: blue pixels grow with the official metric.
    best = demo.rows[0]
    worst = min((r for r in demo.rows if r.test_official.mean > 0), key=lambda r: r.test_official.mean)
    assert best.test_official.mean > worst.test_official.mean
    only_best = _count(_pixels(official_png(dataclasses.replace(demo, rows=[best]))), PALETTE[0])
    only_worst = _count(_pixels(official_png(dataclasses.replace(demo, rows=[worst]))), PALETTE[0])
    assert only_best > only_worst > 0


def test_dollar_signs_in_names_are_text_not_mathtext(demo) -> None:
    renamed = [dataclasses.replace(r, variant=f"cost $5 {r.variant} $x^2$") for r in demo.rows]
    board = dataclasses.replace(demo, rows=renamed, baseline=renamed[-1].variant, task="t$")
    assert official_png(board)[:4] == b"\x89PNG" and per_class_f1_png(board)[:4] == b"\x89PNG"
