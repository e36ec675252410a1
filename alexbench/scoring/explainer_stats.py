"""An explainer's statistics of one run (``metrics.json`` → ``explainer``, the leaderboard's
explainer columns): posts sent, flips and their precision, failure rates, the model's latency and
cost; for a multi-label judge (explanations whose details list the questions asked per label,
``details.labels``) also its per-label removals and their precision."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from alexbench.interfaces import Explanation, split_labels
from alexbench.scoring.results import ExplainerStats, ExplanationRow

#: An explainer's answer as it gave it, or as the run stored it (the same fields).
Answer = Explanation | ExplanationRow


def _share(num: float, den: float) -> float:
    return num / den if den else 0.0


def _percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (linear interpolation between closest ranks, NumPy's default)."""
    if not values:
        return None
    import numpy as np

    return float(np.percentile(np.asarray(values, dtype=float), q))


def explainer_stats(explanations: Sequence[Answer], gold: Mapping[str, str]) -> ExplainerStats:
    """Counts for an explainer variant: sent, flips, flip precision (flips that fixed an error /
    all flips), unparsable and failure rates (and ``failed``, the posts whose explanation failed,
    when there are any); the model's latency per post sent (mean, p50, p95)
    and its cost per 1,000 posts given to the explainer. Latency and cost are the model's for
    each reply, also for replies served from a cache (``model_latency_s``, ``model_cost_usd``;
    older runs without them: ``latency_s``, ``cost_usd``), so that a rerun from the cache reports
    what the explainer costs, and ``cost_paid_usd`` what this run paid."""
    sent = [e for e in explanations if e.status != "not_sent"]
    failed = sum(e.status == "failed" for e in sent)
    flips = [e for e in sent if e.new_label != e.old_label]
    fixed = sum(1 for e in flips if gold.get(e.post_id) == e.new_label)
    broke = sum(1 for e in flips if gold.get(e.post_id) == e.old_label)

    def detail(e: Answer, key: str) -> Any:
        details = e.details or {}
        return details[f"model_{key}"] if f"model_{key}" in details else details.get(key)

    latencies = [float(v) for e in sent if (v := detail(e, "latency_s")) is not None]
    costs = [float(v) for e in sent if (v := detail(e, "cost_usd")) is not None]
    paid = [float(v) for e in sent if (v := (e.details or {}).get("cost_usd")) is not None]
    return ExplainerStats(
        posts=len(explanations),
        sent=len(sent),
        flips=len(flips),
        flips_fixed=fixed,
        flips_broke=broke,
        flip_precision=_share(fixed, len(flips)) if flips else None,
        unparsable_rate=_share(sum(e.status == "unparsable" for e in sent), len(sent)) if sent else None,
        failed_rate=_share(failed, len(sent)) if sent else None,
        # Only where some post failed (a run the allowed share let through): the leaderboard shows
        # the column when a row has it, and boards of runs without failures stay as they were.
        failed=failed or None,
        mean_latency_s=sum(latencies) / len(latencies) if latencies else None,
        latency_p50_s=_percentile(latencies, 50),
        latency_p95_s=_percentile(latencies, 95),
        cost_per_1000_posts_usd=1000 * sum(costs) / len(explanations) if costs and explanations else None,
        cost_paid_usd=sum(paid) if paid else None,
        **label_removal_stats(sent, gold),
    )


def add_calibration_threshold(stats: ExplainerStats, calibration: Any) -> ExplainerStats:
    """``stats`` with the threshold an explainer's dev calibration chose, shown among its
    statistics (the leaderboard's "llm threshold"); as they are when there is none."""
    threshold = calibration.get("threshold") if isinstance(calibration, dict) else None
    if isinstance(threshold, (int, float)) and not isinstance(threshold, bool):
        return dataclasses.replace(stats, threshold=threshold)
    return stats


def label_removal_stats(sent: Sequence[Answer], gold: Mapping[str, str]) -> dict[str, Any]:
    """A multi-label judge's questions, one per (post, label asked about): how many were asked,
    how many labels they removed, and ``removal_precision``, the share of removed labels that were
    wrong (not in the post's gold set). Empty for explanations without ``details.labels`` (every
    single-label explainer), so their statistics keep their keys."""
    records = [(e.post_id, r) for e in sent if isinstance(labels := (e.details or {}).get("labels"), list)
               for r in labels]
    if not records:
        return {}
    removed = [(post, r["label"]) for post, r in records if r.get("removed")]
    right = sum(1 for post, label in removed if post in gold and label not in split_labels(gold[post]))
    return {"label_questions": len(records), "label_removals": len(removed), "label_removals_right": right,
            "removal_precision": _share(right, len(removed)) if removed else None}
