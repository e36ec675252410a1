"""Progress of long stages, on a terminal and in logs.

On a terminal: rich bars with the count, the rate, the time taken and the time left. Anywhere else
(CI, ``nohup``, a Ray worker, a file): a plain line every ``interval`` seconds (default 10, or
``$ALEXBENCH_PROGRESS_INTERVAL``) with items done / total, the rate and the time left, and a last
line when a stage that printed one finishes, so a log shows where a long run is.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from alexbench.safetext import rich_text, terminal

T = TypeVar("T")
INTERVAL_ENV = "ALEXBENCH_PROGRESS_INTERVAL"


class RateColumn(ProgressColumn):
    """Items per second."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.1f}/s", style="progress.data.speed")


def clock(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def _interval() -> float:
    try:
        return float(os.environ.get(INTERVAL_ENV, "10"))
    except ValueError:
        return 10.0


class ProgressDisplay:
    """``with display.active(): ... display.track(items, "what", total)``."""

    def __init__(self, console: Console, *, enabled: bool = True, interval: float | None = None,
                 log_only: bool = False) -> None:
        self.console = console
        self.enabled = enabled
        self.interval = _interval() if interval is None else interval
        self.log_only = log_only  # e.g. in a worker process, whose terminal others share
        self.prefix = ""  # what is running, e.g. "demo/alex-full/s1: "
        self._bars: Progress | None = None

    @contextmanager
    def active(self) -> Iterator[None]:
        if not (self.enabled and self.console.is_terminal) or self.log_only:
            yield
            return
        with Progress(TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(), RateColumn(),
                      TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn(), console=self.console,
                      transient=True) as bars:
            self._bars = bars
            try:
                yield
            finally:
                self._bars = None

    def track(self, items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
        if total is None and hasattr(items, "__len__"):
            total = len(items)  # type: ignore[arg-type]
        # the prefix names the task and variant: data, shown with its control characters escaped
        description = terminal(self.prefix + description)
        if not self.enabled:
            yield from items
        elif self._bars is not None:
            yield from self._on_terminal(items, description, total)
        else:
            yield from self._in_log(items, description, total)

    def _on_terminal(self, items: Iterable[T], description: str, total: int | None) -> Iterator[T]:
        assert self._bars is not None
        bar = self._bars.add_task(description, total=total)
        try:
            for item in items:
                yield item
                self._bars.advance(bar)
        finally:
            self._bars.remove_task(bar)

    def _in_log(self, items: Iterable[T], description: str, total: int | None) -> Iterator[T]:
        start = last = time.monotonic()
        done, printed = 0, False
        for item in items:
            yield item
            done += 1
            now = time.monotonic()
            if now - last >= self.interval and (total is None or done < total):
                self._line(description, done, total, now - start)
                last, printed = now, True
        if printed:
            self._line(description, done, total, time.monotonic() - start, finished=True)

    def _line(self, description: str, done: int, total: int | None, elapsed: float, *, finished: bool = False) -> None:
        rate = done / elapsed if elapsed > 0 else 0.0
        parts = [f"{description}: {done:,}" + (f"/{total:,} ({100 * done / total:.0f}%)" if total else "")]
        parts.append(f"{rate:,.1f}/s")
        if finished:
            parts.append(f"done in {clock(elapsed)}")
        else:
            parts.append(f"{clock(elapsed)} elapsed")
            if total and rate > 0:
                parts.append(f"about {clock((total - done) / rate)} left")
        self.console.print(rich_text(" · ".join(parts)), highlight=False, soft_wrap=True)
