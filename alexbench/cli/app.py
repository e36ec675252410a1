"""What every command shares: the consoles, the lazily built :class:`App` (plugin host, task
catalogue, results store) and the options and checks several commands use."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
from rich.markup import escape

from alexbench.config.seeds import MAX_SEEDS, seed_problem
from alexbench.config.studies import StudySpec, load_study
from alexbench.config.sweeps import SweepPlan, expand
from alexbench.config.tasks import TaskCatalog, load_task
from alexbench.config.variants import VariantCatalog, VariantSpec
from alexbench.errors import AlexbenchError, UnknownNameError
from alexbench.plugin.host import PluginHost
from alexbench.run.device import device_problem, select_device
from alexbench.run.store import ResultsStore
from alexbench.safetext import SafeConsole, rich_text

# SafeConsole: a control character in a printed string (a name, a path, an error quoting them) is
# shown as an escape, never acted on by the terminal (alexbench.safetext).
out = SafeConsole(soft_wrap=True, width=None if sys.stdout.isatty() else 160)


err = SafeConsole(stderr=True, soft_wrap=True, width=None if sys.stderr.isatty() else 160)


@dataclass
class App:
    """What every command needs, built lazily from the global options."""

    data_root: Path | None
    results: Path | None
    _host: PluginHost | None = None
    _catalog: TaskCatalog | None = None
    _warned: set[tuple[str, str]] = field(default_factory=set)

    @property
    def host(self) -> PluginHost:
        if self._host is None:
            self._host = PluginHost()
            self.warn_broken()
        return self._host

    def warn_broken(self) -> None:
        """A warning on stderr for each plugin left out and not yet reported (with its traceback
        under ALEXBENCH_TRACE_PLUGINS=1); the command goes on without it."""
        for broken in self._host.broken if self._host is not None else ():
            if (broken.name, broken.error) in self._warned:
                continue
            self._warned.add((broken.name, broken.error))
            err.print("[yellow]warning:[/] " + escape(f"plugin {broken.name!r} ({broken.distribution or '?'}) "
                                                       f"left out: {broken.error}"), highlight=False)
            if self._host.trace and broken.traceback:
                err.print(rich_text(broken.traceback.rstrip(), "dim", multiline=True), highlight=False)

    @property
    def catalog(self) -> TaskCatalog:
        """The task folders' catalogue; files that cannot be read are skipped with a warning."""
        if self._catalog is None or self._catalog.data_root != self.data_root:
            self._catalog = TaskCatalog(self.host.task_dirs(), self.data_root)
            for problem in self._catalog.problems:
                err.print("[yellow]warning:[/] " + escape(f"skipped {problem}"), highlight=False)
        return self._catalog

    def variants(self) -> VariantCatalog:
        return VariantCatalog(self.catalog.variant_files, note=self.catalog.unreadable_note())

    def store(self) -> ResultsStore:
        return ResultsStore(self.results)


def parse_seeds(_ctx: click.Context | None, _param: click.Parameter | None, text: str) -> list[int]:
    """``--seeds``: whole numbers and ranges, ``1,2,3`` or ``1-5`` or ``0,10-12``; ASCII digits
    only (``١``, an Arabic-Indic one, is not taken for 1), at most :data:`MAX_SEEDS` seeds."""
    example = "give whole numbers from 0 in ASCII digits, e.g. 1,2,3 or 1-5"
    seeds: list[int] = []
    for part in (p.strip() for p in text.split(",")):
        lo, dash, hi = part.partition("-")
        if not _digits(lo) or (dash and not _digits(hi)):
            raise click.BadParameter(f"{part!r} is not a seed or a range of seeds; {example}")
        if dash and int(hi) < int(lo):
            raise click.BadParameter(f"{part!r} is an empty range; {example}")
        for end in (lo, hi or lo):
            problem = seed_problem(int(end))
            if problem:
                raise click.BadParameter(problem)
        if len(seeds) + int(hi or lo) - int(lo) + 1 > MAX_SEEDS:
            raise click.BadParameter(f"{text!r} gives more than {MAX_SEEDS} seeds, each a run of every variant; "
                                     f"give at most {MAX_SEEDS} (e.g. 1-{MAX_SEEDS})")
        for seed in range(int(lo), int(hi or lo) + 1):
            if seed in seeds:
                raise click.BadParameter(f"seed {seed} is given twice")
            seeds.append(seed)
    return seeds


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _check_device(_ctx: click.Context | None, _param: click.Parameter | None, value: str) -> str:
    """``--device``: auto, cpu, cuda or cuda:N; CUDA must be there when it is asked for by name."""
    problem = device_problem(value)
    if problem:
        raise click.BadParameter(problem)
    if value.startswith("cuda"):
        try:
            select_device(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None
    return value


def device_option(fn: Any) -> Any:
    return click.option("--device", default="auto", show_default=True, callback=_check_device,
                        help="auto (CUDA when present), cpu, cuda or cuda:N.")(fn)


def store_options(fn: Any) -> Any:
    """--data-root and --results accepted after the subcommand too (they override the group's)."""
    def set_data_root(ctx: click.Context, _: Any, value: Path | None) -> None:
        if value is not None:
            ctx.find_object(App).data_root = value

    def set_results(ctx: click.Context, _: Any, value: Path | None) -> None:
        if value is not None:
            ctx.find_object(App).results = value

    fn = click.option("--data-root", type=click.Path(path_type=Path), default=None, expose_value=False,
                      callback=set_data_root, help="As the global --data-root.")(fn)
    return click.option("--results", type=click.Path(path_type=Path), default=None, expose_value=False,
                        callback=set_results, help="As the global --results.")(fn)


def writable_dir(path: Path, option: str = "--out") -> Path:
    """Check, before any work, that the folder the user asked us to write to can be written: a
    file there, or a folder we cannot write, is their input to fix (exit 2), not a traceback
    after the runs. Folders made for the probe are removed again (nothing is left behind by a
    grid that stops before its leaderboards)."""
    if path.exists() and not path.is_dir():
        raise AlexbenchError(f"{option} {path}: is a file, expected a folder")
    made = [p for p in (path, *path.parents) if not p.exists()]  # the leaf first
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".alexbench-probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise AlexbenchError(f"{option} {path}: cannot write there ({exc.strerror or exc})") from None
    finally:
        for folder in made:
            try:
                folder.rmdir()
            except OSError:
                break
    return path


def task_name_of(ref: str, catalog: TaskCatalog | None = None) -> str:
    """The task name of ``ref``: a task file's [task] name, else ``ref`` itself (runs of a task
    given by path are stored under its name, which need not be in the catalogue)."""
    if ref.endswith(".toml") or Path(ref).is_file():
        return load_task(Path(ref)).name
    return catalog.load(ref).name if catalog is not None else ref


def variants_of(app: App, ref: str) -> list[VariantSpec]:
    """``-v``: a variant by name, or every variant of a variants file (a path ending in .toml)."""
    if ref.endswith(".toml") or Path(ref).is_file():
        return app.variants().from_file(Path(ref))
    return [app.variants().get(ref)]


def study_plan(app: App, spec: StudySpec) -> SweepPlan | None:
    """A swept study's cells (the reference point, then each axis's values), checked against the
    plugins' parameters; None for a study without ``[study.sweep]``."""
    if not spec.sweep:
        return None
    return expand(spec.path, spec.sweep, spec.variants, lambda kind, name: app.host.component_info(kind, name)[1],
                  spec.fixed)


def study_of(app: App, study: str) -> StudySpec:
    """A study by name (from the task folders) or by the path of its file."""
    catalog = app.catalog
    path = Path(study) if study.endswith(".toml") or Path(study).is_file() else catalog.study_files.get(study)
    if path is None:
        raise UnknownNameError("study", study, catalog.study_files, note=catalog.unreadable_note())
    return load_study(path, app.variants())
