"""Recomputing a run's metrics from its stored predictions (and explanations) alone, and checking
those predictions row by row first (what ``rescore`` and ``submit`` rely on): an edited or
damaged file is named with its line, never scored as if it were whole."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from alexbench.config.labels import LabelSpace
from alexbench.fsio import atomic_write_json
from alexbench.plugin.registry import Registry
from alexbench.run.store import CHECKSUMMED, DamagedRunError, StoredRun
from alexbench.scoring.explainer_stats import add_calibration_threshold, explainer_stats
from alexbench.scoring.metrics import Metric, StoredScoring, score

_REQUIRED = ("split", "id", "gold", "pred")


def recorded_counts(run: StoredRun) -> dict[str, int]:
    """Posts per scored split as the run recorded them when it read its data (provenance.json
    ``data.<split>.rows``); empty when provenance.json cannot tell."""
    try:
        data = run.provenance().get("data", {})
    except (DamagedRunError, AttributeError):
        return {}
    return {split: data[split]["rows"] for split in ("dev", "test")
            if isinstance(data, dict) and isinstance(data.get(split), dict) and isinstance(data[split].get("rows"), int)}


def check_predictions(run: StoredRun, rows: Sequence[Any], space: LabelSpace, expected: Mapping[str, int]) -> None:
    """Raise :class:`DamagedRunError` naming predictions.jsonl, the line and the field unless
    every row is a dev or test prediction with an id and a gold and predicted label of the task
    (``space``), each id once per split, and (``expected``) as many rows per split as the run
    had posts."""
    path = run.path / "predictions.jsonl"
    with open(path, encoding="utf-8") as fh:  # the rows' own line numbers (blank lines are skipped)
        numbers = [n for n, line in enumerate(fh, start=1) if line.strip()]

    def bad(line: int, field: str, message: str) -> DamagedRunError:
        return DamagedRunError(f"{path}:{line}: {field + ': ' if field else ''}{message}; {run._repair(path.name)}")

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
                                  f"{run._repair(path.name)}")


def stored_space(scoring: StoredScoring) -> LabelSpace:
    """The label space a stored run's predictions are checked against. A run's spec does not
    record a multi-label task's ``labels.empty``, so an empty label set is let through there."""
    return LabelSpace(scoring.labels, scoring.multi_label, empty="" if scoring.multi_label else None)


def recompute(run: StoredRun, metrics: Registry[Metric], *, verify: bool = True) -> dict[str, Any]:
    """metrics.json as the run would write it, from run_spec.json, predictions.jsonl and
    explanations.jsonl alone (metrics.json itself is not read: it may be the damaged file). The
    predictions are checked first (:func:`check_predictions`) and, unless ``verify`` is False,
    against their checksum."""
    spec = run.spec()
    scoring = StoredScoring.from_run_spec(spec)
    rows = run.predictions(verify=verify)
    check_predictions(run, rows, stored_space(scoring), recorded_counts(run))
    out: dict[str, Any] = {"run_id": run.run_id}
    for split in ("dev", "test"):
        part = [r for r in rows if r["split"] == split]
        out[split] = score(scoring, [r["gold"] for r in part], [r["pred"] for r in part], metrics,
                           [r.get("extra", {}) for r in part])
    explanations = run.explanations(verify=verify)
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
    """Returns (unchanged, recomputed); with ``write``, replaces metrics.json atomically and records
    its checksum. A damaged metrics.json (not JSON, missing what it must hold, or edited: its
    checksum differs) counts as changed, so ``write`` repairs it. Raises :class:`DamagedRunError`
    when the predictions or the spec are damaged or edited (a rerun is their repair). When
    checksums.json itself is damaged the predictions cannot be verified: ``write`` rebuilds it
    from the files as they are."""
    try:
        run.checksums()
        verifiable = True
    except DamagedRunError:
        verifiable = False
    new = recompute(run, metrics, verify=verifiable)
    try:
        old = run.metrics()
    except DamagedRunError:
        old = None
    try:
        recorded = run.metrics(verify=False)  # an edit elsewhere must not lose the run's decisions
    except DamagedRunError:
        recorded = None
    _keep_decisions(new, recorded)
    unchanged = old is not None and _close(new, old)
    if write and not unchanged:
        atomic_write_json(run.path / "metrics.json", new)
        sealed = {"metrics.json": run.metrics(verify=False)}  # as written and read back
        if not verifiable:
            sealed.update({name: run._read(name, lines=True) for name in CHECKSUMMED[1:] if (run.path / name).exists()})
        run.seal(sealed, rebuild=not verifiable)
    return unchanged, new
