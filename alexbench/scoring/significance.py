"""Paired significance of a variant against a baseline on the same test posts.

* Paired bootstrap: posts are resampled with replacement (all seeds of a post move together,
  so seed-to-seed correlation is respected); the statistic is the difference of the
  seed-averaged metric. Gives the 95% CI of the difference and a two-sided p-value.
* McNemar's exact test on the seed-majority predictions of each system (discordant pairs,
  binomial with p = 1/2).
* Holm's step-down correction across the variants compared with one baseline.

A metric that only counts (:attr:`Metric.from_tables <alexbench.scoring.metrics.Metric.from_tables>`,
given as :class:`Counted`) is computed on each resample from confusion matrices made by one
``numpy.bincount`` instead of a pass over every post: the same draws, the same floats, ~20×
faster at a real split's size (benchmarks/test_bench_significance.py). Any other metric is
called on the resampled posts.

Δ is always the variant's metric minus the baseline's; whether a positive Δ is an improvement is
the metric's direction (``higher_is_better``; Hamming loss is lower-is-better), which
:meth:`Comparison.verdict` applies. The p-values are two-sided and need no direction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from alexbench.scoring.tables import Tables


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


@dataclass(frozen=True)
class Counted:
    """A single-label metric the bootstrap may compute from confusion :class:`Tables`: its
    ``from_tables`` (None counts as 0.0) with the task's labels, positive class and metric params."""

    from_tables: Callable[[Tables], float | None]
    labels: Sequence[str]
    positive: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)


def _counting_stat(counted: Counted, gold: Sequence[str], systems: Sequence[Sequence[Sequence[str]]],
                   extra: Sequence[Mapping[str, str]]) -> Callable[[np.ndarray], list[list[float]]] | None:
    """``stat(idx)``: each system's per-seed metric on the posts ``idx``, from one bincount of
    every prediction list's cells. None when the metric cannot be counted here (a label outside
    the task's set, a post without the grouping column): the caller then calls the metric itself,
    which says why."""
    labels = list(counted.labels)
    pos = {label: i for i, label in enumerate(labels)}
    size = len(labels)
    group_by = counted.params.get("group_by")
    if group_by and any(group_by not in row for row in extra):
        return None
    ids: dict[str, int] = {}
    group = np.array([ids.setdefault(row[group_by], len(ids)) for row in extra] if group_by else [0] * len(gold),
                     dtype=np.int64)
    n_groups = max(len(ids), 1)
    block = n_groups * size * size
    try:
        base = (group * size + np.array([pos[g] for g in gold], dtype=np.int64)) * size
        # one row per prediction list (the variant's seeds, then the baseline's), each in its own
        # block of cells, so one bincount per resample counts them all
        cells = np.stack([base + np.array([pos[x] for x in p], dtype=np.int64) + k * block
                          for k, p in enumerate([p for seeds in systems for p in seeds])])
    except KeyError:
        return None
    ends = np.cumsum([len(seeds) for seeds in systems]).tolist()

    def value(tables: list[list[list[int]]], order: list[int]) -> float:
        got = counted.from_tables(Tables([tables[k] for k in order], labels, counted.positive, counted.params))
        return float(got if got is not None else 0.0)

    def stat(idx: np.ndarray) -> list[list[float]]:
        order = [0]
        if group_by:  # the groups in the order they first occur among the resampled posts (O(n))
            first = np.full(n_groups, len(idx), dtype=np.int64)
            np.minimum.at(first, group[idx], np.arange(len(idx)))
            by_first = np.argsort(first, kind="stable")
            order = by_first[first[by_first] < len(idx)].tolist()
        counts = np.bincount(cells[:, idx].ravel(), minlength=len(cells) * block)
        values = [value(tables, order) for tables in counts.reshape(len(cells), n_groups, size, size).tolist()]
        return [values[a:b] for a, b in zip([0, *ends], ends)]

    return stat


def _majority(preds_by_seed: Sequence[Sequence[str]], i: int) -> str:
    votes = Counter(p[i] for p in preds_by_seed)
    best = max(votes.values())
    return next(p[i] for p in preds_by_seed if votes[p[i]] == best)  # ties: the first seed's label


def mcnemar_exact(gold: Sequence[str], a: Sequence[str], b: Sequence[str]) -> tuple[float, tuple[int, int]]:
    a_only = sum(1 for g, x, y in zip(gold, a, b) if x == g and y != g)
    b_only = sum(1 for g, x, y in zip(gold, a, b) if y == g and x != g)
    if a_only + b_only == 0:
        return 1.0, (0, 0)
    from scipy.stats import binomtest  # ~1 s to import: only when a board is compared, not for every command

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
    counted: Counted | None = None,
) -> Comparison:
    """``variant`` and ``baseline`` are lists of per-seed prediction lists aligned with ``gold``;
    ``higher_is_better`` is the metric's direction (recorded for :meth:`Comparison.verdict`).
    ``counted``: the same metric as confusion-table arithmetic, for speed; the result is the
    same float for float as with ``metric`` alone."""
    n = len(gold)
    if not variant or not baseline or any(len(p) != n for p in (*variant, *baseline)):
        raise ValueError("predictions must be non-empty and aligned with the gold labels")
    extra = list(extra) if extra else [{} for _ in range(n)]
    counting = _counting_stat(counted, gold, (variant, baseline), extra) if counted is not None else None

    def stat(idx: np.ndarray) -> float:
        if counting is not None:
            values_a, values_b = counting(idx)
            return float(np.mean(values_a) - np.mean(values_b))
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
