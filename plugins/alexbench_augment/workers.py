"""Making copies on every core: a process pool whose output equals one process's.

Each post's copies depend only on the post and its seed (see :mod:`.supply`), so the posts can be
spread over processes in any grouping. The pool is used when the work is large enough to pay for
starting it (``workers = 0``, the default: all cores) or whenever asked (``workers >= 2``);
``workers = 1`` stays in this process.

Worker processes come from a ``forkserver`` (``spawn`` where there is none): they never inherit
this process's threads or CUDA state, and the server imports the augmenters and loads WordNet
once, so every worker starts warm. One pool per worker count lives for the rest of the process
and is reused by later runs of a grid.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import pickle
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from typing import Any, Protocol

from alexbench.interfaces import Context

from .supply import Job, Made

#: With ``workers = 0`` the pool is used when one process would need at least this long: it
#: costs ~8 s to start on 2 cores (imports and WordNet in the fork server) and each worker looks
#: up its own synonyms, so shorter work is faster in one process.
POOL_SECONDS = 20.0
#: How fast one process makes copies, in characters of post text × copies per second, when an
#: augmenter does not say (``CopyMaker.chars_per_second``): measured for the fast engines
#: (~7 million on this project's 2-core machine, synonym caches cold; benchmarks/
#: test_bench_augment_length.py); TextAttack's own engine declares ~600 (textattack_aug.py).
CHARS_PER_SECOND = 6_000_000
PRELOAD = ["alexbench_augment._preload"]


class CopyMaker(Protocol):
    name: str
    #: optional: characters × copies one process makes per second (decides workers = 0's choice)
    # chars_per_second: float

    def make_copies(self, jobs: Sequence[Job]) -> list[Made]: ...


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def resolve(workers: int) -> int:
    return available_cores() if workers == 0 else workers


_POOLS: dict[int, ProcessPoolExecutor] = {}
_BUILT: dict[tuple[type, Any], Any] = {}


def _context() -> multiprocessing.context.BaseContext:
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(PRELOAD)
        return ctx
    return multiprocessing.get_context("spawn")


def _pool(workers: int) -> ProcessPoolExecutor:
    pool = _POOLS.get(workers)
    if pool is None:
        pool = _POOLS[workers] = ProcessPoolExecutor(max_workers=workers, mp_context=_context())
    return pool


@atexit.register
def shutdown() -> None:
    while _POOLS:
        _, pool = _POOLS.popitem()
        pool.shutdown(wait=True, cancel_futures=True)


def _run(spec: tuple[type, Any], jobs: list[Job]) -> list[Made]:
    """In a worker: build the augmenter once per process, make the copies of a chunk of posts."""
    maker = _BUILT.get(spec)
    if maker is None:
        cls, params = spec
        maker = _BUILT[spec] = cls(params)
    return maker.make_copies(jobs)


def _chunks(jobs: Sequence[Job], size: int) -> Iterator[list[Job]]:
    for start in range(0, len(jobs), size):
        yield list(jobs[start:start + size])


class Maker:
    """``maker(jobs)`` yields each post's :class:`Made`, from this process or from the pool, with progress."""

    def __init__(self, augmenter: CopyMaker, workers: int, ctx: Context) -> None:
        self.augmenter, self.workers, self.ctx = augmenter, workers, ctx
        self.used_pool = self.warned = False

    def serial_seconds(self, jobs: Sequence[Job]) -> float:
        """Estimated time of ``jobs`` in this process."""
        rate = float(getattr(self.augmenter, "chars_per_second", CHARS_PER_SECOND))
        return sum(len(j.text) * j.stop for j in jobs) / rate

    def use_pool(self, jobs: Sequence[Job]) -> bool:
        n = resolve(self.workers)
        if n < 2 or len(jobs) < 2:
            return False
        if self.workers < 2 and self.serial_seconds(jobs) < POOL_SECONDS:
            return False
        try:  # a worker rebuilds the augmenter from its class and params: both must pickle (by reference)
            pickle.dumps((type(self.augmenter), self.augmenter.params))  # type: ignore[attr-defined]
        except Exception as exc:  # noqa: BLE001 - e.g. a class defined in __main__ or inside a function
            if not self.warned:
                self.ctx.log(f"augmenter {self.augmenter.name}: one process (its class cannot be sent to worker "
                             f"processes: {type(exc).__name__}: {exc})")
                self.warned = True
            return False
        return True

    def __call__(self, jobs: list[Job]) -> Iterator[Made]:
        description = f"augment ({self.augmenter.name})"
        return self.ctx.track(self._made(jobs), description, total=len(jobs))

    def _made(self, jobs: list[Job]) -> Iterator[Made]:
        if not self.use_pool(jobs):
            for chunk in _chunks(jobs, 32):
                yield from self.augmenter.make_copies(chunk)
            return
        self.used_pool = True
        n = resolve(self.workers)
        size = max(1, min(32, -(-len(jobs) // (4 * n))))
        spec = (type(self.augmenter), self.augmenter.params)  # type: ignore[attr-defined]
        futures: list[Future] = [_pool(n).submit(_run, spec, chunk) for chunk in _chunks(jobs, size)]
        try:
            yield from _results(as_completed(futures))
        finally:
            for future in futures:
                future.cancel()


def _results(done: Iterable[Future]) -> Iterator[Made]:
    for future in done:
        yield from future.result()
