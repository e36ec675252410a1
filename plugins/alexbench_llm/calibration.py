"""The ``score`` verdict's threshold, chosen on the dev split by the task's official metric.

The judge gives each dev post it checks a score ``p_false`` (P(false) / (P(true) + P(false)) of
the verdict's first token). A threshold ``t`` flips every post with ``p_false >= t``. Only the
order of the scores matters, so the candidates are one threshold per distinct set of flips: the
midpoint between consecutive distinct scores, half the lowest score (flip all) and the midpoint
between the highest score and 1 (flip none). Each candidate's final dev labels are scored with the
official metric; the best wins (the largest value, or the smallest for a lower-is-better metric
such as hamming_loss), and of equally good thresholds the highest (fewest flips: the
classifier's label is kept unless changing it helped).

On a multi-label task the judge scores each (post, predicted label) pair it asks about, a
threshold removes every label scored at or above it (:func:`select_removal_threshold`), and the
official metric is computed over the resulting label sets.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

_TIE = 1e-12


@dataclass(frozen=True)
class Candidate:
    threshold: float
    objective: float
    flips: int


@dataclass(frozen=True)
class ThresholdChoice:
    threshold: float
    #: The official dev metric with this threshold's flips, and with none (the classifier alone).
    objective: float
    objective_without_flips: float
    flips: int
    scored: int
    candidates: tuple[Candidate, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"threshold": self.threshold, "dev_official": self.objective,
                "dev_official_without_flips": self.objective_without_flips, "dev_flips": self.flips,
                "dev_scored": self.scored,
                "candidates": [[round(c.threshold, 6), round(c.objective, 6), c.flips] for c in self.candidates]}


def candidate_thresholds(scores: Sequence[float]) -> list[float]:
    """One threshold per distinct set of flips, highest first (the first flips nothing)."""
    values = sorted(set(scores), reverse=True)
    if not values:
        return []
    top = values[0]
    out = [(top + 1.0) / 2 if top < 1.0 else math.nextafter(1.0, 2.0)]
    out += [(hi + lo) / 2 for hi, lo in zip(values, values[1:])]
    out.append(values[-1] / 2)
    return out


def select_threshold(labels: Sequence[str], scored: Sequence[tuple[int, float, str]],
                     objective: Callable[[Sequence[str]], float], higher_is_better: bool = True) -> ThresholdChoice:
    """``labels``: the classifier's dev labels; ``scored``: (index into labels, p_false, the label a
    flip gives) for every post the judge scored; ``objective(final labels)``: the official metric."""

    def final_at(t: float) -> list[str]:
        final = list(labels)
        for i, p_false, new in scored:
            if p_false >= t:
                final[i] = new
        return final

    return _select(labels, [s for _, s, _ in scored], final_at, objective, higher_is_better)


def select_removal_threshold(labels: Sequence[str], scored: Sequence[tuple[int, float, str]],
                             final_for: Callable[[int, frozenset[str]], str],
                             objective: Callable[[Sequence[str]], float],
                             higher_is_better: bool = True) -> ThresholdChoice:
    """A multi-label task: ``labels`` are the classifier's dev label sets (canonical strings);
    ``scored``: (index into labels, p_false, the label asked about) for every (post, label) pair the
    judge scored; ``final_for(index, labels removed)``: the post's final label set. One threshold
    for every pair; a candidate's flips are the posts whose set it changes."""

    def final_at(t: float) -> list[str]:
        removed: dict[int, set[str]] = {}
        for i, p_false, label in scored:
            if p_false >= t:
                removed.setdefault(i, set()).add(label)
        final = list(labels)
        for i, gone in removed.items():
            final[i] = final_for(i, frozenset(gone))
        return final

    return _select(labels, [s for _, s, _ in scored], final_at, objective, higher_is_better)


def _select(labels: Sequence[str], scores: Sequence[float], final_at: Callable[[float], list[str]],
            objective: Callable[[Sequence[str]], float], higher_is_better: bool) -> ThresholdChoice:
    base = list(labels)
    without = float(objective(base))
    candidates: list[Candidate] = []
    for t in candidate_thresholds(scores):
        final = final_at(t)
        flips = sum(1 for old, new in zip(base, final) if old != new)
        candidates.append(Candidate(t, float(objective(final)), flips))
    if not candidates:
        return ThresholdChoice(math.nextafter(1.0, 2.0), without, without, 0, 0, ())
    sign = 1.0 if higher_is_better else -1.0
    best = candidates[0]
    for c in candidates[1:]:  # highest threshold first: a later one must be strictly better
        if sign * c.objective > sign * best.objective + _TIE:
            best = c
    return ThresholdChoice(best.threshold, best.objective, without, best.flips, len(scores), tuple(candidates))
