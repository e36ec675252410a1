"""Recomputing a run's metrics from its stored predictions (and explanations) alone, and checking
those predictions row by row first (what ``rescore`` and ``submit`` rely on): an edited or
damaged file is named with its line, never scored as if it were whole.

This module is given the rows, the run's recorded counts and scoring spec; reading and rewriting
the stored run is the store's side (:mod:`alexbench.run.rescoring`)."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from alexbench.config.labels import LabelSpace
from alexbench.errors import DamagedRunError
from alexbench.plugin.registry import Registry
from alexbench.scoring.explainer_stats import add_calibration_threshold, explainer_stats
from alexbench.scoring.metrics import Metric, StoredScoring, score
from alexbench.scoring.results import ExplanationRow, PredictionRow, RunMetrics, SplitScores

_REQUIRED = ("split", "id", "gold", "pred")


def recorded_counts(provenance: Mapping[str, Any]) -> dict[str, int]:
    """Posts per scored split as the run recorded them when it read its data (provenance.json
    ``data.<split>.rows``); empty when ``provenance`` cannot tell."""
    data = provenance.get("data", {}) if isinstance(provenance, Mapping) else {}
    return {split: data[split]["rows"] for split in ("dev", "test")
            if isinstance(data, dict) and isinstance(data.get(split), dict) and isinstance(data[split].get("rows"), int)}


def check_predictions(path: Path, rows: Sequence[Any], space: LabelSpace, expected: Mapping[str, int],
                      repair: str) -> None:
    """Raise :class:`DamagedRunError` naming ``path`` (a run's predictions.jsonl), the line and the
    field unless every row is a dev or test prediction with an id and a gold and predicted label
    of the task (``space``), each id once per split, and (``expected``) as many rows per split as
    the run had posts. ``repair`` ends each message: how to repair the file."""
    with open(path, encoding="utf-8") as fh:  # the rows' own line numbers (blank lines are skipped)
        numbers = [n for n, line in enumerate(fh, start=1) if line.strip()]

    def bad(line: int, field: str, message: str) -> DamagedRunError:
        return DamagedRunError(f"{path}:{line}: {field + ': ' if field else ''}{message}; {repair}")

    first: dict[tuple[str, str], int] = {}
    counts: Counter[str] = Counter()
    for i, row in enumerate(rows):
        line = numbers[i] if i < len(numbers) else i + 1
        if not isinstance(row, dict):
            raise bad(line, "", f"expected a JSON object (a prediction), got {row!r}")
        for key in _REQUIRED:
            if key not in row:
                raise bad(line, key, "missing")
        split, post_id = row["split"], row["id"]
        if split not in ("dev", "test"):
            raise bad(line, "split", f"expected 'dev' or 'test', got {split!r}")
        if not isinstance(post_id, str) or not post_id:
            raise bad(line, "id", f"expected a post id, got {post_id!r}")
        for key in ("gold", "pred", "classifier_pred"):
            problem = space.problem(row[key]) if key in row else None
            if problem:
                raise bad(line, key, f"{row[key]!r} is {problem}")
        if (split, post_id) in first:
            raise bad(line, "id", f"{split} post {post_id!r} is predicted twice (first on line {first[split, post_id]})")
        first[split, post_id] = line
        counts[split] += 1
    for split, n in expected.items():
        if counts[split] != n:
            raise DamagedRunError(f"{path}: {counts[split]} {split} predictions, but the run had {n} {split} posts "
                                  f"(provenance.json data.{split}.rows): rows are missing or were added; "
                                  f"{repair}")


def stored_space(scoring: StoredScoring) -> LabelSpace:
    """The label space a stored run's predictions are checked against. A run's spec does not
    record a multi-label task's ``labels.empty``, so an empty label set is let through there."""
    return LabelSpace(scoring.labels, scoring.multi_label, empty="" if scoring.multi_label else None)


def recompute(run_id: str, scoring: StoredScoring, rows: Sequence[PredictionRow],
              explanations: Sequence[ExplanationRow], metrics: Registry[Metric]) -> RunMetrics:
    """metrics.json as the run would write it, from its checked predictions (``rows``) and
    explanations alone."""
    def scored(part: Sequence[PredictionRow], labels: Sequence[str], where: str) -> SplitScores:
        return SplitScores.from_dict(score(scoring, [r.gold for r in part], list(labels), metrics,
                                           [r.inputs for r in part]), "score()", where)

    dev, test = ([r for r in rows if r.split == split] for split in ("dev", "test"))
    out = RunMetrics(run_id, scored(dev, [r.pred for r in dev], "dev"), scored(test, [r.pred for r in test], "test"))
    if explanations:
        out = dataclasses.replace(
            out, test_before_explainer=scored(test, [r.classifier_pred for r in test], "test_before_explainer"),
            explainer=explainer_stats(explanations, {r.id: r.gold for r in test}))
    return out


def same_metrics(a: Any, b: Any) -> bool:
    """Equal, floats within 1e-9 (a rescore that changes nothing); of two :class:`RunMetrics`, their
    JSON."""
    if isinstance(a, RunMetrics) and isinstance(b, RunMetrics):
        return same_metrics(a.to_dict(), b.to_dict())
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_metrics(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_metrics(x, y) for x, y in zip(a, b))
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and abs(float(a) - float(b)) <= 1e-9
    return a == b


def keep_decisions(new: RunMetrics, old: RunMetrics | None) -> RunMetrics:
    """``new`` with what the run decided rather than measured, which cannot come back from its
    predictions: the explainer's calibration on dev (its candidates and the threshold chosen) is
    kept from the stored metrics.json, so a rewrite never loses it; so is what a model-calling
    classifier's predictions cost (``classifier_usage``), which its predictions do not hold."""
    if old is None:
        return new
    if old.classifier_usage is not None:
        new = dataclasses.replace(new, classifier_usage=old.classifier_usage)
    if old.explainer_calibration is None or new.explainer is None:
        return new
    return dataclasses.replace(new, explainer_calibration=old.explainer_calibration,
                               explainer=add_calibration_threshold(new.explainer, old.explainer_calibration))
