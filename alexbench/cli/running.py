"""``alexbench run | grid | demo``: running task × variant × seed (in this process, a process pool
or Ray), the dry run of a grid's explainers, then the leaderboards."""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from alexbench.cli.app import (
    App,
    device_option,
    err,
    out,
    parse_seeds,
    store_options,
    study_of,
    study_plan,
    variants_of,
    writable_dir,
)
from alexbench.cli.boards import build_boards, print_boards, write_boards
from alexbench.cli.errors import reports_errors
from alexbench.config.overrides import Override, apply_overrides
from alexbench.config.sweeps import Cell, SweepPlan, validate_values
from alexbench.config.tasks import TaskSpec, default_data_root, validate_metric
from alexbench.config.variants import ComponentSpec, VariantSpec
from alexbench.data.transforms import check_points
from alexbench.errors import RunError, StorageError
from alexbench.report import leaderboard as lb
from alexbench.run.claims import RunBusy
from alexbench.run.executors import Job, make_executor
from alexbench.run.guards import check_supported
from alexbench.run.runner import Runner
from alexbench.safetext import rich_text
from alexbench.scoring.metrics import check_official


def _run_grid(app: App, task_names: Sequence[str], cells: Sequence[Cell], seeds: Sequence[int],
              *, force: bool, progress: bool, device: str, out_dir: Path | None, again: str,
              baseline: str | None = None, n_boot: int = 1000, executor: str = "local", workers: int = 1,
              address: str | None = None, plan: SweepPlan | None = None, study_path: Path | None = None) -> int:
    """Run every task × cell (a variant, at a sweep point when the study has a sweep) × seed,
    print their leaderboards and, when ``out_dir`` is given, write them there. Returns the exit
    code (1 when a run failed)."""
    catalog, store = app.catalog, app.store()
    runner = Runner(app.host, store, console=err, show_progress=progress, device=device)
    tasks_ = [catalog.load(name) for name in task_names]
    for task in tasks_:
        validate_metric(task, app.host.metrics.names())
        check_official(task, app.host.metrics)
        task.check_data()
        runner.dataset(task)  # every row is checked before any run (a bad or empty split is the input's fault)
    if plan is not None:  # a sweep's points must fit every task's data before any run
        check_points(study_path, plan.axes, [(task, runner.dataset(task)) for task in tasks_])
        validate_values(plan, runner.build)
    for cell in cells:  # parameter errors are configuration errors: report them before any work
        parts = runner.build(cell.variant)
        for task in tasks_:  # so is a component that cannot handle a task (multi-label), or a name too long
            check_supported(task, cell.variant, parts.all())  # to name a folder
            store.check_names(task.name, cell.variant.name)
    if out_dir is not None:
        writable_dir(out_dir)
    total = len(tasks_) * len(cells) * len(seeds)
    if executor != "local" or workers > 1:
        failures = _run_jobs(app, tasks_, cells, seeds, force=force, device=device, executor=executor,
                             workers=workers, address=address, progress=progress)
    else:
        failures = _run_in_process(runner, tasks_, cells, seeds, force=force)
    boards, _ = build_boards(app, {t.name for t in tasks_}, baseline=baseline,
                             variants_=[c.variant.name for c in cells], seeds=seeds, n_boot=n_boot,
                             plan=plan)  # a damaged run of the grid is one of its failures
    print_boards(boards)
    if out_dir is not None:
        write_boards(boards, out_dir, again=again)
    if failures:
        err.print(f"[red]{failures} of {total} runs failed[/]; errors are in {escape(str(store.root / 'failed'))}")
    return 1 if failures else 0


def _dry_run(app: App, task_names: Sequence[str], cells: Sequence[Cell], seeds: Sequence[int], *,
            as_json: bool = False) -> None:
    """``grid --dry-run``: the explainers' plans (alexbench/run/dryrun.py), one row per run, then totals."""
    from alexbench.run.dryrun import plan_grid

    runner = Runner(app.host, app.store(), console=err, show_progress=False)
    tasks_ = [app.catalog.load(name) for name in task_names]
    for task in tasks_:
        validate_metric(task, app.host.metrics.names())
        check_official(task, app.host.metrics)
        task.check_data()
    planned = plan_grid(runner, tasks_, cells, seeds)
    if as_json:
        click.echo(json.dumps({"dry_run": True, "runs": [p.to_dict() for p in planned]}, indent=2))
        return
    if not planned:
        out.print("no variant of this study has an explainer or an LLM classifier: nothing would be sent to an LLM")
        return

    def num(value: Any, money: bool = False) -> str:
        if value is None:
            return "?"
        return f"{value:.4f}" if money else f"{value:,}"

    table = Table(title=Text("dry run: what each explainer or LLM classifier would send (nothing was sent)"),
                  title_justify="left")
    for head in ("task", "variant", "seed", "stage", "model", "predictions", "posts", "in cache", "to send", "calls ≤",
                 "prompt tokens", "completion tokens ≤", "cost USD ≤"):
        table.add_column(rich_text(head), overflow="fold",
                         justify="left" if head in ("task", "variant", "stage", "model", "predictions") else "right")
    totals: dict[str, list[Any]] = {}
    notes: dict[str, None] = {}
    for row in planned:
        p = row.plan
        if p is None:
            what = f"reused run {row.run_id}" if row.reused else "its explainer cannot tell (no plan)"
            table.add_row(rich_text(row.task), rich_text(row.variant), str(row.seed), rich_text(row.component), "",
                          rich_text(what),
                          "", "", "0" if row.reused else "?", "0" if row.reused else "?", "", "",
                          "0.0000" if row.reused else "?")
            continue
        basis = "gold (estimate)" if row.basis.startswith("estimate") else row.basis.replace(
            "classifier predictions of run ", "run ")
        if p.note:
            notes[f"{p.model}: {p.note}"] = None
        table.add_row(rich_text(row.task), rich_text(row.variant), str(row.seed), rich_text(row.component),
                      rich_text(p.model), rich_text(basis),
                      num(p.posts),
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


def _run_jobs(app: App, tasks_: Sequence[TaskSpec], cells: Sequence[Cell], seeds: Sequence[int], *,
              force: bool, device: str, executor: str, workers: int, address: str | None,
              progress: bool = True) -> int:
    """Fan the grid out through an executor (a process pool or Ray); every worker writes to the
    same results store, so the leaderboard afterwards reads them all."""
    data_root = str((app.data_root or default_data_root()).resolve())
    results = str(app.store().root.resolve())
    jobs = [Job(str(task.path), data_root, cell.variant.to_dict(), seed, results, device, force, progress,
                cell.transform.to_dict() if cell.transform else None)
            for seed in seeds for task in tasks_ for cell in cells]  # seed by seed: see _run_in_process
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


def _run_in_process(runner: Runner, tasks_: Sequence[TaskSpec], cells: Sequence[Cell],
                    seeds: Sequence[int], *, force: bool) -> int:
    """Seed by seed: every task × cell of the first seed, then of the next, so that a long study
    stopped part-way holds whole designs (every task, variant and sweep point) with fewer seeds.
    A run another process is computing (another grid on this store) is left for the end, then
    waited for and reused: grids started together share the work."""
    total = len(tasks_) * len(cells) * len(seeds)
    done = failures = 0
    later: list[tuple[TaskSpec, Cell, int]] = []
    for wait, todo in ((False, [(task, cell, seed) for seed in seeds for task in tasks_ for cell in cells]),
                       (True, later)):
        for task, cell, seed in todo:
            variant = cell.variant
            try:
                outcome = runner.run(task, variant, seed, force=force, transform=cell.transform, wait=wait)
            except RunBusy:
                later.append((task, cell, seed))
                continue
            except RunError as exc:
                done += 1
                failures += 1
                err.print(f"[red]✗[/] {escape(f'[{done}/{total}] {task.name} · {variant.name} · seed {seed}')}: "
                          f"{escape(str(exc))}", highlight=False)
                continue
            done += 1
            label = f"[{done}/{total}] {task.name} · {variant.name} · seed {seed}"
            value = outcome.run.scores().test.official.value if outcome.run else None
            state = "reused" if outcome.reused else "done"
            err.print(f"[green]✓[/] {escape(label)}: {state}, test {escape(task.official_metric)} = {value:.4f}  "
                      f"[dim]{escape(str(outcome.run.path) if outcome.run else '')}[/]", highlight=False)
    return failures


@click.command()
@store_options
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
@click.option("--seeds", default="0", show_default=True, callback=parse_seeds,
              help="Seeds: whole numbers from 0, e.g. 1,2,3 or 1-5 (at most 1000).")
@device_option
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
    chosen = [variant for ref in variant_names for variant in variants_of(app, ref)]
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
    sys.exit(_run_grid(app, task_names, [Cell(v, v.name) for v in chosen], seeds, force=force,
                       progress=not no_progress, device=device, out_dir=out_dir, again=again))


@click.command()
@store_options
@click.argument("study")
@device_option
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
    spec = study_of(app, study)
    plan = study_plan(app, spec)
    if dry_run:
        _dry_run(app, spec.tasks, plan.cells if plan else [Cell(v, v.name) for v in spec.variants], spec.seeds,
                 as_json=as_json)
        return
    if as_json:
        raise click.UsageError("--json goes with --dry-run")
    out_dir = out_dir if out_dir is not None else Path("leaderboards") / spec.name
    again = f"write the leaderboards later with 'alexbench leaderboard --study {shlex.quote(study)} --out {shlex.quote(str(out_dir))}'"
    cells = plan.cells if plan else [Cell(v, v.name) for v in spec.variants]
    sys.exit(_run_grid(app, spec.tasks, cells, spec.seeds, force=force, progress=not no_progress,
                       device=device, out_dir=out_dir, again=again, baseline=spec.baseline, n_boot=n_boot,
                       executor=executor, workers=workers, address=address, plan=plan, study_path=spec.path))


@click.command()
@store_options
@click.option("--no-progress", is_flag=True)
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Where to write the leaderboards.  [default: leaderboards/demo]")
@click.pass_context
@reports_errors
def demo(ctx: click.Context, no_progress: bool, out_dir: Path | None) -> None:
    """The default job: the 'demo' study (built in: alexbench_tasks/studies/demo.toml) on the demo
    task; prints its leaderboard and writes it to leaderboards/demo/."""
    ctx.invoke(grid, study="demo", no_progress=no_progress, out_dir=out_dir)
