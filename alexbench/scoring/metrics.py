"""Classification metrics: the one module the runner, the leaderboard and the scorer share.

:func:`score` computes per-class precision/recall/F1, micro/macro/weighted F1, accuracy, the
confusion matrix and every registered scalar :class:`Metric`; the task's official metric is
one of them. This module is also the built-in metrics plugin (entry point ``metrics``).

On a multi-label task (gold and predictions are canonical label-set strings, see
:func:`alexbench.interfaces.join_labels`) the same call gives per-label precision/recall/F1 with
each label's counts, micro/macro/weighted/samples F1, subset accuracy, Hamming loss and, in place
of the square matrix, one 2×2 matrix per label (``[[tn, fp], [fn, tp]]``, scikit-learn's
``multilabel_confusion_matrix``). Only metrics declaring ``multi_label=True`` are computed there.
The label-set metrics are computed with NumPy on indicator matrices (the paired bootstrap calls
the official metric thousands of times per comparison); tests/test_multilabel.py holds them
equal to scikit-learn's ``precision_recall_fscore_support``, ``hamming_loss`` and
``accuracy_score``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from alexbench.errors import TaskFileError

# The contract, re-exported: plugins and tests import Metric and ScoreInput from here.
from alexbench.interfaces import Metric, ScoreInput, split_labels
from alexbench.plugin.hookspecs import hookimpl
from alexbench.scoring.metric_params import MetricParam, check_metric_params
from alexbench.scoring.tables import (
    accuracy_of,
    confusion,
    f1_positive_of,
    grouped_macro_f1_of,
    macro_f1_of,
    micro_f1_of,
    per_class,
    safe_div,
    tables,
    weighted_f1_of,
    whole,
)

if TYPE_CHECKING:
    from alexbench.config.tasks import TaskSpec
    from alexbench.plugin.registry import Registry


class ScoringSpec(Protocol):
    """What scoring needs of a task; a TaskSpec is one, and so is :class:`StoredScoring`."""

    name: str
    labels: tuple[str, ...]
    positive: str | None
    official_metric: str
    metric_params: dict[str, Any]
    multi_label: bool


@dataclass(frozen=True)
class StoredScoring:
    """The scoring part of a task as recorded in a run's ``run_spec.json``: enough to rescore a
    run from its stored predictions alone (read from a spec by
    :func:`alexbench.run.rescoring.stored_scoring`)."""

    name: str
    labels: tuple[str, ...]
    positive: str | None
    official_metric: str
    metric_params: dict[str, Any] = field(default_factory=dict)
    multi_label: bool = False


def _micro_f1_over(gold: Sequence[str], pred: Sequence[str], subset: Sequence[str]) -> float:
    tp = sum(1 for g, p in zip(gold, pred) if g == p and g in subset)
    fp = sum(1 for g, p in zip(gold, pred) if p in subset and g != p)
    fn = sum(1 for g, p in zip(gold, pred) if g in subset and g != p)
    return safe_div(2 * tp, 2 * tp + fp + fn)


def indicator(labelsets: Sequence[str], labels: Sequence[str]) -> Any:
    """Posts × labels boolean matrix of canonical label-set strings."""
    import numpy as np

    pos = {label: i for i, label in enumerate(labels)}
    matrix = np.zeros((len(labelsets), len(labels)), dtype=bool)
    for i, text in enumerate(labelsets):
        for label in split_labels(text):
            if label not in pos:
                raise ValueError(f"label {label!r} (in {text!r}) is not one of {list(labels)}")
            matrix[i, pos[label]] = True
    return matrix


def _sets(d: ScoreInput) -> tuple[Any, Any]:
    if len(d.gold) != len(d.pred):
        raise ValueError(f"{len(d.gold)} gold label sets but {len(d.pred)} predictions")
    return indicator(d.gold, d.labels), indicator(d.pred, d.labels)


def _label_counts(gold: Any, pred: Any) -> tuple[Any, Any, Any]:
    """Per label: true positives, false positives, false negatives."""
    return (gold & pred).sum(0), (~gold & pred).sum(0), (gold & ~pred).sum(0)


def _f1s(tp: Any, fp: Any, fn: Any) -> Any:
    import numpy as np

    den = 2 * tp + fp + fn
    return np.divide(2 * tp, den, out=np.zeros(len(tp), dtype=float), where=den > 0)


def multilabel_per_label(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> dict[str, dict[str, float]]:
    """Per label: precision, recall, F1 (0 where undefined, as scikit-learn's
    ``zero_division=0``), support (gold posts with it), predicted (posts predicted with it), tp,
    fp, fn."""
    g, p = _sets(ScoreInput(gold, pred, labels))
    tp, fp, fn = _label_counts(g, p)
    out: dict[str, dict[str, float]] = {}
    for i, label in enumerate(labels):
        t, f_p, f_n = int(tp[i]), int(fp[i]), int(fn[i])
        precision, recall = safe_div(t, t + f_p), safe_div(t, t + f_n)
        out[label] = {"precision": precision, "recall": recall, "f1": safe_div(2 * t, 2 * t + f_p + f_n),
                      "support": t + f_n, "predicted": t + f_p, "tp": t, "fp": f_p, "fn": f_n}
    return out


def multilabel_confusion(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> list[list[list[int]]]:
    """One ``[[tn, fp], [fn, tp]]`` per label (scikit-learn's ``multilabel_confusion_matrix``)."""
    g, p = _sets(ScoreInput(gold, pred, labels))
    tp, fp, fn = _label_counts(g, p)
    tn = len(g) - tp - fp - fn
    return [[[int(tn[i]), int(fp[i])], [int(fn[i]), int(tp[i])]] for i in range(len(labels))]


def _ml_micro_f1(d: ScoreInput) -> float:
    tp, fp, fn = (int(x.sum()) for x in _label_counts(*_sets(d)))
    return safe_div(2 * tp, 2 * tp + fp + fn)


def _ml_macro_f1(d: ScoreInput) -> float:
    subset = list(d.params.get("labels", d.labels))
    f1 = _f1s(*_label_counts(*_sets(d)))
    return float(sum(f1[list(d.labels).index(label)] for label in subset) / len(subset))


def _ml_weighted_f1(d: ScoreInput) -> float:
    g, p = _sets(d)
    support = g.sum(0)
    return safe_div(float((_f1s(*_label_counts(g, p)) * support).sum()), int(support.sum()))


def samples_f1(d: ScoreInput) -> float | None:
    """Multi-label: the mean over posts of the F1 of the post's predicted set against its gold set
    (a post with neither gold nor predicted labels counts as 1: nothing to find, nothing found)."""
    if not d.multi_label:
        return None
    import numpy as np

    g, p = _sets(d)
    tp, den = 2 * (g & p).sum(1), g.sum(1) + p.sum(1)
    per_post = np.divide(tp, den, out=np.ones(len(g), dtype=float), where=den > 0)
    return float(per_post.mean()) if len(g) else 0.0


def subset_accuracy(d: ScoreInput) -> float | None:
    """Multi-label: share of posts whose whole label set is right (``accuracy`` is the same)."""
    return accuracy(d) if d.multi_label else None


def hamming_loss(d: ScoreInput) -> float | None:
    """Multi-label: share of (post, label) decisions that are wrong. Lower is better."""
    if not d.multi_label:
        return None
    g, p = _sets(d)
    return safe_div(int((g != p).sum()), g.size)


def accuracy(d: ScoreInput) -> float:
    return safe_div(sum(g == p for g, p in zip(d.gold, d.pred)), len(d.gold))


def micro_f1(d: ScoreInput) -> float:
    """Micro-F1 over all labels (equals accuracy for single-label classification)."""
    if d.multi_label:
        return _ml_micro_f1(d)
    return _micro_f1_over(d.gold, d.pred, d.labels)


def macro_f1(d: ScoreInput) -> float:
    return _ml_macro_f1(d) if d.multi_label else macro_f1_of(whole(d))


def weighted_f1(d: ScoreInput) -> float:
    return _ml_weighted_f1(d) if d.multi_label else weighted_f1_of(whole(d))


def f1_positive(d: ScoreInput) -> float | None:
    if d.positive is None or d.multi_label:
        return None
    return f1_positive_of(whole(d))


def grouped_macro_f1(d: ScoreInput) -> float | None:
    """Mean over groups (``params.group_by``, an extra column) of macro-F1 over ``params.labels``:
    the SMM4H 2022 Task 2 stance/premise metric (mean over claims of FAVOR/AGAINST macro-F1)."""
    if not d.params.get("group_by") or not d.extra or d.multi_label:
        return None
    return grouped_macro_f1_of(tables(d))


_SUBSET = MetricParam("labels", description="the labels to average over (default: all)")
_GROUP_BY = MetricParam("extra", required=True, description="the extra column whose groups are averaged")

BUILTIN_METRICS = (
    Metric("f1_positive", f1_positive, "F1 of the task's positive class", from_tables=f1_positive_of, params={},
           requires=("positive",)),
    Metric("micro_f1", micro_f1, "micro-averaged F1 over all labels", multi_label=True, from_tables=micro_f1_of,
           params={}),
    Metric("macro_f1", macro_f1, "unweighted mean of per-class F1 (params.labels: a subset)", multi_label=True,
           from_tables=macro_f1_of, params={"labels": _SUBSET}),
    Metric("weighted_f1", weighted_f1, "per-class F1 weighted by support", multi_label=True,
           from_tables=weighted_f1_of, params={}),
    Metric("accuracy", accuracy, "share of posts labelled correctly (multi-label: the whole set)", multi_label=True,
           from_tables=accuracy_of, params={}),
    Metric("grouped_macro_f1", grouped_macro_f1, "mean over params.group_by groups of macro-F1 over params.labels",
           from_tables=grouped_macro_f1_of, params={"group_by": _GROUP_BY, "labels": _SUBSET}),
    Metric("samples_f1", samples_f1, "multi-label: mean over posts of the F1 of the predicted label set",
           multi_label=True, params={}),
    Metric("subset_accuracy", subset_accuracy, "multi-label: share of posts with exactly the right label set",
           multi_label=True, params={}),
    Metric("hamming_loss", hamming_loss, "multi-label: share of wrong (post, label) decisions (lower is better)",
           higher_is_better=False, multi_label=True, params={}),
)


@hookimpl
def alexbench_register_metrics(registry: Registry[Metric]) -> None:
    for metric in BUILTIN_METRICS:
        registry.add(metric, description=metric.description)


def check_official(task: TaskSpec, metrics: Registry[Metric]) -> None:
    """The task's official metric must score the task, said when the task is read for a run, not
    after training: on a multi-label task it must score label sets (:func:`score` would fail
    then), and the task's ``[metric] params`` must be what the metric declares, the task must
    define what it requires (:mod:`alexbench.scoring.metric_params`). Either direction is fine:
    leaderboards rank, take Δ and count wins by :attr:`Metric.higher_is_better`
    (:func:`higher_is_better`)."""
    if task.official_metric not in metrics.names():
        return
    official = metrics.get(task.official_metric)
    if task.multi_label and not getattr(official, "multi_label", False):
        usable = [n for n in metrics.names() if getattr(metrics.get(n), "multi_label", False)]
        raise TaskFileError(task.path, "metric.official", f"{task.official_metric!r} does not score label sets "
                            f"(a multi-label task); use one of {usable}")
    check_metric_params(task, task.official_metric, getattr(official, "params", None),
                        getattr(official, "requires", ()))


def higher_is_better(name: str, metrics: Registry[Metric] | None = None) -> bool:
    """Whether a larger value of metric ``name`` is better, as its registered metric in ``metrics``
    says, else a built-in one's; True for a name neither knows. Scoring builds no plugin host:
    a caller that may meet a plugin's metric passes the host's ``metrics``."""
    if metrics is not None and name in metrics.names():
        return bool(metrics.get(name).higher_is_better)
    return next((m.higher_is_better for m in BUILTIN_METRICS if m.name == name), True)


def score(
    task: ScoringSpec,
    gold: Sequence[str],
    pred: Sequence[str],
    metrics: Registry[Metric],
    extra: Sequence[Mapping[str, str]] = (),
) -> dict[str, Any]:
    """Every metric for one split. The official metric gets the task's metric params; the
    others are computed with none (so ``macro_f1`` is over all labels)."""
    labels = list(task.labels)
    multi = bool(getattr(task, "multi_label", False))
    scalars: dict[str, float] = {}
    for entry in metrics:
        metric = entry.load()
        if multi and not getattr(metric, "multi_label", False):
            continue
        params = task.metric_params if metric.name == task.official_metric else {}
        value = metric(ScoreInput(gold, pred, labels, task.positive, extra, params, multi))
        if value is not None:
            scalars[metric.name] = value
    if task.official_metric not in scalars:
        kind = " (a multi-label task: the metric must declare multi_label=True)" if multi else ""
        raise ValueError(f"official metric {task.official_metric!r} does not apply to task {task.name!r}{kind}")
    if multi:
        return {
            "n": len(gold),
            "official": {"name": task.official_metric, "value": scalars[task.official_metric]},
            "scalars": scalars,
            "per_class": multilabel_per_label(gold, pred, labels),
            "confusion": {"labels": labels, "kind": "multilabel", "matrix": multilabel_confusion(gold, pred, labels)},
        }
    return {
        "n": len(gold),
        "official": {"name": task.official_metric, "value": scalars[task.official_metric]},
        "scalars": scalars,
        "per_class": per_class(gold, pred, labels),
        "confusion": {"labels": labels, "matrix": confusion(gold, pred, labels)},
    }
