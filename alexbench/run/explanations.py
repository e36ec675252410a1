"""A stored run's explanations as rows a person reads: each post the explainer checked (on a
multi-label run each (post, label) it was asked about) joined with its gold label and the
classifier's prediction, its text from the task's data when that is here, and reasons the run did
not store asked afterwards of the run's own explainer (never written into the run). What
``alexbench explain`` shows and :meth:`alexbench.api.Bench.explained` returns."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from alexbench.config.tasks import TaskCatalog
from alexbench.data.splits import load_dataset
from alexbench.errors import AlexbenchError
from alexbench.interfaces import Context, split_labels
from alexbench.plugin.host import PluginHost
from alexbench.run.store import ResultsStore, StoredRun
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

    try:
        task = TaskCatalog(PluginHost().task_dirs(), data_root).for_run(
            run.spec().task.name, run.provenance().get("task_file"), task_ref)
        return {p.id: p.text for p in load_dataset(task).test}, ""
    except AlexbenchError as exc:
        return {}, str(exc)


def fill_reasons(store: ResultsStore, run: StoredRun, rows: list[dict[str, Any]], data_root: Path | None,
                  task_ref: str | None = None, host: Any = None) -> None:
    """Reasons for ``rows`` from the run's own explainer (rebuilt from its run spec), marked
    ``reason_generated``; the run's files are not changed."""
    if run.spec().task.multi_label:  # a reason is about one label; a post's own row (no label) has none
        rows = [r for r in rows if r.get("label") is not None]
    if not rows:
        return

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
