"""Where runs execute: in this process, in a local process pool, or on a Ray cluster.

Every executor runs the same :func:`run_job` on picklable :class:`Job` descriptions and all of
them write to the same results store (a shared folder), so a grid can fan out without a
scheduler of our own; finished runs are skipped by content hash wherever they were computed.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import traceback
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from alexbench.config.sweeps import TaskTransform
from alexbench.config.variants import ComponentSpec, VariantSpec
from alexbench.errors import AlexbenchError, FailureError, RunError, StorageError


@dataclass(frozen=True)
class Job:
    task_file: str
    data_root: str | None
    variant: dict[str, Any]
    seed: int
    results: str
    device: str = "auto"
    force: bool = False
    progress: bool = True  # lines in the worker's log (never bars: workers share a terminal)
    #: A sweep point of the task (``{"minority_share": 0.1}``); None: the task's own data.
    transform: dict[str, Any] | None = None

    @property
    def label(self) -> str:
        return f"{Path(self.task_file).stem} · {self.variant['name']} · seed {self.seed}"


@dataclass(frozen=True)
class JobResult:
    job: Job
    task: str
    ok: bool
    reused: bool = False
    run_path: str | None = None
    official: float | None = None
    error: str | None = None
    fatal: bool = False  # the results store cannot be written: no later job can succeed


def variant_from_dict(data: dict[str, Any]) -> VariantSpec:
    def comp(d: dict[str, Any] | None) -> ComponentSpec | None:
        return ComponentSpec(d["name"], dict(d.get("params") or {})) if d else None

    classifier = comp(data["classifier"])
    if classifier is None:
        raise RunError(f"job for variant {data.get('name')!r} has no classifier")
    return VariantSpec(data["name"], classifier, tuple(c for c in map(comp, data.get("augmenters") or []) if c),
                       comp(data.get("explainer")), data.get("description", ""))


def run_job(job: Job) -> JobResult:
    """Run one job in whatever process this is; never raises (errors come back in the result)."""
    from alexbench.config.tasks import load_task
    from alexbench.plugin.host import PluginHost
    from alexbench.run.runner import Runner
    from alexbench.run.store import ResultsStore

    task_name = Path(job.task_file).stem
    try:
        task = load_task(job.task_file, Path(job.data_root) if job.data_root else None)
        task_name = task.name
        runner = Runner(PluginHost(), ResultsStore(Path(job.results)), show_progress=job.progress,
                        progress_to_log=True, device=job.device)
        transform = TaskTransform.from_dict(job.transform) if job.transform else None
        outcome = runner.run(task, variant_from_dict(job.variant), job.seed, force=job.force, transform=transform)
        if outcome.run is None:
            raise RunError(f"run {task_name}/{outcome.variant}/seed {job.seed} finished without a stored run")
        value = outcome.run.scores().test.official.value
        return JobResult(job, task_name, True, outcome.reused, str(outcome.run.path), value)
    except StorageError as exc:
        return JobResult(job, task_name, False, error=str(exc), fatal=True)
    except AlexbenchError as exc:
        return JobResult(job, task_name, False, error=str(exc))
    except Exception as exc:  # a worker must report, not die
        return JobResult(job, task_name, False, error=f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")


class Executor(Protocol):
    name: str

    def map(self, jobs: Iterable[Job]) -> Iterator[JobResult]:
        """Yield one result per job, in completion order."""
        ...


class LocalExecutor:
    """Sequential (workers=1) or a pool of spawned processes (each with its own plugin host)."""

    name = "local"

    def __init__(self, workers: int = 1) -> None:
        if workers < 1:
            raise AlexbenchError(f"--workers must be at least 1, got {workers}")
        self.workers = workers

    def map(self, jobs: Iterable[Job]) -> Iterator[JobResult]:
        jobs = list(jobs)
        if self.workers == 1:
            for job in jobs:
                yield run_job(job)
            return
        ctx = multiprocessing.get_context("spawn")  # no fork: torch and threads do not survive it
        pool = concurrent.futures.ProcessPoolExecutor(self.workers, mp_context=ctx)
        try:
            futures = [pool.submit(run_job, job) for job in jobs]
            for future in concurrent.futures.as_completed(futures):
                yield future.result()
        finally:  # the caller stopped early (a fatal result): jobs not yet started are dropped
            pool.shutdown(wait=True, cancel_futures=True)


class RayExecutor:
    """Fans jobs out over a Ray cluster (``address``) or a local Ray instance started here.

    Each task needs the project installed on the workers and the results folder shared.
    """

    name = "ray"

    def __init__(self, address: str | None = None, num_cpus: int | None = None) -> None:
        try:
            import ray
        except ImportError as exc:
            raise AlexbenchError("the ray executor needs Ray: pip install 'alexbench[ray]'") from exc
        self._ray = ray
        self.address, self.num_cpus = address, num_cpus

    def map(self, jobs: Iterable[Job]) -> Iterator[JobResult]:
        ray = self._ray
        started = False
        if not ray.is_initialized():
            try:
                ray.init(address=self.address, num_cpus=self.num_cpus if self.address is None else None,
                         include_dashboard=False, log_to_driver=False, configure_logging=False)
            except Exception as exc:
                raise FailureError(f"could not start or reach Ray ({self.address or 'local'}): {exc}") from exc
            started = True
        pending: dict[Any, Job] = {}
        try:
            remote = ray.remote(run_job)
            pending = {remote.remote(job): job for job in jobs}
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                for ref in done:
                    job = pending.pop(ref)
                    try:
                        yield ray.get(ref)
                    except Exception as exc:  # the worker itself died
                        yield JobResult(job, Path(job.task_file).stem, False, error=f"ray worker failed: {exc}")
        finally:
            for ref in pending:  # the caller stopped early (a fatal result): drop what is left
                ray.cancel(ref)
            if started:
                ray.shutdown()


def make_executor(name: str, workers: int = 1, address: str | None = None) -> Executor:
    if name == "local":
        return LocalExecutor(workers)
    if name == "ray":
        return RayExecutor(address, num_cpus=workers if workers > 1 else None)
    raise AlexbenchError(f"unknown executor {name!r}; choose local or ray")
