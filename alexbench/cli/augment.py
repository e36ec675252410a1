"""``alexbench augment``: an augmentation preview.

A plain click command; the CLI group adds it. It runs the host's own
augmentation path (:func:`alexbench.data.augment.apply_chain`, the same checks and drops as a run)
without caching or training anything, and shows class counts before/after, the augmenter's
own report (errors, rejected texts, over/under-sampling), rows the host dropped and why, and
examples side by side.
"""

from __future__ import annotations

import json
import random
import sys
import tomllib
from pathlib import Path
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from alexbench.api import Bench
from alexbench.cli.errors import reports_errors
from alexbench.config.params import parse_text
from alexbench.safetext import SafeConsole, rich_text

out = SafeConsole(soft_wrap=True, width=None if sys.stdout.isatty() else 160)


def parse_param(text: str) -> tuple[str, Any]:
    """``key=value``; the value is read as a TOML literal (10, 0.5, true, "x"), else as a string."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise click.BadParameter(f"expected key=value, got {text!r}")
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return key.strip(), value


def _typed(cls: Any, params: tuple[str, ...]) -> dict[str, Any]:
    """Parse ``key=value`` pairs with the Params field types; a string parameter takes the raw
    text (``grow=1`` is the label "1")."""
    out: dict[str, Any] = {}
    for text in params:
        key, _ = parse_param(text)
        out[key] = parse_text(cls.Params, key, text.partition("=")[2])
    return out


#: Keys of an augmenter's ``last_report`` that ``augment`` shows in words; any other key is shown as it is.
_SHOWN = {"errors", "errors_by_type", "error_examples", "pairs", "pairs_examined", "copies_made", "copies_missing",
          "rejected", "oversampled", "undersampled", "counts_before", "counts_after", "classes_are"}


def _data_root(option: Path | None) -> Path | None:
    if option is not None:
        return option
    ctx = click.get_current_context(silent=True)
    obj = ctx.find_root().obj if ctx is not None else None
    return getattr(obj, "data_root", None)


def _examples(rows: list[Any], sources: dict[str, Any], k: int, seed: int) -> list[tuple[Any, Any]]:
    generated = [r for r in rows if "source_id" in r.meta and not r.meta.get("copy")]
    picks = random.Random(seed).sample(generated, min(k, len(generated)))
    return [(sources.get(r.meta["source_id"]), r) for r in sorted(picks, key=lambda r: r.id)]


def _counts_table(title: str, names: list[str], before: dict[str, int], after: dict[str, int],
                  total: str | None, first: str = "label") -> Table:
    table = Table(title=title)
    for head in (first, "before", "after", "change"):
        table.add_column(head, justify="right" if head != first else "left")
    for name in names:
        b, a = before.get(name, 0), after.get(name, 0)
        table.add_row(rich_text(name), str(b), str(a), f"{a - b:+d}")
    if total is not None:
        b, a = sum(before.values()), sum(after.values())
        table.add_row(total, str(b), str(a), f"{a - b:+d}")
    return table


def _label_set_counts(task: Any, report: Any) -> None:
    """A multi-label task's counts: posts carrying each label (a post counts for each of its
    labels), then the groups the augmenter balanced (a post counts for its rarest label once)."""
    names = list(task.label_space.groups)
    out.print(_counts_table("train label counts (posts carrying each label)", names, report.before, report.after,
                            None))
    groups = report.groups or {}
    out.print(_counts_table("balanced groups (each post counts for the rarest label it carries)", names,
                            groups.get("before", {}), groups.get("after", {}), "posts", "group"))
    out.print("copying a post for its rarest label also adds to its other labels; cutting a post removes all of "
              "its labels", highlight=False)


@click.command("augment")
@click.option("--task", "-t", "task_name", required=True, help="Task name or task file.")
@click.option("--augmenter", "-a", "augmenter_name", required=True, help="Augmenter name (see `alexbench plugins`).")
@click.option("--param", "-p", "params", multiple=True, help="Augmenter parameter key=value (repeatable).")
@click.option("--seed", default=0, show_default=True, help="Seed.")
@click.option("--examples", "n_examples", default=8, show_default=True, help="Examples shown side by side.")
@click.option("--data-root", type=click.Path(path_type=Path), default=None, help="As alexbench's --data-root.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@reports_errors
def augment(task_name: str, augmenter_name: str, params: tuple[str, ...], seed: int, n_examples: int,
            data_root: Path | None, as_json: bool) -> None:
    """Preview an augmenter on a task's train split: class counts before/after, examples side by
    side, rows dropped and why. Nothing is cached or trained."""
    bench = Bench(data_root=_data_root(data_root))
    preview = bench.augment(task_name, augmenter_name,
                            _typed(bench.host.component_class("augmenter", augmenter_name), params), seed=seed)
    task, augmenter, rows, report = preview.task, preview.augmenter, list(preview.rows), preview.report
    own = preview.augmenter_report
    sources = {p.id: p for p in preview.train}
    examples = _examples(rows, sources, n_examples, seed)
    copies = sum(1 for r in rows if r.meta.get("copy"))
    if as_json:
        click.echo(json.dumps({
            "task": task.name, "augmenter": augmenter.describe(), "seed": seed, "host": report.to_dict(),
            "augmenter_report": own, "copies": copies,
            "examples": [{"source_id": s.id if s else None, "original": s.text if s else None, "augmented": r.text,
                          "label": r.label} for s, r in examples]}, indent=2, default=str))
        return
    desc = augmenter.describe()
    out.print(f"[bold]{escape(task.name)}[/] · augmenter [bold]{escape(desc['name'])}[/] {escape(str(desc['version']))}"
              f" · seed {seed}")
    out.print(escape("params: " + ", ".join(f"{k}={v!r}" for k, v in desc["params"].items())), highlight=False)
    if task.multi_label:
        _label_set_counts(task, report)
    else:
        out.print(_counts_table("train class counts", list(task.labels), report.before, report.after, "total"))
    out.print(f"generated rows kept: {sum(1 for r in rows if 'source_id' in r.meta and not r.meta.get('copy'))}, "
              f"resampling copies: {copies}, original rows kept: {sum(1 for r in rows if r.id in sources)}"
              f" of {len(sources)}", highlight=False)
    if own:
        errors = own.get("errors", 0)
        out.print(escape(f"augmentation errors: {errors}" + (f" {own.get('errors_by_type')} e.g. "
                                                             f"{own.get('error_examples')[:2]}" if errors else "")
                         + " (failed posts are kept, unaugmented)"), highlight=False)
        if own.get("pairs"):
            out.print(f"copies: {own['pairs']:,} could be made (source posts × n), {own['pairs_examined']:,} were "
                      f"needed to fill the classes, {own['copies_made']:,} texts made"
                      + (f", {own['copies_missing']:,} missing (posts with fewer than n distinct copies)"
                         if own.get("copies_missing") else ""), highlight=False)
        for why, n in (own.get("rejected") or {}).items():
            out.print(escape(f"dropped by the augmenter: {n} × {why}"), highlight=False)
        for what in ("oversampled", "undersampled"):
            if own.get(what):
                out.print(escape(f"{what}: {own[what]}"), highlight=False)
        rest = {k: v for k, v in own.items() if k not in _SHOWN}
        if rest:
            out.print(escape("augmenter report: " + ", ".join(f"{k}={v}" for k, v in rest.items())), highlight=False)
    dropped = report.dropped or {}
    out.print(escape("dropped by the host: " + (", ".join(f"{n} × {why}" for why, n in dropped.items()) or "none")),
              highlight=False)
    if examples:
        table = Table(title=f"examples ({len(examples)})", show_lines=True)
        table.add_column("label")
        table.add_column("original")
        table.add_column("augmented")
        for source, row in examples:
            # post texts are data: their control characters are shown as escapes, never run
            table.add_row(rich_text(row.label), rich_text(source.text if source else "?", multiline=True),
                          rich_text(row.text, multiline=True))
        out.print(table)
