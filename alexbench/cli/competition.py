"""``alexbench submit | score | rescore``: SMM4H submission files, the CodaLab-style scorer and
recomputing stored runs' metrics."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.markup import escape

from alexbench.cli.app import (
    App,
    err,
    out,
    store_options,
    writable_dir,
)
from alexbench.cli.errors import reports_errors
from alexbench.config.tasks import validate_metric
from alexbench.errors import EXIT_FAILURE, AlexbenchError
from alexbench.fsio import atomic_write_text
from alexbench.run.rescoring import rescore as rescore_run
from alexbench.run.rescoring import write_submission
from alexbench.run.store import DamagedRunError
from alexbench.safetext import terminal
from alexbench.scoring.metrics import check_official, higher_is_better
from alexbench.scoring.significance import direction_note
from alexbench.scoring.submission import score_files, scores_txt


@click.command()
@store_options
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
    writable_dir(out_dir)
    path = write_submission(run_, task, out_dir / run_.spec().task.name / run_.path.name)
    out.print(escape(f"written: {path}"), highlight=False)


@click.command()
@store_options
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
    validate_metric(task, app.host.metrics.names())
    check_official(task, app.host.metrics)  # its params too: a wrong one would score wrongly, not fail
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
        atomic_write_text(writable_dir(output_dir, "OUTPUT_DIR") / "scores.txt", text)
    # scores.txt names the task's labels: shown with their control characters escaped
    click.echo(json.dumps(result, indent=2, sort_keys=True) if as_json else terminal(text, multiline=True), nl=False)


def _single_file(folder: Path, preferred: str | None) -> Path:
    if preferred and (folder / preferred).is_file():
        return folder / preferred
    files = sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []
    if len(files) != 1:
        raise AlexbenchError(f"{folder}: expected {preferred or 'one file'}, found {[f.name for f in files]}")
    return files[0]


@click.command()
@store_options
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
            run_.scores()
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
            official = new.test.official
            lower = direction_note(higher_is_better(official.name, app.host.metrics))
            err.print(f"[yellow]{verb}[/] {escape(str(run_.path))}: test {official.name}{lower} = "
                      f"{official.value:.4f}{escape(damage)}", highlight=False)
    out.print(f"{len(runs)} runs rescored, {changed} differ from their stored metrics"
              + (" (rewritten)" if write and changed else "") + (f", {failed} cannot be rescored" if failed else ""))
    if failed or (changed and not write):
        sys.exit(EXIT_FAILURE)
