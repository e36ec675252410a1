"""A grid: every task × cell (a variant, at a sweep point when the study has a sweep) × seed,
checked before any work, then run in this process or fanned out through an executor (a process
pool or Ray). Each run that finishes, is reused or fails is reported to a callback as a
:class:`RunEvent`; the caller (the Python API, the CLI) decides how to show it.

Order: seed by seed (every task × cell of the first seed, then of the next), so that a long study
stopped part-way holds whole designs with fewer seeds. In this process, a run another process is
computing (another grid on the same store) is left for the end, then waited for and reused:
grids started together share the work."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from alexbench.config.sweeps import Cell, SweepPlan, validate_values
from alexbench.config.tasks import TaskSpec, validate_metric
from alexbench.data.transforms import check_points
from alexbench.errors import RunError, StorageError
from alexbench.run.claims import RunBusy
from alexbench.run.executors import Job, make_executor
from alexbench.run.guards import check_supported
from alexbench.run.runner import Runner
from alexbench.scoring.metrics import check_official


@dataclass(frozen=True)
class RunEvent:
    """One run of a grid has ended: ``state`` is ``"done"`` (computed now), ``"reused"`` (a
    finished run of the same definition was in the store) or ``"failed"`` (``error`` says why;
    the grid goes on)."""

    done: int
    total: int
    task: str
    variant: str
    seed: int
    state: str
    #: The task's official metric and its value on test (None for a failed run).
    metric: str
    official: float | None = None
    run_path: Path | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.state != "failed"


@dataclass(frozen=True)
class GridOutcome:
    """What a grid did, run by run, in the order the runs ended."""

    events: tuple[RunEvent, ...]

    @property
    def failures(self) -> int:
        return sum(not e.ok for e in self.events)

    @property
    def total(self) -> int:
        return len(self.events)


def check_grid(runner: Runner, tasks: Sequence[TaskSpec], cells: Sequence[Cell], *,
               plan: SweepPlan | None = None, study_path: Path | None = None) -> None:
    """Every check that can fail before any work: each task's official metric, its data (every
    row of every split), a sweep's points against every task's data, each cell's parameters,
    components that cannot handle a task (multi-label) and names too long for a folder. A
    failure raises the configuration or input error it is."""
    host, store = runner.host, runner.store
    for task in tasks:
        validate_metric(task, host.metrics.names())
        check_official(task, host.metrics)
        task.check_data()
        runner.dataset(task)  # every row is checked before any run (a bad or empty split is the input's fault)
    if plan is not None:  # a sweep's points must fit every task's data before any run
        check_points(study_path, plan.axes, [(task, runner.dataset(task)) for task in tasks])
        validate_values(plan, runner.build)
    for cell in cells:  # parameter errors are configuration errors: report them before any work
        parts = runner.build(cell.variant)
        for task in tasks:
            check_supported(task, cell.variant, parts.all())
            store.check_names(task.name, cell.variant.name)


def run_grid(runner: Runner, tasks: Sequence[TaskSpec], cells: Sequence[Cell], seeds: Sequence[int], *,
             force: bool = False, executor: str = "local", workers: int = 1, address: str | None = None,
             data_root: Path | None = None, on_event: Callable[[RunEvent], None] | None = None) -> GridOutcome:
    """Run every task × cell × seed (checked first with :func:`check_grid` by the caller) and
    return what each run did. ``executor="local"`` with one worker runs in this process through
    ``runner``; otherwise each run is a :class:`~alexbench.run.executors.Job` of the executor,
    whose workers write to the same store. A store that cannot be written stops the grid
    (:class:`~alexbench.errors.StorageError`): no later run could be kept."""
    report = on_event or (lambda _event: None)
    if executor != "local" or workers > 1:
        events = _through_executor(runner, tasks, cells, seeds, force=force, executor=executor, workers=workers,
                                   address=address, data_root=data_root, report=report)
    else:
        events = _in_process(runner, tasks, cells, seeds, force=force, report=report)
    return GridOutcome(tuple(events))


def _through_executor(runner: Runner, tasks: Sequence[TaskSpec], cells: Sequence[Cell], seeds: Sequence[int], *,
                      force: bool, executor: str, workers: int, address: str | None, data_root: Path | None,
                      report: Callable[[RunEvent], None]) -> list[RunEvent]:
    results = str(runner.store.root.resolve())
    root = str(data_root.resolve()) if data_root is not None else None
    metric_of = {str(task.path): task.official_metric for task in tasks}
    jobs = [Job(str(task.path), root, cell.variant.to_dict(), seed, results, runner.device, force,
                runner.show_progress, cell.transform.to_dict() if cell.transform else None)
            for seed in seeds for task in tasks for cell in cells]
    events = []
    for done, result in enumerate(make_executor(executor, workers, address).map(jobs), start=1):
        state = ("reused" if result.reused else "done") if result.ok else "failed"
        event = RunEvent(done, len(jobs), result.task, result.job.variant["name"], result.job.seed, state,
                         metric_of.get(result.job.task_file, "official"), result.official if result.ok else None,
                         Path(result.run_path) if result.run_path else None, None if result.ok else result.error or "")
        events.append(event)
        report(event)
        if result.fatal:
            raise StorageError(result.error or "the results store cannot be written")
    return events


def _in_process(runner: Runner, tasks: Sequence[TaskSpec], cells: Sequence[Cell], seeds: Sequence[int], *,
                force: bool, report: Callable[[RunEvent], None]) -> list[RunEvent]:
    total = len(tasks) * len(cells) * len(seeds)
    events: list[RunEvent] = []
    later: list[tuple[TaskSpec, Cell, int]] = []
    for wait, todo in ((False, [(task, cell, seed) for seed in seeds for task in tasks for cell in cells]),
                       (True, later)):
        for task, cell, seed in todo:
            variant = cell.variant
            try:
                outcome = runner.run(task, variant, seed, force=force, transform=cell.transform, wait=wait)
            except RunBusy:
                later.append((task, cell, seed))
                continue
            except RunError as exc:
                event = RunEvent(len(events) + 1, total, task.name, variant.name, seed, "failed",
                                 task.official_metric, error=str(exc))
            else:
                value = outcome.run.scores().test.official.value if outcome.run else None
                event = RunEvent(len(events) + 1, total, task.name, variant.name, seed,
                                 "reused" if outcome.reused else "done", task.official_metric, value,
                                 outcome.run.path if outcome.run else None)
            events.append(event)
            report(event)
    return events
