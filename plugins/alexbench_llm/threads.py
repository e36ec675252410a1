"""How many threads the local engine uses: the cores the rest of the machine leaves idle.

llama.cpp's threads wait for each other at every layer, so on a busy machine a second thread
costs far more than it gives (measured here with other jobs on both cores: a verdict score took
6.2 s with 2 threads, 0.65 s with 1). The numbers do not depend on the thread count (each row of
every product is computed by one thread; tested).
"""

from __future__ import annotations


class IdleCores:
    """How many cores the rest of the machine leaves idle, from the CPU time it used since the
    last look (Linux ``/proc/stat``, minus this process's own CPU time; looks less than 0.2 s
    apart give the previous answer, the first one samples 0.2 s); the
    1-minute load average where there is no ``/proc/stat``. The load average alone misleads on
    a quiet machine whose baseline load is ~1 (measured here: it chose one thread, 0.88 s a
    reply, where two give 0.65 s)."""

    MIN_SPAN_S = 0.2

    def __init__(self) -> None:
        self.cores = _cores()
        self.host_cpus = _host_cpus() or self.cores  # /proc/stat counts every CPU of the host (containers)
        self.last: tuple[float, float, float] | None = None  # (wall, machine busy s, own CPU s)
        self.idle = float(self.cores)

    def _sample(self) -> tuple[float, float, float] | None:
        import os
        import time

        try:
            with open("/proc/stat", encoding="ascii") as fh:
                fields = [float(x) for x in fh.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        busy = (sum(fields) - fields[3] - (fields[4] if len(fields) > 4 else 0.0)) / ticks  # all but idle, iowait
        own = sum(os.times()[:2])
        return time.monotonic(), busy, own

    def __call__(self) -> float:
        import os
        import time

        now = self._sample()
        if now is None:
            try:
                return max(0.0, self.cores - os.getloadavg()[0])
            except (AttributeError, OSError):  # no load average on this platform
                return float(self.cores)
        if self.last is None:  # the first look: a short sample
            self.last = now
            time.sleep(self.MIN_SPAN_S)
            now = self._sample() or now
        elif now[0] - self.last[0] < self.MIN_SPAN_S:  # too short to tell: the previous answer
            return self.idle
        wall, busy, own = (a - b for a, b in zip(now, self.last))
        self.last = now
        others = max(0.0, busy - own) / max(wall, 1e-9)  # CPUs the rest of the machine kept busy
        # in a container /proc/stat is the host's: take the others' share of it, not their count
        share = min(1.0, others / self.host_cpus) if self.host_cpus > self.cores else None
        self.idle = self.cores * (1.0 - share) if share is not None else max(0.0, self.cores - others)
        return self.idle


def _host_cpus() -> int:
    """CPUs listed in /proc/stat (``cpu0``, ``cpu1``, …): the host's, also inside a container."""
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            return sum(1 for line in fh if line.startswith("cpu") and line[3:4].isdigit())
    except OSError:
        return 0


def _cores() -> int:
    import os

    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def threads_for(idle_cores: float) -> int:
    """Threads for the next request: the idle cores (rounded, so a core another job uses half of
    is taken), at least 1 and at most 4 (a 270M model gains little from more)."""
    return max(1, min(4, round(idle_cores)))
