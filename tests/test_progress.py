"""Progress of long stages: bars on a terminal, and lines a log can show everywhere else."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console

from alexbench.progress import ProgressDisplay, clock


def slow(n: int, pause: float):
    for i in range(n):
        time.sleep(pause)
        yield i


def test_off_a_terminal_a_line_every_interval_with_rate_and_time_left() -> None:
    buf = io.StringIO()
    display = ProgressDisplay(Console(file=buf, width=200), interval=0.05)
    display.prefix = "demo/alex-full/s1: "
    with display.active():
        assert list(display.track(slow(8, 0.02), "augment (alex_textattack)", total=8)) == list(range(8))
    lines = buf.getvalue().splitlines()
    assert 2 <= len(lines) <= 5, lines  # about every other item, not every item
    first = lines[0]
    assert first.startswith("demo/alex-full/s1: augment (alex_textattack): ") and "/8 (" in first
    assert "/s · " in first and "elapsed" in first and "left" in first
    assert lines[-1].startswith("demo/alex-full/s1: augment (alex_textattack): 8/8 (100%)") and "done in" in lines[-1]


def test_a_short_stage_prints_nothing_and_disabled_prints_nothing() -> None:
    buf = io.StringIO()
    display = ProgressDisplay(Console(file=buf), interval=10)
    assert list(display.track(range(100), "fit")) == list(range(100))
    off = ProgressDisplay(Console(file=buf), enabled=False, interval=0)
    assert list(off.track(slow(3, 0.01), "fit", total=3)) == [0, 1, 2]
    assert buf.getvalue() == ""


def test_on_a_terminal_a_bar_with_rate_and_time_left() -> None:
    buf = io.StringIO()
    display = ProgressDisplay(Console(file=buf, force_terminal=True, width=160), interval=0)
    with display.active():
        list(display.track(slow(5, 0.05), "fit (transformer)", total=5))
    shown = buf.getvalue()
    assert "fit (transformer)" in shown and "/s" in shown and "left" in shown


def test_a_worker_process_writes_lines_even_on_a_terminal() -> None:
    buf = io.StringIO()
    display = ProgressDisplay(Console(file=buf, force_terminal=True, width=200), interval=0.01, log_only=True)
    with display.active():
        list(display.track(slow(4, 0.02), "explain", total=4))
    assert "explain: 4/4 (100%)" in buf.getvalue()


def test_clock() -> None:
    assert (clock(5), clock(65), clock(3725)) == ("0:05", "1:05", "1:02:05")


def test_alexbench_augment_reports_progress_in_a_log(tmp_path: Path) -> None:
    """The real command on the demo task, its stderr a pipe (as under nohup or CI)."""
    env = {**os.environ, "ALEXBENCH_PROGRESS_INTERVAL": "0"}
    done = subprocess.run([sys.executable, "-m", "alexbench", "augment", "-t", "demo", "-a", "alex_textattack",
                           "-p", "workers=1"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("augment (alex_textattack): ")]
    assert lines and re.match(r"augment \(alex_textattack\): (\d+)/\1 \(100%\) · .* · done in ", lines[-1]), lines
