"""``alexbench explain --run RUN``: the explainer's verdicts and reasons of a stored run."""

from __future__ import annotations

import inspect
import json
import sys
from pathlib import Path
from typing import Any

import click
from rich.table import Table
from rich.text import Text

from alexbench.cli.errors import reports_errors
from alexbench.errors import AlexbenchError
from alexbench.interfaces import split_labels
from alexbench.run.store import ResultsStore, StoredRun, default_results_root
from alexbench.safetext import SafeConsole, rich_text, terminal, terminal_json
from alexbench.scoring.results import ExplanationRow


def explained_rows(run: StoredRun, *, only_flips: bool = False, include_not_sent: bool = False) -> list[dict[str, Any]]:
    """Explanations of a run joined with its test predictions by post id: one row per post, or on
    a multi-label run one per (post, label asked about) (:func:`label_rows`)."""
    golds = {r.id: r.gold for r in run.prediction_rows() if r.split == "test"}
    multi_label = run.spec().task.multi_label
    rows = []
    for e in run.explanation_rows():
        if e.status == "not_sent" and not include_not_sent:
            continue
        gold = golds.get(e.post_id)
        details = e.details
        if multi_label and details.get("labels"):
            rows += label_rows(e, gold, details, only_flips=only_flips)
            continue
        flipped = e.new_label != e.old_label
        if only_flips and not flipped:
            continue
        row = {
            "id": e.post_id, "gold": gold, "classifier": e.old_label, "final": e.new_label,
            "status": e.status, "verdict": e.verdict, "reason": e.reason, "flipped": flipped,
            "fixed": flipped and gold == e.new_label, "cached": details.get("cached"),
            "latency_s": details.get("latency_s"), "error": details.get("error"),
        }
        rows.append({"id": row.pop("id"), "label": None, **row} if multi_label else row)
    return rows


def label_rows(e: ExplanationRow, gold: str | None, details: dict[str, Any], *,
               only_flips: bool = False) -> list[dict[str, Any]]:
    """A multi-label explanation's rows: one per label asked about (``details.labels``), with that
    label's status, verdict and reason. ``flipped``: the label left the post's set; ``fixed``: it
    left and is not in the gold set; ``kept_by_empty_rule``: rejected, but kept so the post keeps a
    label. ``classifier``/``final`` are the post's predicted and final sets, ``latency_s`` the
    post's total."""
    gold_set = set(split_labels(gold)) if gold is not None else None
    rows = []
    for record in details["labels"]:
        removed = bool(record.get("removed"))
        if only_flips and not removed:
            continue
        rows.append({
            "id": e.post_id, "label": record["label"], "gold": gold, "classifier": e.old_label,
            "final": e.new_label, "status": record["status"], "verdict": record["verdict"],
            "reason": record["reason"], "flipped": removed,
            "fixed": removed and gold_set is not None and record["label"] not in gold_set,
            "cached": record.get("cached"), "latency_s": details.get("latency_s"), "error": record.get("error"),
            "kept_by_empty_rule": record["label"] == details.get("kept_by_empty_rule"),
        })
    return rows


def post_texts(run: StoredRun, data_root: Path | None, task_ref: str | None = None) -> tuple[dict[str, str], str]:
    """Test-split texts of a run's task by post id, and why there are none ('' when there are):
    the task (by name, else the task file the run recorded, or ``task_ref``) or its data may not
    be available here."""
    from alexbench.config.tasks import TaskCatalog
    from alexbench.data.splits import load_dataset
    from alexbench.plugin.host import PluginHost

    try:
        task = TaskCatalog(PluginHost().task_dirs(), data_root).for_run(
            run.spec().task.name, run.provenance().get("task_file"), task_ref)
        return {p.id: p.text for p in load_dataset(task).test}, ""
    except AlexbenchError as exc:
        return {}, str(exc)


def _fill_reasons(store: ResultsStore, run: StoredRun, rows: list[dict[str, Any]], data_root: Path | None,
                  task_ref: str | None = None, host: Any = None) -> None:
    """Reasons for ``rows`` from the run's own explainer (rebuilt from its run spec), marked
    ``reason_generated``; the run's files are not changed."""
    if run.spec().task.multi_label:  # a reason is about one label; a post's own row (no label) has none
        rows = [r for r in rows if r.get("label") is not None]
    if not rows:
        return
    from alexbench.config.tasks import TaskCatalog
    from alexbench.data.splits import load_dataset
    from alexbench.interfaces import Context
    from alexbench.plugin.host import PluginHost

    spec = run.spec()
    component = spec.variant.explainer
    if component is None:
        raise AlexbenchError(f"run {run.path} has no explainer in its run_spec.json")
    host = host or PluginHost()
    explainer = host.build("explainer", component.name, component.params)
    task = TaskCatalog(host.task_dirs(), data_root).for_run(
        spec.task.name, run.provenance().get("task_file"), task_ref)
    posts = {p.id: p for p in load_dataset(task).test}
    missing = [r["id"] for r in rows if r["id"] not in posts]
    if missing:
        raise AlexbenchError(f"posts {missing[:3]} of the run are not in the task's test split here")
    chosen = [posts[r["id"]] for r in rows]
    labels = [str(r["classifier"]) for r in rows]
    verdicts = [bool(r["verdict"]) for r in rows]
    context = Context(task=task, seed=spec.seed, cache_dir=store.cache_dir)
    if spec.task.multi_label:  # each verdict is on one label of the post's predicted set: say which
        if "asked" not in inspect.signature(explainer.reasons).parameters:
            raise AlexbenchError(f"explainer {component.name!r} cannot give reasons afterwards on a multi-label run "
                                 "(its reasons() takes no 'asked' labels)")
        got = explainer.reasons(chosen, labels, verdicts, context, asked=[str(r["label"]) for r in rows])
    else:
        got = explainer.reasons(chosen, labels, verdicts, context)
    if got is None:
        raise AlexbenchError(f"explainer {component.name!r} cannot give reasons afterwards")
    for row, reason in zip(rows, got):
        row["reason"], row["reason_generated"] = reason, True


def _verdict_text(row: dict[str, Any]) -> Text:
    if row["status"] != "ok":
        return rich_text(row["status"], "yellow")
    if row.get("kept_by_empty_rule") and not row["verdict"]:
        return Text("rejected, kept (empty-set rule)", style="yellow")
    return Text("holds", style="green") if row["verdict"] else Text("rejected", style="red")


@click.command("explain")
@click.option("--run", "run_ref", required=True, help="Run folder or (a prefix of) its hash.")
@click.option("--results", type=click.Path(path_type=Path), default=None,
              help="Results folder (default: $ALEXBENCH_RESULTS or ./results).")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Show at most N posts (multi-label: N (post, label) rows).")
@click.option("--only-flips", is_flag=True, help="Only posts whose label the explainer changed (multi-label: the labels it removed).")
@click.option("--all", "include_not_sent", is_flag=True, help="Also list posts that were not sent.")
@click.option("--text/--no-text", "with_text", default=True, show_default=True,
              help="Show each post's text (read from the task's data, when it is available here).")
@click.option("--data-root", type=click.Path(path_type=Path), default=None, help="Data root for the post texts.")
@click.option("--task", "-t", "task_ref", default=None,
              help="The run's task (name or task file), for the post texts; default: by name, else the run's task file.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (JSON lines).")
@click.option("--reasons", "want_reasons", is_flag=True,
              help="Ask the run's explainer for the reasons it did not store (the LLM's score verdict writes them "
                   "for flips only); cached, never written into the run.")
@reports_errors
def explain(run_ref: str, results: Path | None, limit: int | None, only_flips: bool, include_not_sent: bool,
            with_text: bool, data_root: Path | None, task_ref: str | None, as_json: bool, want_reasons: bool) -> None:
    """Show the posts an explainer checked: prediction, verdict and reason (on a multi-label run one
    row per label asked about)."""
    out = SafeConsole(soft_wrap=True, width=None if sys.stdout.isatty() else 160)
    root = click.get_current_context().find_root().obj  # the alexbench group's --results/--data-root
    results = results or getattr(root, "results", None)
    data_root = data_root or getattr(root, "data_root", None)
    store = ResultsStore(results if results is not None else default_results_root())
    run = store.get(run_ref)
    if not (run.path / "explanations.jsonl").is_file():
        raise AlexbenchError(f"run {run.path} has no explainer (no explanations.jsonl)")
    rows = explained_rows(run, only_flips=only_flips, include_not_sent=include_not_sent)
    shown = rows[:limit] if limit else rows
    spec = run.spec()
    texts, missing = post_texts(run, data_root, task_ref) if with_text else ({}, "")
    if missing:  # said, not silently dropped; the verdicts are shown all the same
        click.echo(f"note: post texts not shown: {terminal(missing, multiline=True)}", err=True)
    for row in shown:
        row["text"] = texts.get(row["id"])
    if want_reasons:
        _fill_reasons(store, run, [r for r in shown if r["status"] == "ok" and not r["reason"]], data_root, task_ref)
    if as_json:
        for row in shown:
            click.echo(terminal_json(json.dumps(row, ensure_ascii=False)))
        return
    stats = run.scores().explainer
    multi_label = spec.task.multi_label
    table = Table(title=rich_text(f"{spec.task.name} · {spec.variant.name} · seed {spec.seed} — "
                                  f"{len(shown)} of {len(rows)} {'(post, label) questions' if multi_label else 'posts'}"),
                  title_justify="left")
    heads = ["post", *(["text"] if texts else []), "gold", "predicted", *(["label"] if multi_label else []), "final",
             "verdict", "reason"]
    for head in heads:
        table.add_column(head, overflow="fold", ratio=3 if head in ("text", "reason") else None)
    # Posts and LLM replies are data: Text, so "[/]" or "[redacted]" is shown as written, and their
    # control characters as escapes, so a post cannot clear the screen or set the window title.
    for row in shown:
        final = rich_text(row["final"], "bold" if row["flipped"] else "")
        reason = rich_text(row["reason"] or (row["error"] or ""), multiline=True)
        text = [rich_text(row["text"] or "", multiline=True)] if texts else []
        asked = [rich_text(row["label"] or "", "bold" if row["flipped"] else "")] if multi_label else []
        table.add_row(rich_text(row["id"]), *text, rich_text(row["gold"]), rich_text(row["classifier"]), *asked,
                      final, _verdict_text(row), reason)
    out.print(table)
    if stats is not None:
        precision = stats.flip_precision
        out.print(f"sent {stats.sent} of {stats.posts}, flips {stats.flips} "
                  f"(fixed {stats.flips_fixed}, broke {stats.flips_broke}"
                  f"{f', precision {precision:.3f}' if precision is not None else ''}), "
                  f"unparsable rate {stats.unparsable_rate}, failed rate {stats.failed_rate}",
                  highlight=False)
