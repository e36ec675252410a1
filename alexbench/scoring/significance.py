"""Paired significance of a variant against a baseline on the same test posts.

* Paired bootstrap: posts are resampled with replacement (all seeds of a post move together,
  so seed-to-seed correlation is respected); the statistic is the difference of the
  seed-averaged metric. Gives the 95% CI of the difference and a two-sided p-value.
* McNemar's exact test on the seed-majority predictions of each system (discordant pairs,
  binomial with p = 1/2).
* Holm's step-down correction across the variants compared with one baseline.

Δ is always the variant's metric minus the baseline's; whether a positive Δ is an improvement is
the metric's direction (``higher_is_better``; Hamming loss is lower-is-better), which
:meth:`Comparison.verdict` applies. The p-values are two-sided and need no direction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import binomtest


@dataclass(frozen=True)
class Comparison:
    delta: float
    ci_low: float
    ci_high: float
    p_bootstrap: float
    p_mcnemar: float
    n_posts: int
    n_boot: int
    discordant: tuple[int, int]  # (variant right & baseline wrong, variant wrong & baseline right)
    p_bootstrap_holm: float | None = None
    p_mcnemar_holm: float | None = None
    #: the official metric's direction: with False, a negative Δ is an improvement
    higher_is_better: bool = True

    def marker(self) -> str:
        """``**`` p<0.01, ``*`` p<0.05 (Holm-corrected bootstrap), ``""`` otherwise."""
        p = self.p_bootstrap_holm if self.p_bootstrap_holm is not None else self.p_bootstrap
        return "**" if p < 0.01 else "*" if p < 0.05 else ""

    def verdict(self) -> str:
        """``better``, ``worse`` (than the baseline, by the metric's direction) or ``same``."""
        return verdict(self.delta, self.higher_is_better)

    def to_dict(self) -> dict[str, Any]:
        """Every field; ``higher_is_better`` only when False (a lower-is-better metric), so the
        comparisons of higher-is-better metrics read as they always did."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__
                if k != "higher_is_better" or not self.higher_is_better}


def direction_note(higher_is_better: bool) -> str:
    """What follows an official metric's name wherever it is shown: ``" (lower is better)"`` for a
    lower-is-better metric, ``""`` otherwise (higher-is-better outputs read as they always did)."""
    return "" if higher_is_better else " (lower is better)"


def verdict(delta: float, higher_is_better: bool = True) -> str:
    """Whether a difference ``delta`` (variant − baseline) is ``better``, ``worse`` or the ``same``."""
    if delta == 0:
        return "same"
    return "better" if (delta > 0) == higher_is_better else "worse"


MetricFn = Callable[[Sequence[str], Sequence[str], Sequence[Mapping[str, str]]], float]


def _majority(preds_by_seed: Sequence[Sequence[str]], i: int) -> str:
    votes = Counter(p[i] for p in preds_by_seed)
    best = max(votes.values())
    return next(p[i] for p in preds_by_seed if votes[p[i]] == best)  # ties: the first seed's label


def mcnemar_exact(gold: Sequence[str], a: Sequence[str], b: Sequence[str]) -> tuple[float, tuple[int, int]]:
    a_only = sum(1 for g, x, y in zip(gold, a, b) if x == g and y != g)
    b_only = sum(1 for g, x, y in zip(gold, a, b) if y == g and x != g)
    if a_only + b_only == 0:
        return 1.0, (0, 0)
    return float(binomtest(a_only, a_only + b_only, 0.5).pvalue), (a_only, b_only)


def compare(
    gold: Sequence[str],
    variant: Sequence[Sequence[str]],
    baseline: Sequence[Sequence[str]],
    metric: MetricFn,
    extra: Sequence[Mapping[str, str]] = (),
    n_boot: int = 1000,
    seed: int = 0,
    higher_is_better: bool = True,
) -> Comparison:
    """``variant`` and ``baseline`` are lists of per-seed prediction lists aligned with ``gold``;
    ``higher_is_better`` is the metric's direction (recorded for :meth:`Comparison.verdict`)."""
    n = len(gold)
    if not variant or not baseline or any(len(p) != n for p in (*variant, *baseline)):
        raise ValueError("predictions must be non-empty and aligned with the gold labels")
    extra = list(extra) if extra else [{} for _ in range(n)]

    def stat(idx: np.ndarray) -> float:
        g = [gold[i] for i in idx]
        e = [extra[i] for i in idx]
        a = np.mean([metric(g, [p[i] for i in idx], e) for p in variant])
        b = np.mean([metric(g, [p[i] for i in idx], e) for p in baseline])
        return float(a - b)

    observed = stat(np.arange(n))
    rng = np.random.default_rng(seed)
    boots = np.array([stat(rng.integers(0, n, n)) for _ in range(n_boot)])
    # Two-sided p: how often the resampled difference falls on the other side of zero.
    p_boot = min(1.0, 2 * min((boots <= 0).mean(), (boots >= 0).mean())) if observed != 0 else 1.0
    p_boot = max(p_boot, 1.0 / (n_boot + 1)) if observed != 0 else 1.0
    low, high = np.percentile(boots, [2.5, 97.5])
    vote_a = [_majority(variant, i) for i in range(n)]
    vote_b = [_majority(baseline, i) for i in range(n)]
    p_mc, discordant = mcnemar_exact(gold, vote_a, vote_b)
    return Comparison(observed, float(low), float(high), float(p_boot), p_mc, n, n_boot, discordant,
                      higher_is_better=higher_is_better)


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in the input order."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted
