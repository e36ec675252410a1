"""A stored run's scores, the store's side: its metrics.json recomputed from its own files and
rewritten (``alexbench rescore``), and its test predictions written as a submission
(``alexbench submit``). The scoring itself is given rows, counts and specs
(:mod:`alexbench.scoring.rescore`, :mod:`alexbench.scoring.submission`) and never reads a store."""

from __future__ import annotations

from pathlib import Path

from alexbench.config.labels import LabelSpace
from alexbench.config.tasks import TaskSpec
from alexbench.errors import AlexbenchError, DamagedRunError
from alexbench.fsio import atomic_write_json
from alexbench.interfaces import Metric
from alexbench.plugin.registry import Registry
from alexbench.run.runspec import RunSpec
from alexbench.run.store import CHECKSUMMED, StoredRun
from alexbench.scoring.metrics import StoredScoring
from alexbench.scoring.rescore import check_predictions, keep_decisions, recompute, same_metrics, stored_space
from alexbench.scoring.rescore import recorded_counts as counts_of
from alexbench.scoring.results import PredictionRow, RunMetrics
from alexbench.scoring.submission import check_test_ids, write_submission_file


def stored_scoring(spec: RunSpec) -> StoredScoring:
    """The scoring part of the task a run's spec recorded (a run stored before schema 2 has none)."""
    task = spec.task
    if task.labels is None:
        raise AlexbenchError(f"run of {task.name!r} was stored by an older alexbench (schema "
                             f"{spec.schema}) without its label set: rerun it to rescore it")
    return StoredScoring(task.name, task.labels, task.positive, task.official_metric, dict(task.metric_params or {}),
                         task.multi_label)


def recorded_counts(run: StoredRun) -> dict[str, int]:
    """Posts per scored split as the run recorded them (provenance.json ``data.<split>.rows``);
    empty when provenance.json cannot tell."""
    try:
        return counts_of(run.provenance())
    except DamagedRunError:
        return {}


def checked_predictions(run: StoredRun, space: LabelSpace, *, verify: bool = True) -> list[PredictionRow]:
    """The run's predictions.jsonl rows, checked row by row (:func:`check_predictions`) and, unless
    ``verify`` is False, against their checksum."""
    path = run.path / "predictions.jsonl"
    counts = recorded_counts(run)
    return run.prediction_rows(verify=verify, check=lambda rows: check_predictions(
        path, rows, space, counts, run._repair(path.name)))


def recompute_run(run: StoredRun, metrics: Registry[Metric], *, verify: bool = True) -> RunMetrics:
    """metrics.json as the run would write it, from run_spec.json, predictions.jsonl and
    explanations.jsonl alone (metrics.json itself is not read: it may be the damaged file)."""
    scoring = stored_scoring(run.spec())
    rows = checked_predictions(run, stored_space(scoring), verify=verify)
    return recompute(run.run_id, scoring, rows, run.explanation_rows(verify=verify), metrics)


def rescore(run: StoredRun, metrics: Registry[Metric], write: bool = False) -> tuple[bool, RunMetrics]:
    """Returns (unchanged, recomputed); with ``write``, replaces metrics.json atomically and records
    its checksum. A damaged metrics.json (not JSON, missing what it must hold, or edited: its
    checksum differs) counts as changed, so ``write`` repairs it. Raises :class:`DamagedRunError`
    when the predictions or the spec are damaged or edited (a rerun is their repair). When
    checksums.json itself is damaged the predictions cannot be verified: ``write`` rebuilds it
    from the files as they are."""
    try:
        run.checksums()
        verifiable = True
    except DamagedRunError:
        verifiable = False
    new = recompute_run(run, metrics, verify=verifiable)
    try:
        old = run.scores()
    except DamagedRunError:
        old = None
    try:
        recorded = run.scores(verify=False)  # an edit elsewhere must not lose the run's decisions
    except DamagedRunError:
        recorded = None
    new = keep_decisions(new, recorded)
    unchanged = old is not None and same_metrics(new, old)
    if write and not unchanged:
        atomic_write_json(run.path / "metrics.json", new.to_dict())
        sealed = {"metrics.json": run.metrics(verify=False)}  # as written and read back
        if not verifiable:
            sealed.update({name: run._read(name, lines=True) for name in CHECKSUMMED[1:] if (run.path / name).exists()})
        run.seal(sealed, rebuild=not verifiable)
    return unchanged, new


def write_submission(run: StoredRun, task: TaskSpec, out_dir: Path) -> Path:
    """The run's test predictions in the task's submission format; zipped (file at the archive's
    root, no folder) when the task says so. Returns the written path. Nothing is written unless
    every test post has exactly one prediction, a label of the task: the predictions are checked
    row by row and against what the run recorded (:func:`check_predictions`), and against the
    task's test split when its data is here."""
    run_task = run.spec().task.name
    if run_task != task.name:
        raise AlexbenchError(f"run {run.path} is a run of task {run_task!r}, not {task.name!r}")
    rows = checked_predictions(run, task.label_space)  # each once, a label of the task
    predictions = {r.id: r.pred for r in rows if r.split == "test"}
    check_test_ids(f"run {run.path}", task, list(predictions))
    return write_submission_file(task, predictions, out_dir)
