"""Recomputing a run's metrics from its stored predictions (and explanations) alone."""

from __future__ import annotations

from typing import Any

from alexbench.fsio import atomic_write_json
from alexbench.plugin.registry import Registry
from alexbench.run.store import DamagedRunError, StoredRun
from alexbench.scoring.explainer_stats import add_calibration_threshold, explainer_stats
from alexbench.scoring.metrics import Metric, StoredScoring, score


def recompute(run: StoredRun, metrics: Registry[Metric]) -> dict[str, Any]:
    """metrics.json as the run would write it, from run_spec.json, predictions.jsonl and
    explanations.jsonl alone (metrics.json itself is not read: it may be the damaged file)."""
    spec = run.spec()
    scoring = StoredScoring.from_run_spec(spec)
    rows = run.predictions()
    out: dict[str, Any] = {"run_id": run.run_id}
    for split in ("dev", "test"):
        part = [r for r in rows if r["split"] == split]
        out[split] = score(scoring, [r["gold"] for r in part], [r["pred"] for r in part], metrics,
                           [r.get("extra", {}) for r in part])
    explanations = run.explanations()
    if explanations:
        test = [r for r in rows if r["split"] == "test"]
        out["test_before_explainer"] = score(scoring, [r["gold"] for r in test], [r["classifier_pred"] for r in test],
                                             metrics, [r.get("extra", {}) for r in test])
        out["explainer"] = explainer_stats(explanations, {r["id"]: r["gold"] for r in test})
    return out


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b))
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and abs(float(a) - float(b)) <= 1e-9
    return a == b


def _keep_decisions(new: dict[str, Any], old: dict[str, Any] | None) -> None:
    """What the run decided rather than measured cannot come back from its predictions: the
    explainer's calibration on dev (its candidates and the threshold chosen) is kept from the
    stored metrics.json, so a rewrite never loses it; so is what a model-calling classifier's
    predictions cost (``classifier_usage``), which its predictions do not hold."""
    if old is not None and isinstance(old.get("classifier_usage"), dict):
        new["classifier_usage"] = old["classifier_usage"]
    calibration = old.get("explainer_calibration") if old is not None else None
    if calibration is None or "explainer" not in new:
        return
    new["explainer_calibration"] = calibration
    add_calibration_threshold(new["explainer"], calibration)


def rescore(run: StoredRun, metrics: Registry[Metric], write: bool = False) -> tuple[bool, dict[str, Any]]:
    """Returns (unchanged, recomputed); with ``write``, replaces metrics.json atomically. A
    damaged metrics.json (not JSON, or missing what it must hold) counts as changed, so ``write``
    repairs it. Raises :class:`DamagedRunError` when the predictions or the spec are damaged."""
    new = recompute(run, metrics)
    try:
        old = run.metrics()
    except DamagedRunError:
        old = None
    _keep_decisions(new, old)
    unchanged = old is not None and _close(new, old)
    if write and not unchanged:
        atomic_write_json(run.path / "metrics.json", new)
    return unchanged, new
