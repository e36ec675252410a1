"""``alexbench explain --run RUN``: the explainer's verdicts and reasons of a stored run."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from rich.table import Table
from rich.text import Text

from alexbench.cli.errors import reports_errors
from alexbench.errors import AlexbenchError
from alexbench.run.explanations import explained_rows, fill_reasons, post_texts
from alexbench.run.store import ResultsStore, default_results_root
from alexbench.safetext import SafeConsole, rich_text, terminal, terminal_json


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
        fill_reasons(store, run, [r for r in shown if r["status"] == "ok" and not r["reason"]], data_root, task_ref)
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
