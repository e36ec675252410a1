"""The Python API: what the ``alexbench`` command does, for notebooks, scripts and pipelines.

One object, :class:`Bench`, holds what every step needs (the plugin host, the task catalogue, the
results store) and does the steps: load tasks, variants and studies; run tasks × variants × seeds
or a study's grid (in this process, a process pool or Ray, with a progress callback); read the
store; build leaderboards. Results are typed (:class:`~alexbench.run.grid.RunEvent`,
:class:`~alexbench.report.board.Leaderboard`, :class:`Runs`), and leaderboards and run
collections have ``to_pandas()`` (pandas is imported only then)::

    from alexbench.api import Bench

    bench = Bench(results="results")
    study = bench.grid("demo")                   # runs, reusing finished runs
    study.leaderboards.to_pandas()               # one row per task × variant
    bench.runs("demo").to_pandas()               # one row per stored run

The ``alexbench`` command is a thin layer over this module: it parses options, calls a
:class:`Bench` method and prints what comes back.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from alexbench.config.studies import StudySpec, load_study
from alexbench.config.sweeps import Cell, SweepPlan, expand
from alexbench.config.tasks import Reference, TaskCatalog, TaskSpec, load_task, validate_metric
from alexbench.config.variants import VariantCatalog, VariantSpec
from alexbench.data.augment import AugmentReport, apply_chain
from alexbench.data.splits import load_dataset
from alexbench.errors import AlexbenchError, UnknownNameError
from alexbench.fsio import atomic_write_text
from alexbench.interfaces import Augmenter, Context, Post, Renderer
from alexbench.plugin.host import PluginHost
from alexbench.progress import ProgressDisplay
from alexbench.report import sweep, sweep_tables
from alexbench.report.board import Leaderboard, build
from alexbench.report.frames import boards_frame, runs_frame
from alexbench.report.renderers import file_renderers, write_board_files, write_pages
from alexbench.run.dryrun import PlannedRun, plan_grid
from alexbench.run.explanations import explained_rows, fill_reasons, post_texts
from alexbench.run.grid import GridOutcome, RunEvent, check_grid, run_grid
from alexbench.run.runner import Runner
from alexbench.run.store import DamagedRunError, ResultsStore, StoredRun, safe_part
from alexbench.scoring.metrics import check_official

if TYPE_CHECKING:
    import pandas
    from rich.console import Console

__all__ = ["AugmentPreview", "Bench", "Leaderboards", "RunEvent", "Runs", "StudyResult", "WrittenBoards"]


class Leaderboards(list[Leaderboard]):
    """Leaderboards, one per task (a list), and their rows as one DataFrame."""

    def to_pandas(self) -> pandas.DataFrame:
        """One row per task × variant: mean, std and seeds of the official metric on test and
        dev, Δ and paired significance against the baseline, each test metric's mean, per-class
        F1 means (:func:`alexbench.report.frames.boards_frame`)."""
        return boards_frame(self)


class Runs(list[StoredRun]):
    """Stored runs (a list of :class:`~alexbench.run.store.StoredRun`) and one DataFrame of them."""

    def to_pandas(self) -> pandas.DataFrame:
        """One row per run: task, variant, seed, run id, folder, the official metric on test and
        dev and each test metric (:func:`alexbench.report.frames.runs_frame`)."""
        return runs_frame(self)


@dataclass(frozen=True)
class StudyResult:
    """What :meth:`Bench.grid` or :meth:`Bench.run` did: every run's event, in the order the runs
    ended, and the leaderboards of the grid's tasks, variants and seeds built afterwards."""

    events: tuple[RunEvent, ...]
    leaderboards: Leaderboards
    #: Stored runs of the grid that could not be read and were left out of the leaderboards.
    damaged: int = 0
    #: Where failed runs are recorded (``<results>/failed``).
    failed_dir: Path | None = None

    @property
    def failures(self) -> int:
        return sum(not e.ok for e in self.events)

    @property
    def ok(self) -> bool:
        return self.failures == 0


@dataclass(frozen=True)
class AugmentPreview:
    """What :meth:`Bench.augment` made of a task's train split: the rows before and after, the
    host's report (class counts, rows dropped and why) and the augmenter's own report."""

    task: TaskSpec
    augmenter: Augmenter
    seed: int
    train: tuple[Post, ...]
    rows: tuple[Post, ...]
    report: AugmentReport

    @property
    def augmenter_report(self) -> dict[str, object]:
        """The augmenter's own ``last_report`` (errors, copies, what it rejected), if it keeps one."""
        return getattr(self.augmenter, "last_report", None) or {}


@dataclass(frozen=True)
class WrittenBoards:
    """What :meth:`Bench.write` wrote: each board's files (by task), then the pages of all boards."""

    files: dict[str, list[Path]]
    pages: list[Path]


def _warn(message: str) -> None:
    warnings.warn(message, stacklevel=3)


@dataclass
class Bench:
    """The plugin host, task catalogue and results store, built lazily, and every step of a
    benchmark as a method. ``data_root``: where task data lives (default: each task file's own
    rule, ``$ALEXBENCH_DATA``); ``results``: the results store (default ``results`` or
    ``$ALEXBENCH_RESULTS``); ``on_warning`` receives each warning (a plugin left out, a task
    file skipped, a damaged run left out); by default they are Python warnings."""

    data_root: Path | str | None = None
    results: Path | str | None = None
    on_warning: Callable[[str], None] = _warn
    _host: PluginHost | None = field(default=None, repr=False)
    _catalog: TaskCatalog | None = field(default=None, repr=False)
    _warned: set[tuple[str, str]] = field(default_factory=set, repr=False)

    # -- what a benchmark is made of --------------------------------------------------------
    @property
    def host(self) -> PluginHost:
        """The plugin host: every installed plugin's components, metrics and task folders."""
        if self._host is None:
            self._host = PluginHost()
            self._warn_broken()
        return self._host

    def _warn_broken(self) -> None:
        for broken in self._host.broken if self._host is not None else ():
            if (broken.name, broken.error) not in self._warned:
                self._warned.add((broken.name, broken.error))
                self.on_warning(f"plugin {broken.name!r} ({broken.distribution or '?'}) left out: {broken.error}")

    @property
    def catalog(self) -> TaskCatalog:
        """The task folders' catalogue; files that cannot be read are skipped with a warning."""
        root = self._data_root()
        if self._catalog is None or self._catalog.data_root != root:
            self._catalog = TaskCatalog(self.host.task_dirs(), root)
            for problem in self._catalog.problems:
                self.on_warning(f"skipped {problem}")
        return self._catalog

    def _data_root(self) -> Path | None:
        return None if self.data_root is None else Path(self.data_root)

    def store(self) -> ResultsStore:
        """The results store (a new handle each call: cheap, it holds only the root)."""
        return ResultsStore(Path(self.results) if self.results is not None else None)

    def task_names(self) -> list[str]:
        return self.catalog.names()

    def task(self, ref: str | Path) -> TaskSpec:
        """A task by name, or by the path of its task file."""
        return self.catalog.load(str(ref))

    def variant_catalog(self) -> VariantCatalog:
        return VariantCatalog(self.catalog.variant_files, note=self.catalog.unreadable_note())

    def variants(self, ref: str | Path | None = None) -> list[VariantSpec]:
        """Every named variant; or the one named ``ref``; or every variant of a variants file."""
        catalog = self.variant_catalog()
        if ref is None:
            return [catalog.get(name) for name in catalog.names()]
        if str(ref).endswith(".toml") or Path(ref).is_file():
            return catalog.from_file(Path(ref))
        return [catalog.get(str(ref))]

    def study(self, ref: str | Path) -> StudySpec:
        """A study by name (from the task folders) or by the path of its file."""
        catalog = self.catalog
        path = Path(ref) if str(ref).endswith(".toml") or Path(ref).is_file() else catalog.study_files.get(str(ref))
        if path is None:
            raise UnknownNameError("study", str(ref), catalog.study_files, note=catalog.unreadable_note())
        return load_study(path, self.variant_catalog())

    def plan(self, spec: StudySpec) -> SweepPlan | None:
        """A swept study's cells (the reference point, then each axis's values), checked against
        the plugins' parameters; None for a study without ``[study.sweep]``."""
        if not spec.sweep:
            return None
        return expand(spec.path, spec.sweep, spec.variants, lambda kind, name: self.host.component_info(kind, name)[1],
                      spec.fixed)

    def cells(self, spec: StudySpec) -> list[Cell]:
        plan = self.plan(spec)
        return list(plan.cells) if plan else [Cell(v, v.name) for v in spec.variants]

    def task_name_of(self, ref: str, *, lookup: bool = True) -> str:
        """The task name of ``ref``: a task file's ``[task] name``; else the catalogue's task of
        that name (``lookup``) or ``ref`` itself (runs of a task given by path are stored under
        its name, which need not be in the catalogue)."""
        if ref.endswith(".toml") or Path(ref).is_file():
            return load_task(Path(ref)).name
        return self.catalog.load(ref).name if lookup else ref

    # -- running ----------------------------------------------------------------------------
    def runner(self, *, device: str = "auto", show_progress: bool = True, console: Console | None = None) -> Runner:
        """A :class:`~alexbench.run.runner.Runner` on this bench's host and store; progress bars
        (or, off a terminal, progress lines) go to ``console`` (stderr by default)."""
        return Runner(self.host, self.store(), console=console, show_progress=show_progress, device=device)

    def run(self, tasks: str | Iterable[str], variants: str | VariantSpec | Iterable[str | VariantSpec],
            seeds: Sequence[int] = (0,), *, force: bool = False, device: str = "auto", show_progress: bool = True,
            on_event: Callable[[RunEvent], None] | None = None, console: Console | None = None,
            n_boot: int = 1000) -> StudyResult:
        """Run every task × variant × seed in this process and build their leaderboards (no
        baseline). ``variants``: names, variants files or :class:`VariantSpec` objects."""
        chosen: list[VariantSpec] = []
        for ref in [variants] if isinstance(variants, (str, VariantSpec)) else variants:
            chosen += [ref] if isinstance(ref, VariantSpec) else self.variants(ref)
        task_refs = [tasks] if isinstance(tasks, str) else list(tasks)
        return self.run_cells(task_refs, [Cell(v, v.name) for v in chosen], seeds, force=force, device=device,
                              show_progress=show_progress, on_event=on_event, console=console, n_boot=n_boot)

    def grid(self, study: str | Path | StudySpec, *, force: bool = False, device: str = "auto",
             executor: str = "local", workers: int = 1, address: str | None = None, show_progress: bool = True,
             on_event: Callable[[RunEvent], None] | None = None, console: Console | None = None,
             n_boot: int = 1000) -> StudyResult:
        """Run every task × variant (× sweep point) × seed of a study and build its leaderboards
        against its baseline. ``executor``: ``"local"`` (this process, or a process pool with
        ``workers`` > 1) or ``"ray"`` (``address``: a Ray cluster; default a local Ray)."""
        spec = study if isinstance(study, StudySpec) else self.study(study)
        plan = self.plan(spec)
        return self.run_cells(list(spec.tasks), list(plan.cells) if plan else [Cell(v, v.name) for v in spec.variants],
                              spec.seeds, force=force, device=device, executor=executor, workers=workers,
                              address=address, show_progress=show_progress, on_event=on_event, console=console,
                              n_boot=n_boot, baseline=spec.baseline, plan=plan, study_path=spec.path)

    def run_cells(self, task_refs: Sequence[str], cells: Sequence[Cell], seeds: Sequence[int], *,
                  force: bool = False, device: str = "auto", executor: str = "local", workers: int = 1,
                  address: str | None = None, show_progress: bool = True,
                  on_event: Callable[[RunEvent], None] | None = None, console: Console | None = None,
                  n_boot: int = 1000, baseline: str | None = None, plan: SweepPlan | None = None,
                  study_path: Path | None = None, before_runs: Callable[[], None] | None = None) -> StudyResult:
        """What :meth:`run` and :meth:`grid` share: every check before any work
        (:func:`~alexbench.run.grid.check_grid`, then ``before_runs``), the runs, the leaderboards."""
        runner = self.runner(device=device, show_progress=show_progress, console=console)
        tasks = [self.catalog.load(ref) for ref in task_refs]
        check_grid(runner, tasks, cells, plan=plan, study_path=study_path)
        if before_runs is not None:
            before_runs()
        outcome: GridOutcome = run_grid(runner, tasks, cells, seeds, force=force, executor=executor, workers=workers,
                                        address=address, data_root=self._data_root(), on_event=on_event)
        boards, damaged = self.leaderboards_of({t.name for t in tasks}, baseline=baseline,
                                               variants=[c.variant.name for c in cells], seeds=seeds,
                                               n_boot=n_boot, plan=plan)
        return StudyResult(outcome.events, boards, damaged, self.store().root / "failed")

    def dry_run(self, study: str | Path | StudySpec) -> list[PlannedRun]:
        """What a study's grid would send to an LLM, run by run (each explainer's or LLM
        classifier's posts, tokens and cost upper bound, and what its cache holds); nothing is
        run or sent (:mod:`alexbench.run.dryrun`)."""
        spec = study if isinstance(study, StudySpec) else self.study(study)
        return self.dry_run_cells(list(spec.tasks), self.cells(spec), spec.seeds)

    def dry_run_cells(self, task_refs: Sequence[str], cells: Sequence[Cell], seeds: Sequence[int]) -> list[PlannedRun]:
        runner = self.runner(show_progress=False)
        tasks = [self.catalog.load(ref) for ref in task_refs]
        for task in tasks:
            validate_metric(task, self.host.metrics.names())
            check_official(task, self.host.metrics)
            task.check_data()
        return plan_grid(runner, tasks, cells, seeds)

    def augment(self, task: str | Path, augmenter: str, params: dict[str, object] | None = None, *, seed: int = 0,
                console: Console | None = None) -> AugmentPreview:
        """An augmenter (with ``params``) applied to a task's train split, as a run would apply
        it (rows copying dev or test text dropped); nothing is cached or trained. Progress goes to
        ``console`` (stderr by default)."""
        from rich.console import Console

        spec = self.task(task)
        data = load_dataset(spec)
        built = self.host.build("augmenter", augmenter, dict(params or {}))
        display = ProgressDisplay(console or Console(stderr=True))
        held_out = {p.text for p in data.dev} | {p.text for p in data.test}
        with display.active():
            rows, report = apply_chain([built], data.train, held_out, Context(task=spec, seed=seed,
                                                                               progress=display.track), None)
        return AugmentPreview(spec, built, seed, tuple(data.train), tuple(rows), report)

    # -- reading ----------------------------------------------------------------------------
    def runs(self, task: str | None = None) -> Runs:
        """The store's runs (of ``task``, a name), damaged ones included: reading one raises
        :class:`~alexbench.run.store.DamagedRunError` naming the file and the repair."""
        return Runs(self.store().runs(task))

    def explained(self, run_ref: str, *, only_flips: bool = False, include_not_sent: bool = False,
                  texts: bool = True, task: str | None = None, reasons: bool = False) -> list[dict[str, object]]:
        """A stored run's explanations as ``alexbench explain`` shows them: one row per post checked
        (multi-label: per (post, label) asked about) with gold, prediction, final label, verdict,
        reason and, with ``texts``, the post's text (None when the task's data is not here);
        ``reasons`` asks the run's explainer for reasons it did not store (never written into the
        run). ``run_ref``: a run folder or (a prefix of) its hash."""
        store = self.store()
        run = store.get(run_ref)
        if not (run.path / "explanations.jsonl").is_file():
            raise AlexbenchError(f"run {run.path} has no explainer (no explanations.jsonl)")
        rows = explained_rows(run, only_flips=only_flips, include_not_sent=include_not_sent)
        found = post_texts(run, self._data_root(), task)[0] if texts else {}
        for row in rows:
            row["text"] = found.get(row["id"])
        if reasons:
            fill_reasons(store, run, [r for r in rows if r["status"] == "ok" and not r["reason"]], self._data_root(),
                         task, host=self.host)
        return rows

    def leaderboards(self, tasks: str | Collection[str] | None = None, *, study: str | Path | None = None,
                     baseline: str | None = None, n_boot: int = 1000) -> Leaderboards:
        """The leaderboards of finished runs of ``tasks`` (all when None) or a ``study``
        (:meth:`board_selection`), as the grid builds them; damaged runs are left out with a warning."""
        names, variants, seeds, baseline, plan = self.board_selection(tasks, study=study, baseline=baseline)
        return self.leaderboards_of(names, baseline=baseline, variants=variants, seeds=seeds, n_boot=n_boot,
                                    plan=plan)[0]

    def board_selection(self, tasks: str | Collection[str] | None = None, *, study: str | Path | None = None,
                        baseline: str | None = None) -> tuple[set[str] | None, list[str] | None,
                                                              tuple[int, ...] | None, str | None, SweepPlan | None]:
        """Which boards :meth:`leaderboards` builds: the task names (None: all), and with a
        ``study`` its tasks (intersected with ``tasks``), variants (a sweep's cells), seeds,
        baseline (unless ``baseline`` is given) and sweep plan."""
        refs = [tasks] if isinstance(tasks, str) else tasks
        names = None if refs is None else {self.task_name_of(t, lookup=False) for t in refs}
        if study is None:
            return names, None, None, baseline, None
        spec = self.study(study)
        plan = self.plan(spec)
        study_tasks = {self.task_name_of(ref) for ref in spec.tasks}
        variants = [c.variant.name for c in plan.cells] if plan else [v.name for v in spec.variants]
        return study_tasks if names is None else names & study_tasks, variants, spec.seeds, baseline or spec.baseline, plan

    def leaderboards_of(self, task_names: Collection[str] | None, *, baseline: str | None = None,
                        variants: Collection[str] | None = None, seeds: Collection[int] | None = None,
                        n_boot: int = 1000, plan: SweepPlan | None = None) -> tuple[Leaderboards, int]:
        """The leaderboards of ``task_names`` (all when None) filtered to ``variants`` and
        ``seeds``, and how many of their stored runs are damaged (each left out with a warning
        naming the file and the repair); with a swept study's ``plan``, the sweep outputs too."""
        folders = None if task_names is None else {safe_part(name) for name in task_names}
        damaged = 0

        def left_out(run: StoredRun, exc: DamagedRunError) -> None:
            nonlocal damaged
            if folders is None or run.path.parent.parent.name in folders:  # runs/<task>/<variant>/<run>
                damaged += 1
                self.on_warning(f"left out of the leaderboard: {exc}")

        boards = build(self.store(), baseline=baseline, variants=variants, seeds=seeds, metrics=self.host.metrics,
                       n_boot=n_boot, on_damaged=left_out)
        boards = [b for b in boards if task_names is None or b.task in task_names]
        for board in boards:
            board.references = self._published(board)
        if plan is not None:
            sweep.attach(boards, plan, [c.base for c in plan.cells if c.is_reference], self.host.metrics, n_boot)
        return Leaderboards(boards), damaged

    def write(self, boards: Sequence[Leaderboard], out_dir: Path | str, *,
              renderers: Sequence[Renderer] | None = None, plots: bool = True) -> WrittenBoards:
        """Write the leaderboards into ``out_dir`` as ``grid --out`` does: each board's file of every
        renderer with a suffix (Markdown, JSON, CSV, LaTeX and those plugins add), a swept study's
        table, PNG plots (``plots``), then each page of all the boards (index.html). ``renderers``:
        the file renderers (default: every registered one, checked for clashing files first)."""
        out = Path(out_dir)
        chosen = list(renderers) if renderers is not None else file_renderers(self.host)
        written = WrittenBoards({}, [])
        for board in boards:
            paths = write_board_files(board, chosen, out)
            if board.sweeps:
                paths.append(out / f"{board.task}.sweep.csv")
                atomic_write_text(paths[-1], sweep_tables.to_csv(board.sweeps))
            if plots:
                from alexbench.report.plots import write_plots  # matplotlib: imported only when plotting

                paths += write_plots(board, out)
            written.files[board.task] = paths
        if boards:
            written.pages.extend(write_pages(boards, chosen, out))
        return written

    def _published(self, board: Leaderboard) -> list[Reference]:
        """The task file's published results (``[[references]]``): from the task of that name, or
        the file its runs were made from; none when neither can be read (never a failure)."""
        task_file = None
        for row in board.rows:
            if row.runs:
                try:
                    task_file = row.runs[0].provenance().get("task_file")
                except DamagedRunError:
                    continue
                break
        try:
            return list(self.catalog.for_run(board.task, task_file).references)
        except AlexbenchError:
            return []

