"""Confusion tables of a single-label split, and the metrics that only count them.

:class:`Tables` holds one confusion matrix per group (``params["group_by"]``, in the order the
groups first occur) or one matrix; the ``*_of`` functions are the single-label built-in metrics
computed from them, the one definition that both :mod:`alexbench.scoring.metrics` (on a split's
posts, through :func:`tables`) and the paired bootstrap (on a resample's bincounts, see
:mod:`alexbench.scoring.significance`) use, so the two agree float for float.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from alexbench.interfaces import ScoreInput


def safe_div(num: float, den: float) -> float:
    return num / den if den else 0.0


@dataclass(frozen=True)
class Tables:
    """A single-label split as confusion matrices: ``matrices[k][i][j]`` = posts of group ``k``
    with gold ``labels[i]`` predicted as ``labels[j]``. The groups are the values of the
    ``params["group_by"]`` extra column in the order they first occur among the posts (one group
    when the metric's params group nothing). Enough for every metric that only counts, and what
    the paired bootstrap builds for a resample with one ``numpy.bincount``."""

    matrices: Sequence[Sequence[Sequence[int]]]
    labels: Sequence[str]
    positive: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)

    def total(self) -> list[list[int]]:
        """The matrix over all groups."""
        return [[sum(m[i][j] for m in self.matrices) for j in range(len(self.labels))]
                for i in range(len(self.labels))]


def confusion(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> list[list[int]]:
    """``matrix[i][j]`` = posts of gold ``labels[i]`` predicted as ``labels[j]``."""
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold labels but {len(pred)} predictions")
    pos = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for g, p in zip(gold, pred):
        if g not in pos or p not in pos:
            bad = g if g not in pos else p
            raise ValueError(f"label {bad!r} is not one of {list(labels)}")
        matrix[pos[g]][pos[p]] += 1
    return matrix


def per_class(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> dict[str, dict[str, float]]:
    return per_class_of(confusion(gold, pred, labels), labels)


def per_class_of(matrix: Sequence[Sequence[int]], labels: Sequence[str]) -> dict[str, dict[str, float]]:
    """Per-class precision, recall, F1 and support of a confusion matrix."""
    out: dict[str, dict[str, float]] = {}
    predicted = [sum(column) for column in zip(*matrix)]
    for i, label in enumerate(labels):
        tp = matrix[i][i]
        fp = predicted[i] - tp
        fn = sum(matrix[i]) - tp
        precision, recall = safe_div(tp, tp + fp), safe_div(tp, tp + fn)
        out[label] = {
            "precision": precision,
            "recall": recall,
            "f1": safe_div(2 * precision * recall, precision + recall),
            "support": tp + fn,
        }
    return out


def whole(d: ScoreInput) -> Tables:
    """One table of every post, for the metrics that do not group."""
    return Tables([confusion(d.gold, d.pred, d.labels)], d.labels, d.positive, d.params)


def tables(d: ScoreInput) -> Tables:
    """The confusion :class:`Tables` of a single-label split, grouped by ``params["group_by"]``
    (groups in the order they first occur) when the params name a column."""
    group_by = d.params.get("group_by")
    if not group_by or not d.extra:
        return whole(d)
    groups: dict[str, list[int]] = {}
    for i, row in enumerate(d.extra):
        groups.setdefault(row[group_by], []).append(i)
    matrices = [confusion([d.gold[i] for i in indices], [d.pred[i] for i in indices], d.labels)
                for indices in groups.values()]
    return Tables(matrices, d.labels, d.positive, d.params)


def accuracy_of(t: Tables) -> float:
    matrix = t.total()
    return safe_div(sum(matrix[i][i] for i in range(len(matrix))), sum(map(sum, matrix)))


def micro_f1_of(t: Tables) -> float:
    matrix = t.total()
    tp = sum(matrix[i][i] for i in range(len(matrix)))
    wrong = sum(map(sum, matrix)) - tp  # every wrong post is one false positive and one false negative
    return safe_div(2 * tp, 2 * tp + wrong + wrong)


def macro_f1_of(t: Tables) -> float:
    labels = t.params.get("labels", t.labels)
    pc = per_class_of(t.total(), t.labels)
    return sum(pc[label]["f1"] for label in labels) / len(labels)


def weighted_f1_of(t: Tables) -> float:
    pc = per_class_of(t.total(), t.labels)
    total = sum(v["support"] for v in pc.values())
    return safe_div(sum(v["f1"] * v["support"] for v in pc.values()), total)


def f1_positive_of(t: Tables) -> float | None:
    return None if t.positive is None else per_class_of(t.total(), t.labels)[t.positive]["f1"]


def grouped_macro_f1_of(t: Tables) -> float | None:
    if not t.params.get("group_by"):
        return None
    labels = t.params.get("labels", t.labels)
    scores = []
    for matrix in t.matrices:
        pc = per_class_of(matrix, t.labels)
        scores.append(sum(pc[label]["f1"] for label in labels) / len(labels))
    return sum(scores) / len(scores)
