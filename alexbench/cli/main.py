"""The ``alexbench`` command line."""

from __future__ import annotations

import dataclasses
import json
import os
import shlex
import sys
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from alexbench import __version__
from alexbench.cli.augment import augment as augment_command
from alexbench.cli.augment import setup_data as setup_data_command
from alexbench.cli.errors import reports_errors
from alexbench.cli.explain import explain as explain_command
from alexbench.cli.newplugin import new_plugin as new_plugin_command
from alexbench.config.overrides import Override, apply_overrides
from alexbench.config.studies import StudySpec, load_study
from alexbench.config.tasks import Reference, TaskCatalog, TaskSpec, default_data_root, load_task, validate_metric
from alexbench.config.variants import ComponentSpec, VariantCatalog, VariantSpec
from alexbench.data.splits import load_dataset
from alexbench.errors import EXIT_FAILURE, AlexbenchError, FailureError, RunError, StorageError, UnknownNameError
from alexbench.fsio import atomic_write_text
from alexbench.plugin.host import TRACE_ENV, PluginHost
from alexbench.report import leaderboard as lb
from alexbench.report.htmlpage import write_html
from alexbench.report.latex import to_latex
from alexbench.run.executors import Job, make_executor
from alexbench.run.provenance import device_problem, seed_problem, select_device
from alexbench.run.runner import Runner
from alexbench.run.store import DamagedRunError, ResultsStore, StoredRun, safe_part
from alexbench.scoring.rescore import rescore as rescore_run
from alexbench.scoring.submission import score_files, scores_txt, write_submission

# Piped output (CI logs, files) gets a wide table rather than rich's 80-column default.
out = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, soft_wrap=True, width=None if sys.stderr.isatty() else 160)


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
        assert self._host is not None
        for broken in self._host.broken:
            if (broken.name, broken.error) in self._warned:
                continue
            self._warned.add((broken.name, broken.error))
            err.print("[yellow]warning:[/] " + escape(f"plugin {broken.name!r} ({broken.distribution or '?'}) "
                                                       f"left out: {broken.error}"), highlight=False)
            if self._host.trace and broken.traceback:
                err.print(Text(broken.traceback.rstrip(), style="dim"), highlight=False)

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


def _parse_seeds(_ctx: click.Context | None, _param: click.Parameter | None, text: str) -> list[int]:
    """``--seeds``: whole numbers and ranges, ``1,2,3`` or ``1-5`` or ``0,10-12``."""
    example = "give whole numbers from 0, e.g. 1,2,3 or 1-5"
    seeds: list[int] = []
    for part in (p.strip() for p in text.split(",")):
        lo, dash, hi = part.partition("-")
        if not lo.isdigit() or (dash and not hi.isdigit()):
            raise click.BadParameter(f"{part!r} is not a seed or a range of seeds; {example}")
        if dash and int(hi) < int(lo):
            raise click.BadParameter(f"{part!r} is an empty range; {example}")
        for seed in range(int(lo), int(hi or lo) + 1):
            problem = seed_problem(seed)
            if problem:
                raise click.BadParameter(problem)
            if seed in seeds:
                raise click.BadParameter(f"seed {seed} is given twice")
            seeds.append(seed)
    return seeds


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


def _device_option(fn: Any) -> Any:
    return click.option("--device", default="auto", show_default=True, callback=_check_device,
                        help="auto (CUDA when present), cpu, cuda or cuda:N.")(fn)


def _store_options(fn: Any) -> Any:
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


@click.group()
@click.version_option(__version__, prog_name="alexbench")
@click.option("--data-root", type=click.Path(path_type=Path), default=None,
              help="Folder holding the tasks' data folders ({data_root} in task files). Env: ALEXBENCH_DATA_ROOT.")
@click.option("--results", type=click.Path(path_type=Path), default=None,
              help="Results store folder (default ./results). Env: ALEXBENCH_RESULTS.")
@click.pass_context
@reports_errors
def cli(ctx: click.Context, data_root: Path | None, results: Path | None) -> None:
    """Benchmark augmenters, classifiers and LLM explainers on SMM4H-style tasks."""
    ctx.obj = App(data_root, results)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
@reports_errors
def plugins(app: App, as_json: bool) -> None:
    """List plugins and the augmenters, classifiers, explainers and metrics they register."""
    host = app.host
    # Versions and parameters first: a component whose Params break the rules leaves its plugin
    # out (listed under broken), so the rows are made from what is left afterwards. A lazy entry
    # that declared its Params and version is read without importing its module (no torch).
    described: dict[tuple[str, str], Any] = {}
    for kind in ("augmenter", "classifier", "explainer"):
        for entry in list(host.registry(kind)):
            try:
                version, params_class = host.component_info(kind, entry.name)
                described[kind, entry.name] = {"version": version, "params": _jsonable(
                    dataclasses.asdict(params_class()))}
            except AlexbenchError as exc:
                described[kind, entry.name] = {"version": None, "params": None, "error": str(exc)}
    app.warn_broken()
    dist = {p.name: p for p in host.plugins()}
    rows: list[dict[str, Any]] = []
    for kind in ("augmenter", "classifier", "explainer", "metric"):
        for entry in host.registry(kind):
            info = dist.get(entry.plugin or "")
            row: dict[str, Any] = {"kind": kind, "name": entry.name, "plugin": entry.plugin,
                                   "distribution": info.distribution if info else None,
                                   "description": entry.description}
            if kind != "metric":
                row.update(described[kind, entry.name])
            rows.append(row)
    broken = [{"name": b.name, "distribution": b.distribution, "error": b.error, "where": b.where,
               "traceback": b.traceback} for b in host.broken]
    if as_json:
        click.echo(json.dumps({"entries": rows, "broken": broken,
                               "plugins": [p.__dict__ for p in host.plugins()]}, indent=2, default=str))
        return
    table = Table(title="alexbench plugins")
    for head in ("kind", "name", "version", "plugin (distribution)", "parameters"):
        table.add_column(head)
    for row in rows:
        params = row.get("params")
        ptext = (Text(", ".join(f"{k}={v!r}" for k, v in params.items())) if params
                 else Text(row.get("error") or "", style="red"))
        table.add_row(row["kind"], Text(row["name"]), Text(row.get("version") or ""),
                      Text(f"{row['plugin']} ({row['distribution'] or '-'})"), ptext)
    out.print(table)
    for b in host.broken:
        out.print("[red]broken plugin[/] " + escape(f"{b.name} ({b.distribution or '?'}): {b.error}"), highlight=False)
    if host.broken and not host.trace:
        out.print(f"[dim]{TRACE_ENV}=1 shows the traceback of each broken plugin[/]", highlight=False)


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


@cli.command()
@_store_options
@click.pass_obj
@reports_errors
def tasks(app: App) -> None:
    """List the task definitions and whether their data is in place."""
    catalog = app.catalog
    table = Table(title="alexbench tasks")
    for head in ("name", "title", "labels", "official metric", "data"):
        table.add_column(head)
    for name in catalog.names():
        task = catalog.load(name)
        missing = [s for s, spec in task.splits.items() if spec.file and not task.split_path(s).is_file()]
        status = Text("ready", style="green") if not missing else Text(f"missing in {task.data_dir}", style="yellow")
        table.add_row(Text(name), Text(task.title), Text("/".join(task.labels)), Text(task.official_metric), status)
    out.print(table)


@cli.command()
@click.pass_obj
@reports_errors
def variants(app: App) -> None:
    """List the named variants."""
    catalog = app.variants()
    table = Table(title="alexbench variants")
    for head in ("name", "augmenters", "classifier", "explainer", "description"):
        table.add_column(head)
    for name in catalog.names():
        v = catalog.get(name)
        table.add_row(*(Text(cell) for cell in (name, " → ".join(a.name for a in v.augmenters) or "–",
                                                v.classifier.name, v.explainer.name if v.explainer else "–",
                                                v.description)))
    out.print(table)


@cli.command()
@_store_options
@click.argument("task_file", type=click.Path(path_type=Path))
@click.option("--no-data", is_flag=True, help="Check the file only, not the data it points at.")
@click.pass_obj
@reports_errors
def validate(app: App, task_file: Path, no_data: bool) -> None:
    """Check a task file (and, unless --no-data, every row of its data)."""
    task = load_task(task_file, app.data_root)
    validate_metric(task, app.host.metrics.names())
    out.print("[green]ok[/] " + escape(f"{task_file}: task {task.name!r}, labels {list(task.labels)}, "
                                       f"metric {task.official_metric}"))
    for ref in task.references:
        out.print(escape(f"  published: {ref.name} {task.official_metric} {ref.score:g} on {ref.split}"
                         + (f" ({ref.note})" if ref.note else "") + f" — {ref.source}"), highlight=False)
    if not no_data:
        data = load_dataset(task)
        for name, split in data.splits.items():
            r = split.report
            fixes = [f for f, on in (("BOM stripped", r.bom_stripped), (f"{r.crlf_lines} CRLF lines", r.crlf_lines),
                                     (f"{r.skipped_unlabeled} unlabelled rows skipped", r.skipped_unlabeled),
                                     (f"{r.renamed_duplicate_ids} duplicate ids renamed", r.renamed_duplicate_ids),
                                     (f"{r.truncated_long_posts} long posts truncated", r.truncated_long_posts)) if on]
            out.print(escape(f"  {name}: {r.rows} rows {r.label_counts} from {split.source}"
                             + (f" ({'; '.join(fixes)})" if fixes else "")), highlight=False)


def _out_dir(path: Path, option: str = "--out") -> Path:
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


def _build_boards(app: App, task_names: Collection[str] | None, *, baseline: str | None,
                  variants_: Collection[str] | None, seeds: Collection[int] | None,
                  n_boot: int) -> tuple[list[lb.Leaderboard], int]:
    """The leaderboards of ``task_names`` (all when None), and how many of their stored runs are
    damaged (each left out with a warning naming the file and the repair)."""
    folders = None if task_names is None else {safe_part(name) for name in task_names}
    damaged = 0

    def left_out(run: StoredRun, exc: DamagedRunError) -> None:
        nonlocal damaged
        if folders is None or run.path.parent.parent.name in folders:  # runs/<task>/<variant>/<run>
            damaged += 1
            err.print(f"[yellow]warning:[/] left out of the leaderboard: {escape(str(exc))}", highlight=False)

    boards = lb.build(app.store(), baseline=baseline, variants=variants_, seeds=seeds, metrics=app.host.metrics,
                      n_boot=n_boot, on_damaged=left_out)
    boards = [b for b in boards if task_names is None or b.task in task_names]
    for board in boards:
        board.references = _published(app, board)
    return boards, damaged


def _published(app: App, board: lb.Leaderboard) -> list[Reference]:
    """The task file's published results (``[[references]]``): from the task of that name, or the
    file its runs were made from; none when neither can be read (a leaderboard never fails for it)."""
    task_file = None
    for row in board.rows:
        if row.runs:
            try:
                task_file = row.runs[0].provenance().get("task_file")
            except DamagedRunError:
                continue
            break
    try:
        return list(app.catalog.for_run(board.task, task_file).references)
    except AlexbenchError:
        return []


def _print_boards(boards: Sequence[lb.Leaderboard], fmt: str = "rich") -> None:
    """Print the leaderboards on stdout (notes on stderr); nothing is written to disk."""
    for board in boards:
        for warning in board.warnings:  # stderr, whatever the format: a table of rows that do not compare
            err.print(f"[yellow]warning:[/] {escape(board.task)}: {escape(warning)}", highlight=False)
        if fmt == "rich":
            lb.print_rich(out, board)
            for note in board.notes:
                err.print(f"[yellow]note:[/] {escape(note)}", highlight=False)
        elif fmt == "markdown":
            click.echo(lb.to_markdown(board))
        elif fmt == "json":
            click.echo(json.dumps(board.to_dict(), indent=2, sort_keys=True))
        elif fmt == "latex":
            click.echo(to_latex(board), nl=False)
        else:
            click.echo(lb.to_csv(board), nl=False)
    ranks = lb.ranking(list(boards))
    if ranks and fmt == "rich":
        table = Table(title=f"ranking across {len(boards)} tasks")
        for head in ("variant", "mean rank", "win rate"):
            table.add_column(head)
        for r in ranks:
            table.add_row(Text(r["variant"]), f"{r['mean_rank']:.2f}", f"{r['win_rate']:.2f}")
        out.print(table)


def _write_boards(boards: Sequence[lb.Leaderboard], out_dir: Path, *, again: str, plots: bool = True) -> None:
    """Write Markdown, JSON, CSV, LaTeX, PNG plots per task and one self-contained HTML page
    (index.html) into ``out_dir``. A disk that fails now is a failure of the work (exit 1); the
    runs are stored, and ``again`` says how to write the leaderboards later."""
    try:
        for board in boards:
            paths = lb.write(board, out_dir)
            paths.append(out_dir / f"{board.task}.tex")
            atomic_write_text(paths[-1], to_latex(board))
            if plots:
                from alexbench.report.plots import write_plots  # matplotlib: imported only when plotting

                paths += write_plots(board, out_dir)
            err.print(escape(f"written: {', '.join(str(p) for p in paths)}"), highlight=False)
        if boards:
            page = write_html(boards, out_dir / "index.html")
            err.print(escape(f"written: {page}"), highlight=False)
    except OSError as exc:
        raise FailureError(f"cannot write the leaderboards to {out_dir}: {exc.strerror or exc}; the runs are stored: "
                           f"{again}") from exc


def _run_grid(app: App, task_names: Sequence[str], variants_: Sequence[VariantSpec], seeds: Sequence[int],
              *, force: bool, progress: bool, device: str, out_dir: Path | None, again: str,
              baseline: str | None = None, n_boot: int = 1000, executor: str = "local", workers: int = 1,
              address: str | None = None) -> int:
    """Run every task × variant × seed, print their leaderboards and, when ``out_dir`` is given,
    write them there. Returns the exit code (1 when a run failed)."""
    catalog, store = app.catalog, app.store()
    runner = Runner(app.host, store, console=err, show_progress=progress, device=device)
    tasks_ = [catalog.load(name) for name in task_names]
    for task in tasks_:
        validate_metric(task, app.host.metrics.names())
        task.check_data()
        runner.dataset(task)  # every row is checked before any run (a bad or empty split is the input's fault)
    for variant in variants_:  # parameter errors are configuration errors: report them before any work
        runner.build(variant)
    if out_dir is not None:
        _out_dir(out_dir)
    total = len(tasks_) * len(variants_) * len(seeds)
    if executor != "local" or workers > 1:
        failures = _run_jobs(app, tasks_, variants_, seeds, force=force, device=device, executor=executor,
                             workers=workers, address=address, progress=progress)
    else:
        failures = _run_in_process(runner, tasks_, variants_, seeds, force=force)
    boards, _ = _build_boards(app, {t.name for t in tasks_}, baseline=baseline, variants_=[v.name for v in variants_],
                              seeds=seeds, n_boot=n_boot)  # a damaged run of the grid is one of its failures
    _print_boards(boards)
    if out_dir is not None:
        _write_boards(boards, out_dir, again=again)
    if failures:
        err.print(f"[red]{failures} of {total} runs failed[/]; errors are in {escape(str(store.root / 'failed'))}")
    return 1 if failures else 0


def _dry_run(app: App, task_names: Sequence[str], variants_: Sequence[VariantSpec], seeds: Sequence[int], *,
            as_json: bool = False) -> None:
    """``grid --dry-run``: the explainers' plans (alexbench/run/dryrun.py), one row per run, then totals."""
    from alexbench.run.dryrun import plan_grid

    runner = Runner(app.host, app.store(), console=err, show_progress=False)
    tasks_ = [app.catalog.load(name) for name in task_names]
    for task in tasks_:
        validate_metric(task, app.host.metrics.names())
        task.check_data()
    planned = plan_grid(runner, tasks_, variants_, seeds)
    if as_json:
        click.echo(json.dumps({"dry_run": True, "runs": [p.to_dict() for p in planned]}, indent=2))
        return
    if not planned:
        out.print("no variant of this study has an explainer: nothing would be sent to an LLM")
        return

    def num(value: Any, money: bool = False) -> str:
        if value is None:
            return "?"
        return f"{value:.4f}" if money else f"{value:,}"

    table = Table(title=Text("dry run: what each explainer would send (nothing was sent)"), title_justify="left")
    for head in ("task", "variant", "seed", "model", "predictions", "posts", "in cache", "to send", "calls ≤",
                 "prompt tokens", "completion tokens ≤", "cost USD ≤"):
        table.add_column(Text(head), overflow="fold",
                         justify="left" if head in ("task", "variant", "model", "predictions") else "right")
    totals: dict[str, list[Any]] = {}
    notes: dict[str, None] = {}
    for row in planned:
        p = row.plan
        if p is None:
            table.add_row(Text(row.task), Text(row.variant), str(row.seed), "", Text(f"reused run {row.run_id}"),
                          "", "", "0", "0", "", "", "0.0000")
            continue
        basis = "gold (estimate)" if row.basis.startswith("estimate") else row.basis.replace(
            "classifier predictions of run ", "run ")
        if p.note:
            notes[f"{p.model}: {p.note}"] = None
        table.add_row(Text(row.task), Text(row.variant), str(row.seed), Text(p.model), Text(basis), num(p.posts),
                      num(p.cached), num(p.to_send), num(p.calls), num(p.prompt_tokens), num(p.completion_tokens_max),
                      num(p.cost_usd_max, money=True))
        t = totals.setdefault(p.model, [0, 0, 0, 0, 0.0])
        t[0] += p.to_send
        t[1] = None if t[1] is None or p.prompt_tokens is None else t[1] + p.prompt_tokens
        t[2] = None if t[2] is None or p.completion_tokens_max is None else t[2] + p.completion_tokens_max
        t[3] += p.cached
        t[4] = None if t[4] is None or p.cost_usd_max is None else t[4] + p.cost_usd_max
    lb.print_table(out, table)
    legend = ["predictions: the classifier's, from a stored run of the same classifier, task, data and seed; "
              "'gold (estimate)': it has not run yet, the gold labels stand in for its predictions",
              "≤: upper bounds (every reply as long as max_tokens); cost from litellm's price map"]
    for line in [*legend, *notes]:
        out.print(escape(line), style="dim", highlight=False)
    for model, (to_send, prompt, completion, cached, cost) in totals.items():
        out.print(escape(f"{model}: {to_send:,} posts to send ({cached:,} already cached), prompt tokens "
                         f"{num(prompt)}, completion tokens ≤ {num(completion)}, cost ≤ "
                         f"{'unknown (not in litellm’s price map)' if cost is None else f'${cost:.4f}'}"),
                  highlight=False)


def _run_jobs(app: App, tasks_: Sequence[TaskSpec], variants_: Sequence[VariantSpec], seeds: Sequence[int], *,
              force: bool, device: str, executor: str, workers: int, address: str | None,
              progress: bool = True) -> int:
    """Fan the grid out through an executor (a process pool or Ray); every worker writes to the
    same results store, so the leaderboard afterwards reads them all."""
    data_root = str((app.data_root or default_data_root()).resolve())
    results = str(app.store().root.resolve())
    jobs = [Job(str(task.path), data_root, variant.to_dict(), seed, results, device, force, progress)
            for task in tasks_ for variant in variants_ for seed in seeds]
    failures = 0
    for done, result in enumerate(make_executor(executor, workers, address).map(jobs), start=1):
        label = f"[{done}/{len(jobs)}] {result.task} · {result.job.variant['name']} · seed {result.job.seed}"
        if result.ok:
            state = "reused" if result.reused else "done"
            err.print(f"[green]✓[/] {escape(label)}: {state}, test = {result.official:.4f}  "
                      f"[dim]{escape(str(result.run_path))}[/]",
                      highlight=False)
        else:
            failures += 1
            err.print(f"[red]✗[/] {escape(label)}: {escape((result.error or '').splitlines()[0])}", highlight=False)
            if result.fatal:
                raise StorageError(result.error or "the results store cannot be written")
    return failures


def _run_in_process(runner: Runner, tasks_: Sequence[TaskSpec], variants_: Sequence[VariantSpec],
                    seeds: Sequence[int], *, force: bool) -> int:
    total = len(tasks_) * len(variants_) * len(seeds)
    done = failures = 0
    for task in tasks_:
        for variant in variants_:
            for seed in seeds:
                done += 1
                label = f"[{done}/{total}] {task.name} · {variant.name} · seed {seed}"
                try:
                    outcome = runner.run(task, variant, seed, force=force)
                except RunError as exc:
                    failures += 1
                    err.print(f"[red]✗[/] {escape(label)}: {escape(str(exc))}", highlight=False)
                    continue
                metrics = outcome.run.metrics() if outcome.run else {}
                value = metrics.get("test", {}).get("official", {}).get("value")
                state = "reused" if outcome.reused else "done"
                err.print(f"[green]✓[/] {escape(label)}: {state}, test {escape(task.official_metric)} = {value:.4f}  "
                          f"[dim]{escape(str(outcome.run.path) if outcome.run else '')}[/]", highlight=False)
    return failures


@cli.command()
@_store_options
@click.option("--task", "-t", "task_names", multiple=True, required=True, help="Task name or task file (repeatable).")
@click.option("--variant", "-v", "variant_names", multiple=True,
              help="Named variant, or a variants file (*.toml: all its variants) (repeatable).")
@click.option("--classifier", help="Ad-hoc variant: classifier name (instead of --variant).")
@click.option("--augmenter", "augmenter_names", multiple=True, help="Ad-hoc variant: augmenter chain (repeatable).")
@click.option("--explainer", help="Ad-hoc variant: explainer name.")
@click.option("--param", "-p", "param_texts", multiple=True, metavar="COMPONENT.KEY=VALUE",
              help="A parameter for this run (repeatable). COMPONENT: classifier, explainer, augmenter "
                   "(augmenter1, augmenter2… in a chain) or a component's name; VALUE: a TOML value (10, 0.5, "
                   "true, [1, 2]); a string parameter takes the text as typed. The variant is renamed "
                   "NAME[COMPONENT.KEY=VALUE].")
@click.option("--seeds", default="0", show_default=True, callback=_parse_seeds,
              help="Seeds: whole numbers from 0, e.g. 1,2,3 or 1-5.")
@_device_option
@click.option("--force", is_flag=True, help="Recompute even if a finished run exists.")
@click.option("--no-progress", is_flag=True, help="No progress bars.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Also write the leaderboards here (Markdown, JSON, CSV, LaTeX, plots, index.html).")
@click.pass_obj
@reports_errors
def run(app: App, task_names: tuple[str, ...], variant_names: tuple[str, ...], classifier: str | None,
        augmenter_names: tuple[str, ...], explainer: str | None, param_texts: tuple[str, ...], seeds: list[int],
        device: str, force: bool, no_progress: bool, out_dir: Path | None) -> None:
    """Run task × variant × seed and print their leaderboard (written only with --out)."""
    overrides = [Override.parse(text) for text in param_texts]
    chosen = [variant for ref in variant_names for variant in _variants_of(app, ref)]
    if classifier:
        adhoc_name = "+".join([*augmenter_names, classifier, *([explainer] if explainer else [])])
        chosen.append(VariantSpec(adhoc_name, ComponentSpec(classifier), tuple(ComponentSpec(a) for a in augmenter_names),
                                  ComponentSpec(explainer) if explainer else None, "ad-hoc variant from the command line"))
    if not chosen:
        raise click.UsageError("give --variant NAME (see 'alexbench variants') or --classifier NAME")
    if overrides:
        chosen = apply_overrides(chosen, overrides,
                                 lambda kind, name: app.host.component_info(kind, name)[1])
    again = ("write the leaderboards later with 'alexbench leaderboard "
             + " ".join(f"-t {shlex.quote(name)}" for name in task_names) + f" --out {shlex.quote(str(out_dir))}'")
    sys.exit(_run_grid(app, task_names, chosen, seeds, force=force, progress=not no_progress,
                       device=device, out_dir=out_dir, again=again))


@cli.command()
@_store_options
@click.argument("study")
@_device_option
@click.option("--force", is_flag=True)
@click.option("--no-progress", is_flag=True)
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Where to write the study's leaderboards.  [default: leaderboards/<study name>]")
@click.option("--bootstrap", "n_boot", default=1000, show_default=True, help="Bootstrap resamples for significance.")
@click.option("--executor", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="local: this process (or a process pool with --workers); ray: a Ray cluster.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Parallel runs (local pool size / Ray CPUs).")
@click.option("--ray-address", "address", default=None, help="Ray cluster address (default: start a local Ray).")
@click.option("--dry-run", is_flag=True, help="Send nothing, run nothing: per explainer, the posts it would send, "
              "tokens and cost (upper bound), and what its cache already holds.")
@click.option("--json", "as_json", is_flag=True, help="With --dry-run: print the plan as JSON.")
@click.pass_obj
@reports_errors
def grid(app: App, study: str, device: str, force: bool, no_progress: bool, out_dir: Path | None, n_boot: int,
         executor: str, workers: int, address: str | None, dry_run: bool, as_json: bool) -> None:
    """Run every task × variant × seed of a study (a name or a study file), print its leaderboards
    and write them to leaderboards/<study name>/ (or --out)."""
    spec = _study(app, study)
    if dry_run:
        _dry_run(app, spec.tasks, spec.variants, spec.seeds, as_json=as_json)
        return
    if as_json:
        raise click.UsageError("--json goes with --dry-run")
    out_dir = out_dir if out_dir is not None else Path("leaderboards") / spec.name
    again = f"write the leaderboards later with 'alexbench leaderboard --study {shlex.quote(study)} --out {shlex.quote(str(out_dir))}'"
    sys.exit(_run_grid(app, spec.tasks, spec.variants, spec.seeds, force=force, progress=not no_progress,
                       device=device, out_dir=out_dir, again=again, baseline=spec.baseline, n_boot=n_boot,
                       executor=executor, workers=workers, address=address))


def _variants_of(app: App, ref: str) -> list[VariantSpec]:
    """``-v``: a variant by name, or every variant of a variants file (a path ending in .toml)."""
    if ref.endswith(".toml") or Path(ref).is_file():
        return app.variants().from_file(Path(ref))
    return [app.variants().get(ref)]


def _study(app: App, study: str) -> StudySpec:
    """A study by name (from the task folders) or by the path of its file."""
    catalog = app.catalog
    path = Path(study) if study.endswith(".toml") or Path(study).is_file() else catalog.study_files.get(study)
    if path is None:
        raise UnknownNameError("study", study, catalog.study_files, note=catalog.unreadable_note())
    return load_study(path, app.variants())


@cli.command()
@_store_options
@click.option("--no-progress", is_flag=True)
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Where to write the leaderboards.  [default: leaderboards/demo]")
@click.pass_context
@reports_errors
def demo(ctx: click.Context, no_progress: bool, out_dir: Path | None) -> None:
    """The default job: the 'demo' study (built in: alexbench_tasks/studies/demo.toml) on the demo
    task; prints its leaderboard and writes it to leaderboards/demo/."""
    ctx.invoke(grid, study="demo", no_progress=no_progress, out_dir=out_dir)


@cli.command()
@_store_options
@click.option("--task", "-t", "task_refs", multiple=True, help="Only this task: a name or a task file (repeatable).")
@click.option("--study", "-s", default=None,
              help="Only this study's tasks, variants and seeds, compared with its baseline (a name or a study file).")
@click.option("--baseline", "-b", default=None, help="Variant to compare every other variant with (Δ, significance).")
@click.option("--bootstrap", "n_boot", default=1000, show_default=True, help="Bootstrap resamples for significance.")
@click.option("--format", "fmt", type=click.Choice(["rich", "markdown", "json", "csv", "latex"]), default="rich",
              show_default=True)
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Also write Markdown, JSON, CSV, LaTeX, PNG plots and index.html here (nothing is written without it).")
@click.pass_obj
@reports_errors
def leaderboard(app: App, task_refs: tuple[str, ...], study: str | None, baseline: str | None, n_boot: int, fmt: str,
                out_dir: Path | None) -> None:
    """Show the leaderboard(s) of finished runs: mean ± std over seeds, Δ and significance vs a
    baseline. Prints only; --out also writes them. 'leaderboard --study S --out DIR' renders a
    study exactly as 'grid S' does."""
    names = {_task_name(ref) for ref in task_refs} or None
    variants_: list[str] | None = None
    seeds: tuple[int, ...] | None = None
    if study is not None:
        spec = _study(app, study)
        study_tasks = {_task_name(ref, app.catalog) for ref in spec.tasks}
        names = study_tasks if names is None else names & study_tasks
        variants_, seeds = [v.name for v in spec.variants], spec.seeds
        baseline = baseline or spec.baseline
    if out_dir is not None:
        _out_dir(out_dir)
    boards, damaged = _build_boards(app, names, baseline=baseline, variants_=variants_, seeds=seeds, n_boot=n_boot)
    if not boards and damaged:
        raise FailureError(f"every stored run{' of ' + ', '.join(sorted(names)) if names else ''} is damaged (see above)")
    if not boards:
        raise AlexbenchError(f"no finished runs under {app.store().root}" + (f" for task(s) {sorted(names)}" if names else "")
                             + (f" of study {study!r}" if study else ""))
    _print_boards(boards, fmt)
    if out_dir is not None:
        _write_boards(boards, out_dir, again="free space, then run this command again")
    if damaged:
        err.print(f"[red]{damaged} stored run(s) left out[/]: they are damaged (see the warnings above)")
        sys.exit(EXIT_FAILURE)


def _task_name(ref: str, catalog: TaskCatalog | None = None) -> str:
    """The task name of ``ref``: a task file's [task] name, else ``ref`` itself (runs of a task
    given by path are stored under its name, which need not be in the catalogue)."""
    if ref.endswith(".toml") or Path(ref).is_file():
        return load_task(Path(ref)).name
    return catalog.load(ref).name if catalog is not None else ref


@cli.command()
@_store_options
@click.option("--run", "run_ref", required=True, help="Run folder or (a prefix of) its hash.")
@click.option("--task", "-t", "task_ref", default=None,
              help="The run's task (name or task file); default: by name, else the task file the run recorded.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("submissions"), show_default=True)
@click.pass_obj
@reports_errors
def submit(app: App, run_ref: str, task_ref: str | None, out_dir: Path) -> None:
    """Write a run's test predictions as the task's SMM4H submission file (zipped, no folder)."""
    run_ = app.store().get(run_ref)
    task = app.catalog.for_run(run_.spec().task.name, run_.provenance().get("task_file"), task_ref)
    _out_dir(out_dir)
    path = write_submission(run_, task, out_dir / run_.spec().task.name / run_.path.name)
    out.print(escape(f"written: {path}"), highlight=False)


@cli.command()
@_store_options
@click.argument("codalab_dirs", nargs=-1, type=click.Path(path_type=Path))
@click.option("--task", "-t", "task_name", required=True, help="Task name or task file.")
@click.option("--gold", type=click.Path(path_type=Path), help="Gold file in the task's test-split format.")
@click.option("--pred", type=click.Path(path_type=Path), help="Submission file (or zip).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
@reports_errors
def score(app: App, codalab_dirs: tuple[Path, ...], task_name: str, gold: Path | None, pred: Path | None,
          as_json: bool) -> None:
    """Score a submission: --gold GOLD --pred PRED, or CodaLab style: score INPUT_DIR OUTPUT_DIR
    (INPUT_DIR/ref holds the gold file, INPUT_DIR/res the submission; writes OUTPUT_DIR/scores.txt)."""
    task = app.catalog.load(task_name)
    output_dir = None
    if codalab_dirs:
        if len(codalab_dirs) != 2 or gold or pred:
            raise click.UsageError("give either INPUT_DIR OUTPUT_DIR, or --gold and --pred")
        input_dir, output_dir = codalab_dirs
        gold = _single_file(input_dir / "ref", task.splits["test"].file)
        pred = _single_file(input_dir / "res", task.submission.file if task.submission else None)
    if gold is None or pred is None:
        raise click.UsageError("give --gold and --pred (or INPUT_DIR OUTPUT_DIR)")
    result = score_files(task, gold, pred, app.host.metrics)
    text = scores_txt(result)
    if output_dir is not None:
        atomic_write_text(_out_dir(output_dir, "OUTPUT_DIR") / "scores.txt", text)
    click.echo(json.dumps(result, indent=2, sort_keys=True) if as_json else text, nl=False)


def _single_file(folder: Path, preferred: str | None) -> Path:
    if preferred and (folder / preferred).is_file():
        return folder / preferred
    files = sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []
    if len(files) != 1:
        raise AlexbenchError(f"{folder}: expected {preferred or 'one file'}, found {[f.name for f in files]}")
    return files[0]


@cli.command()
@_store_options
@click.option("--run", "run_ref", default=None, help="Only this run (folder or hash prefix).")
@click.option("--write", is_flag=True, help="Replace metrics.json where the recomputed metrics differ.")
@click.pass_obj
@reports_errors
def rescore(app: App, run_ref: str | None, write: bool) -> None:
    """Recompute every run's metrics from its stored predictions alone, and report differences.
    Exit 1 when a run differs (or is damaged) and was not rewritten, or cannot be recomputed;
    --write replaces metrics.json where it differs or is damaged."""
    store = app.store()
    runs = [store.get(run_ref)] if run_ref else list(store.runs())
    changed = failed = 0
    for run_ in runs:
        try:
            run_.metrics()
            damage = ""
        except DamagedRunError as exc:
            damage = f" (stored metrics damaged: {exc})"
        try:
            unchanged, new = rescore_run(run_, app.host.metrics, write=write)
        except AlexbenchError as exc:  # the predictions or the spec are damaged: nothing to recompute from
            failed += 1
            err.print(f"[red]cannot rescore[/] {escape(str(run_.path))}: {escape(str(exc))}", highlight=False)
            continue
        if not unchanged:
            changed += 1
            verb = "rewritten" if write else "differs"
            err.print(f"[yellow]{verb}[/] {escape(str(run_.path))}: test {new['test']['official']['name']} = "
                      f"{new['test']['official']['value']:.4f}{escape(damage)}", highlight=False)
    out.print(f"{len(runs)} runs rescored, {changed} differ from their stored metrics"
              + (" (rewritten)" if write and changed else "") + (f", {failed} cannot be rescored" if failed else ""))
    if failed or (changed and not write):
        sys.exit(EXIT_FAILURE)


# Commands that live in their own modules (one responsibility each).
for _command in (augment_command, setup_data_command, explain_command, new_plugin_command):
    cli.add_command(_command)


def main(argv: Sequence[str] | None = None) -> None:
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="alexbench", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        err.print("aborted")
        sys.exit(130)
    except AlexbenchError as exc:  # raised outside a command (the group's own options)
        err.print(f"[red]error:[/] {escape(str(exc))}", highlight=False)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
