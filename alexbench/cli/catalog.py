"""``alexbench plugins | tasks | variants | validate``: what is installed and defined, and whether a
task file and its data are sound."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from pathlib import Path
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from alexbench.cli.app import (
    App,
    out,
    store_options,
)
from alexbench.cli.errors import reports_errors
from alexbench.config.tasks import load_task, validate_metric
from alexbench.config.tomlfile import read_toml
from alexbench.data.splits import load_dataset
from alexbench.errors import AlexbenchError
from alexbench.plugin.host import TRACE_ENV
from alexbench.safetext import rich_text, terminal
from alexbench.scoring.metrics import check_official, higher_is_better
from alexbench.scoring.significance import direction_note


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
@reports_errors
def plugins(app: App, as_json: bool) -> None:
    """List plugins and the augmenters, classifiers, explainers, metrics and leaderboard formats
    (renderers) they register, and which of them handle multi-label tasks (label sets)."""
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
    for entry in list(host.renderers):  # loaded (and checked) first: one that fails leaves its plugin out
        described["renderer", entry.name] = _renderer_info(host, entry.name)
    for kind in ("augmenter", "classifier", "explainer", "metric", "renderer"):
        for entry in host.registry(kind):
            info = dist.get(entry.plugin or "")
            row: dict[str, Any] = {"kind": kind, "name": entry.name, "plugin": entry.plugin,
                                   "distribution": info.distribution if info else None,
                                   "description": entry.description}
            if kind == "renderer":
                row.update(described[kind, entry.name])
            elif kind != "metric":
                row.update(described[kind, entry.name])
                row["multi_label"] = _multi_label(entry)
            else:
                metric = entry.load()
                row.update(multi_label=bool(getattr(metric, "multi_label", False)),
                           higher_is_better=bool(getattr(metric, "higher_is_better", True)))
            rows.append(row)
    broken = [{"name": b.name, "distribution": b.distribution, "error": b.error, "where": b.where,
               "traceback": b.traceback} for b in host.broken]
    if as_json:
        click.echo(json.dumps({"entries": rows, "broken": broken,
                               "plugins": [p.__dict__ for p in host.plugins()]}, indent=2, default=str))
        return
    table = Table(title="alexbench plugins")
    for head in ("kind", "name", "version", "multi-label", "plugin (distribution)", "parameters"):
        table.add_column(head)
    for row in rows:
        params = row.get("params")
        ptext = (rich_text(", ".join(f"{k}={v!r}" for k, v in params.items())) if params
                 else rich_text(row.get("error") or "", "red"))
        if row["kind"] == "metric" and not row["higher_is_better"]:
            ptext = rich_text("lower is better")
        if row["kind"] == "renderer" and "error" not in row:
            ptext = rich_text(_writes(row))
        table.add_row(row["kind"], rich_text(row["name"]), rich_text(row.get("version") or ""),
                      rich_text({True: "yes", False: "no", None: "?"}.get(row.get("multi_label", ""), "–")),
                      rich_text(f"{row['plugin']} ({row['distribution'] or '-'})"), ptext)
    out.print(table)
    out.print("[dim]multi-label: whether a component runs on multi-label tasks (label sets; the host refuses "
              "the others there), whether a metric scores them; ? = registered lazily without saying "
              "(add_lazy(..., multi_label=...))[/]", highlight=False)
    for b in host.broken:
        out.print("[red]broken plugin[/] " + escape(terminal(f"{b.name} ({b.distribution or '?'}): {b.error}")),
                  highlight=False)
    if host.broken and not host.trace:
        out.print(f"[dim]{TRACE_ENV}=1 shows the traceback of each broken plugin[/]", highlight=False)


def _renderer_info(host: Any, name: str) -> dict[str, Any]:
    """A renderer's version and the files ``--out`` writes with it."""
    try:
        renderer = host.renderer(name)
    except AlexbenchError as exc:
        return {"version": None, "error": str(exc)}
    return {"version": renderer.version, "suffix": renderer.suffix, "page": renderer.page}


def _writes(row: dict[str, Any]) -> str:
    """What ``--out`` writes with a renderer, for the listing's last column."""
    files = ([f"<task>{row['suffix']}"] if row["suffix"] else []) + ([row["page"]] if row["page"] else [])
    return f"--format {row['name']}" + (f"; --out writes {' and '.join(files)}" if files else ", prints only")


def _multi_label(entry: Any) -> bool | None:
    """A component's ``multi_label``: declared in ``add_lazy``, or read from its class when that
    is at hand; None for a lazy entry that does not say (its module is not imported to list it)."""
    if entry.multi_label is not None:
        return bool(entry.multi_label)
    if not entry.loaded:
        return None
    return bool(getattr(entry.load(), "multi_label", False))


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


@click.command()
@store_options
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
        status = rich_text("ready", "green") if not missing else rich_text(f"missing in {task.data_dir}", "yellow")
        lower = direction_note(higher_is_better(task.official_metric, app.host.metrics))
        table.add_row(rich_text(name), rich_text(task.title), rich_text("/".join(task.labels)),
                      rich_text(task.official_metric + lower), status)
    out.print(table)


@click.command()
@click.pass_obj
@reports_errors
def variants(app: App) -> None:
    """List the named variants."""
    catalog = app.variant_catalog()
    table = Table(title="alexbench variants")
    for head in ("name", "augmenters", "classifier", "explainer", "description"):
        table.add_column(head)
    for name in catalog.names():
        v = catalog.get(name)
        table.add_row(*(rich_text(cell) for cell in (name, " → ".join(a.name for a in v.augmenters) or "–",
                                                     v.classifier.name, v.explainer.name if v.explainer else "–",
                                                     v.description)))
    out.print(table)


def _validate_study(app: App, path: Path, no_data: bool) -> None:
    """A study file: its fields, variants and sweep (the plugins' parameters), then, with data,
    each task's training counts at each transform point."""
    spec = app.study(str(path))
    plan = app.plan(spec)
    runs = f", {len(plan.cells)} per task and seed with the sweep's points" if plan else ""
    out.print("[green]ok[/] " + escape(terminal(f"{path}: study {spec.name!r}, {len(spec.tasks)} task(s) × "
                                                f"{len(spec.variants)} variant(s) × {len(spec.seeds)} seed(s){runs}")),
              highlight=False)
    for axis in spec.sweep:
        out.print(escape(terminal(f"  sweep {axis.name}: {', '.join(axis.label(v) for v in axis.values)}")),
                  highlight=False)
    if plan is None or no_data:
        return
    from alexbench.config.sweeps import TaskTransform
    from alexbench.data.transforms import check_points, transformed

    tasks = [app.catalog.load(name) for name in spec.tasks]
    loaded = [(task, load_dataset(task)) for task in tasks]
    check_points(path, plan.axes, loaded)
    for task, data in loaded:
        for axis in (a for a in plan.axes if a.is_transform):
            for value in axis.values:
                if value == axis.reference:
                    counts = {k: v for k, v in sorted(Counter(str(p.label) for p in data.train).items())}
                    out.print(escape(terminal(f"  {task.name} at {axis.name}={value}: train {counts}")), highlight=False)
                    continue
                report = transformed(data, TaskTransform(axis.name, value), spec.seeds[0]).transform or {}
                extra = (f", minority {report['minority']!r} now {report['minority_share_after']:.3f} of train"
                         if "minority" in report else "")
                out.print(escape(terminal(f"  {task.name} at {axis.name}={axis.label(value)}: train {report['train_after']} "
                                          f"(from {report['train_before']}{extra}; dev and test unchanged)")),
                          highlight=False)


@click.command()
@store_options
@click.argument("task_file", type=click.Path(path_type=Path))
@click.option("--no-data", is_flag=True, help="Check the file only, not the data it points at.")
@click.pass_obj
@reports_errors
def validate(app: App, task_file: Path, no_data: bool) -> None:
    """Check a task file (and, unless --no-data, every row of its data); or a study file (a
    [study] table): its variants and sweep, and each task's training counts at each sweep point."""
    if task_file.suffix == ".toml" and task_file.is_file() and "study" in read_toml(task_file):
        _validate_study(app, task_file, no_data)
        return
    task = load_task(task_file, app.data_root)
    validate_metric(task, app.host.metrics.names())
    check_official(task, app.host.metrics)
    lower = direction_note(higher_is_better(task.official_metric, app.host.metrics))
    out.print("[green]ok[/] " + escape(terminal(f"{task_file}: task {task.name!r}, labels {list(task.labels)}, "
                                                f"metric {task.official_metric}{lower}")))
    for ref in task.references:
        out.print(escape(terminal(f"  published: {ref.name} {task.official_metric} {ref.score:g} on {ref.split}"
                                  + (f" ({ref.note})" if ref.note else "") + f" — {ref.source}")), highlight=False)
    if not no_data:
        data = load_dataset(task)
        for name, split in data.splits.items():
            r = split.report
            fixes = [f for f, on in (("BOM stripped", r.bom_stripped), (f"{r.crlf_lines} CRLF lines", r.crlf_lines),
                                     (f"{r.skipped_unlabeled} unlabelled rows skipped", r.skipped_unlabeled),
                                     (f"{r.renamed_duplicate_ids} duplicate ids renamed", r.renamed_duplicate_ids),
                                     (f"{r.truncated_long_posts} long posts truncated", r.truncated_long_posts),
                                     (f"{r.control_char_posts} posts with control characters", r.control_char_posts),
                                     (f"{r.line_separator_posts} posts with U+2028/U+2029 line separators",
                                      r.line_separator_posts),
                                     (f"{r.trimmed_labels} labels with spaces around them trimmed", r.trimmed_labels))
                     if on]
            out.print(escape(terminal(f"  {name}: {r.rows} rows {r.label_counts} from {split.source}"
                                      + (f" ({'; '.join(fixes)})" if fixes else ""))), highlight=False)
            leak = data.overlap.get(name)
            if leak:
                out.print("  [yellow]leak:[/] " + escape(terminal(
                    f"{name}: {leak['same_id']} posts have the id and {leak['same_text']} the text of a train post "
                    f"(e.g. {', '.join(leak['examples'])}); a model is scored on what it was trained on. Remove them "
                    "from one split (provenance.json records the counts: data.<split>.train_overlap)")), highlight=False)
