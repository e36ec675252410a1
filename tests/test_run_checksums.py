"""Every run records the checksums of what it measured and predicted (checksums.json): an edited
metrics.json, predictions.jsonl or explanations.jsonl is named wherever it is read, 'rescore
--write' repairs metrics, and runs stored before checksums existed load as before (issue 30,
item 13)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from alexbench.cli.main import cli
from alexbench.config.tasks import TaskCatalog
from alexbench.config.variants import ComponentSpec, VariantSpec
from alexbench.errors import AlexbenchError
from alexbench.fsio import sha256_obj
from alexbench.plugin.host import PluginHost
from alexbench.run.rescoring import rescore
from alexbench.run.runner import Runner
from alexbench.run.store import DamagedRunError, ResultsStore, StoredRun

CHECKSUMS = "checksums.json"


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A results store with two real demo runs: tfidf, and tfidf judged by the simulated oracle
    (it writes explanations.jsonl)."""
    host = PluginHost()
    task = TaskCatalog(host.task_dirs()).load("demo")
    store = ResultsStore(tmp_path_factory.mktemp("stored") / "results")
    runner = Runner(host, store, show_progress=False)
    runner.run(task, VariantSpec("tfidf", ComponentSpec("tfidf_logreg")), 1)
    runner.run(task, VariantSpec("tfidf-oracle", ComponentSpec("tfidf_logreg"), (),
                                 ComponentSpec("oracle_judge", {"catch_rate": 1.0})), 1)
    return store.root


@pytest.fixture
def results(stored: Path, tmp_path: Path) -> Path:
    shutil.copytree(stored, tmp_path / "results")
    return tmp_path / "results"


def _run(results: Path, variant: str = "tfidf") -> StoredRun:
    [path] = (results / "runs" / "demo" / variant).iterdir()
    return StoredRun(path)


def _edit_metrics(run: StoredRun, value: float = 0.99) -> None:
    metrics = json.loads((run.path / "metrics.json").read_text(encoding="utf-8"))
    metrics["test"]["official"]["value"] = value
    (run.path / "metrics.json").write_text(json.dumps(metrics, indent=2), encoding="utf-8")


def _cli(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_a_run_records_the_checksums_of_what_it_measured_and_predicted(results: Path) -> None:
    plain, judged = _run(results), _run(results, "tfidf-oracle")
    sums = json.loads((plain.path / CHECKSUMS).read_text(encoding="utf-8"))
    assert set(sums) == {"metrics.json", "predictions.jsonl"}
    assert sums["metrics.json"] == sha256_obj(plain.metrics())  # of the content: canonical JSON
    assert set(json.loads((judged.path / CHECKSUMS).read_text(encoding="utf-8"))) == {
        "metrics.json", "predictions.jsonl", "explanations.jsonl"}
    assert judged.explanations() and plain.predictions()  # they verify


def test_an_edited_metric_is_named_everywhere_and_rescore_write_repairs_it(results: Path) -> None:
    run = _run(results)
    original = run.metrics()
    _edit_metrics(run)
    with pytest.raises(DamagedRunError) as exc:
        run.metrics()
    assert f"{run.path / 'metrics.json'}: edited since the run was stored" in str(exc.value)
    assert f"'alexbench rescore --run {run.path} --write' rebuilds it" in str(exc.value)
    board = _cli("--results", str(results), "leaderboard", "-t", "demo", "--bootstrap", "20")
    assert board.exit_code == 1 and f"left out of the leaderboard: {run.path / 'metrics.json'}: edited" in board.output
    assert "0.99" not in board.output  # the edited value is not shown as a result
    check = _cli("--results", str(results), "rescore")
    assert check.exit_code == 1 and "2 runs rescored, 1 differ" in check.output and "stored metrics damaged" in check.output
    repair = _cli("--results", str(results), "rescore", "--run", str(run.path), "--write")
    assert repair.exit_code == 0, repair.output
    assert run.metrics() == original  # the recomputed metrics, and their checksum, are back
    assert _cli("--results", str(results), "rescore").exit_code == 0
    assert _cli("--results", str(results), "leaderboard", "-t", "demo", "--bootstrap", "20").exit_code == 0


def test_formatting_is_not_an_edit(results: Path) -> None:
    run = _run(results)
    metrics = run.metrics()
    (run.path / "metrics.json").write_text(json.dumps(metrics, separators=(",", ":")), encoding="utf-8")
    assert run.metrics() == metrics  # key order and spacing do not count; a value does


@pytest.mark.parametrize("name", ["predictions.jsonl", "explanations.jsonl"])
def test_edited_predictions_or_explanations_are_named_and_not_laundered_by_rescore(results: Path, name: str) -> None:
    run = _run(results, "tfidf-oracle")
    path = run.path / name
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    row = json.loads(lines[-1])
    key = "pred" if name == "predictions.jsonl" else "reason"
    row[key] = "1" if row.get(key) == "0" else "0"  # one post's prediction (or the judge's reason) changed
    path.write_text("".join(lines[:-1]) + json.dumps(row) + "\n", encoding="utf-8")
    with pytest.raises(DamagedRunError, match=f"{path}: edited since the run was stored"):
        run.predictions() if name == "predictions.jsonl" else run.explanations()
    stored_metrics = (run.path / "metrics.json").read_bytes()
    run.metrics()  # metrics.json itself is intact
    for args in (("rescore",), ("rescore", "--write")):  # no repair from edited predictions: a rerun is
        result = _cli("--results", str(results), *args)
        assert result.exit_code == 1 and f"cannot rescore {run.path}: {path}: edited" in result.output
        assert "delete the folder" in result.output
    assert (run.path / "metrics.json").read_bytes() == stored_metrics


def test_runs_stored_before_checksums_load_as_before(results: Path) -> None:
    """No checksums.json: the files are read and their structure checked, as they always were;
    an edited value is then found by rescore (it recomputes), whose --write seals the run."""
    run = _run(results)
    original = run.metrics()
    (run.path / CHECKSUMS).unlink()
    assert run.checksums() is None and run.metrics() == original and run.predictions()
    _edit_metrics(run, 0.5)
    assert run.metrics()["test"]["official"]["value"] == 0.5  # not verifiable without a checksum
    assert _cli("--results", str(results), "rescore").exit_code == 1
    assert _cli("--results", str(results), "rescore", "--run", str(run.path), "--write").exit_code == 0
    assert run.metrics() == original and set(run.checksums() or {}) == {"metrics.json"}
    _edit_metrics(run, 0.25)
    with pytest.raises(DamagedRunError, match="edited since the run was stored"):
        run.metrics()


@pytest.mark.parametrize("damage", ["", "{not json", '["a list"]', '{"metrics.json": 3}'])
def test_a_damaged_checksums_file_is_named_and_rebuilt_by_rescore_write(results: Path, damage: str) -> None:
    run = _run(results, "tfidf-oracle")
    original = run.metrics()
    (run.path / CHECKSUMS).write_text(damage, encoding="utf-8")
    with pytest.raises(AlexbenchError, match=str(run.path / CHECKSUMS)):
        run.metrics()
    assert _cli("--results", str(results), "rescore").exit_code == 1
    repair = _cli("--results", str(results), "rescore", "--run", str(run.path), "--write")
    assert repair.exit_code == 0, repair.output
    assert run.metrics() == original and set(run.checksums() or {}) == {"metrics.json", "predictions.jsonl",
                                                                        "explanations.jsonl"}
    assert rescore(run, PluginHost().metrics)[0]
