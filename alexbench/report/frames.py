"""Leaderboards and stored runs as pandas DataFrames, for notebooks (``to_pandas()`` in
:mod:`alexbench.api`). pandas is imported only here and only when a frame is asked for: the
command line never needs it.

Columns are flat and named for what they hold, so a frame filters, groups and plots without
unpacking: ``test_<official metric>_mean``-style names would change with the task, so the
official metric is one column (``official_metric``) and its values are ``test_mean``,
``test_std``, ``dev_mean``; other test metrics are ``test_<metric>``; per-class F1 is
``f1_<label>``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from alexbench.report.board import Leaderboard
from alexbench.run.store import StoredRun

if TYPE_CHECKING:
    import pandas


def _pandas() -> Any:
    try:
        import pandas
    except ImportError as exc:  # an optional import: say what to install
        raise ImportError("to_pandas() needs pandas: pip install pandas") from exc
    return pandas


def board_records(board: Leaderboard) -> list[dict[str, Any]]:
    """One record per row of ``board`` (a variant), best first as on the board."""
    records = []
    for rank, row in enumerate(board.rows, start=1):
        comparison = row.comparison
        record: dict[str, Any] = {
            "task": board.task, "variant": row.variant, "rank": rank, "official_metric": board.official_metric,
            "test_mean": row.test_official.mean, "test_std": row.test_official.std,
            "n_seeds": len(row.seeds), "seeds": tuple(row.seeds),
            "dev_mean": row.dev_official.mean, "dev_std": row.dev_official.std,
            "baseline": board.baseline, "delta": row.delta,
            "ci_low": comparison.ci_low if comparison else None, "ci_high": comparison.ci_high if comparison else None,
            "p_bootstrap_holm": comparison.p_bootstrap_holm if comparison else None,
            "p_mcnemar_holm": comparison.p_mcnemar_holm if comparison else None,
            "simulated": row.simulated,
            "classifier": (row.components.get("classifier") or {}).get("name"),
            "explainer": (row.components.get("explainer") or {}).get("name"),
            "augmenters": tuple(a.get("name") for a in row.components.get("augmenters") or ()),
        }
        record.update({f"test_{name}": stat.mean for name, stat in row.scalars.items()})
        record.update({f"f1_{label}": stat.mean for label, stat in row.per_class_f1.items()})
        record.update({f"explainer_{key}": stat.mean for key, stat in row.explainer.items()})
        record.update({f"classifier_{key}": stat.mean for key, stat in row.classifier_usage.items()})
        records.append(record)
    return records


def boards_frame(boards: Iterable[Leaderboard]) -> pandas.DataFrame:
    """Every board's rows, one DataFrame row per task × variant (a column a task lacks is NaN)."""
    return _pandas().DataFrame([record for board in boards for record in board_records(board)])


def run_record(run: StoredRun) -> dict[str, Any]:
    """One stored run: what it is (task, variant, seed, sweep point, run id, folder) and what it
    measured (official metric on test and dev, each test metric)."""
    spec, scores = run.spec(), run.scores()
    record: dict[str, Any] = {
        "task": spec.task.name, "variant": spec.variant.name, "seed": spec.seed, "run_id": run.run_id,
        "transform": ", ".join(f"{k}={v}" for k, v in spec.transform.items()) if spec.transform else None,
        "official_metric": spec.task.official_metric,
        "test": scores.test.official.value, "dev": scores.dev.official.value,
        "n_test": scores.test.n, "path": str(run.path),
    }
    record.update({f"test_{name}": value for name, value in scores.test.scalars.items()})
    return record


def runs_frame(runs: Iterable[StoredRun]) -> pandas.DataFrame:
    """One DataFrame row per stored run (a damaged run raises, naming its file and the repair)."""
    return _pandas().DataFrame([run_record(run) for run in runs])
