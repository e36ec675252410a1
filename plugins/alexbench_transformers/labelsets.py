"""Multi-label tasks: label-set targets, the weighted sampler's post weights and per-label decision
thresholds tuned on dev (turning probabilities into label sets at those thresholds is the host's
:meth:`LabelSpace.decide <alexbench.config.labels.LabelSpace.decide>`). numpy only (the
thresholds are plain floats, recorded in the fit report)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from alexbench.config.labels import DEFAULT_THRESHOLD
from alexbench.scoring.metrics import indicator

#: What the fit report says about how the thresholds were chosen (``threshold_tuning``).
DEV_F1 = "dev_f1"


def label_matrix(labelsets: Sequence[str], labels: Sequence[str]) -> np.ndarray:
    """Posts x labels 0/1 (bool) matrix of canonical label-set strings, in the task's label order."""
    return indicator(list(labelsets), list(labels))


def sample_weights(y: np.ndarray) -> list[float]:
    """The weighted sampler's weight of each train post: the inverse train frequency N / n_j of the
    rarest label it carries; a post with no label gets N / (number of such posts)."""
    n = len(y)
    counts = y.sum(0)
    empty = int((~y.any(1)).sum())
    out = []
    for row in y:
        carried = counts[row]
        out.append(n / int(carried.min()) if len(carried) else n / empty)
    return out


def tune_thresholds(probs: np.ndarray, gold: np.ndarray) -> list[float]:
    """Per label, the decision threshold t (a post gets the label when its probability >= t)
    that maximises the label's F1 on these (dev) posts. Candidates: the distinct probabilities
    of the label plus 0.5; ties go to the candidate nearest 0.5 (then to the higher one); a label
    with no positive post keeps 0.5."""
    probs = np.asarray(probs, dtype=np.float64)
    gold = np.asarray(gold, dtype=bool)
    n = len(probs)
    out: list[float] = []
    for j in range(probs.shape[1]):
        p, g = probs[:, j], gold[:, j]
        positives = int(g.sum())
        if positives == 0:
            out.append(DEFAULT_THRESHOLD)
            continue
        order = np.argsort(p, kind="stable")
        ascending, hits = p[order], g[order].astype(np.int64)
        candidates = np.unique(np.append(p, DEFAULT_THRESHOLD))
        below = np.searchsorted(ascending, candidates, side="left")  # posts under each candidate
        tp = positives - np.concatenate([[0], np.cumsum(hits)])[below]
        f1 = 2 * tp / ((n - below) + positives)  # same integers give the same float: exact ties
        tied = candidates[f1 == f1.max()]
        best = sorted(tied.tolist(), key=lambda t: (abs(t - DEFAULT_THRESHOLD), -t))[0]
        out.append(float(best))
    return out


def by_label(values: Sequence[float], labels: Sequence[str]) -> dict[str, float]:
    """Per-label values (thresholds, pos_weights) as the fit report records them."""
    return {label: float(v) for label, v in zip(labels, values)}


def thresholds_from_report(report: dict[str, Any], labels: Sequence[str]) -> list[float]:
    """The thresholds a cached model's fit report recorded, in the task's label order."""
    recorded = report.get("thresholds") or {}
    return [float(recorded.get(label, DEFAULT_THRESHOLD)) for label in labels]
