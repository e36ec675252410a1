"""Submissions, the CodaLab-style scorer and rescoring, on real runs of the demo task."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from alexbench.config.tasks import TaskCatalog
from alexbench.config.variants import ComponentSpec, VariantSpec
from alexbench.run.runner import Runner
from alexbench.scoring.rescore import rescore
from alexbench.scoring.submission import SubmissionError, score_files, write_submission

from .conftest import REPO


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    from alexbench.plugin.host import PluginHost
    from alexbench.run.store import ResultsStore

    host = PluginHost()
    task = TaskCatalog(host.task_dirs()).load("demo")
    store = ResultsStore(tmp_path_factory.mktemp("results"))
    variant = VariantSpec("tfidf-balanced", ComponentSpec("tfidf_logreg", {"class_weight": "balanced"}))
    run = Runner(host, store, show_progress=False).run(task, variant, 1).run
    return host, task, run


def test_submission_is_the_exact_smm4h_format(demo_run, tmp_path: Path) -> None:
    _, task, run = demo_run
    path = write_submission(run, task, tmp_path)
    assert path.name == "prediction_task1.zip"
    with zipfile.ZipFile(path) as archive:
        assert archive.namelist() == ["prediction_task1.tsv"]  # no folder inside
        lines = archive.read("prediction_task1.tsv").decode().splitlines()
    assert lines[0] == "tweet_id\tlabel"
    test_ids = [line.split("\t")[0] for line in (REPO / "plugins/alexbench_tasks/tasks/demo/data/test.tsv").read_text().splitlines()[1:]]
    assert [line.split("\t")[0] for line in lines[1:]] == test_ids
    assert {line.split("\t")[1] for line in lines[1:]} <= {"0", "1"}
    assert write_submission(run, task, tmp_path / "again").read_bytes() == path.read_bytes()  # reproducible bytes


def test_scorer_reproduces_the_leaderboard_numbers(demo_run, tmp_path: Path) -> None:
    host, task, run = demo_run
    sub = write_submission(run, task, tmp_path)
    result = score_files(task, REPO / "plugins/alexbench_tasks/tasks/demo/data/test.tsv", sub, host.metrics)
    assert result == run.metrics()["test"]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "prediction_task1.tsv"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda lines: [lines[0], *lines[1:], lines[1]], "duplicate id"),
        (lambda lines: [lines[0], *lines[2:]], "1 of 120 gold ids have no prediction"),
        (lambda lines: [lines[0], lines[1].split("\t")[0] + "\tmaybe", *lines[2:]], ":2: unknown label 'maybe'"),
        (lambda lines: ["id\tlabel", *lines[1:]], ":1: header must be"),
        (lambda lines: [*lines, "999\t1"], "id '999' is not in the gold test set"),
        (lambda lines: [lines[0], lines[1] + "\textra", *lines[2:]], ":2: expected 2 fields"),
    ],
)
def test_malformed_submissions_get_precise_errors(demo_run, tmp_path: Path, mutate, message: str) -> None:
    host, task, run = demo_run
    with zipfile.ZipFile(write_submission(run, task, tmp_path)) as archive:
        lines = archive.read("prediction_task1.tsv").decode().splitlines()
    bad = _write(tmp_path, "\n".join(mutate(lines)) + "\n")
    with pytest.raises(SubmissionError, match=message):
        score_files(task, REPO / "plugins/alexbench_tasks/tasks/demo/data/test.tsv", bad, host.metrics)


def test_codalab_mode_writes_scores_txt(demo_run, tmp_path: Path) -> None:
    _, task, run = demo_run
    (tmp_path / "input" / "ref").mkdir(parents=True)
    (tmp_path / "input" / "ref" / "test.tsv").write_bytes((REPO / "plugins/alexbench_tasks/tasks/demo/data/test.tsv").read_bytes())
    write_submission(run, task, tmp_path / "input" / "res")
    result = subprocess.run([sys.executable, "-m", "alexbench", "score", "--task", "demo",
                             str(tmp_path / "input"), str(tmp_path / "output")], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    scores = dict(line.split(":") for line in (tmp_path / "output" / "scores.txt").read_text().splitlines())
    assert float(scores["f1_positive"]) == pytest.approx(run.metrics()["test"]["official"]["value"], abs=1e-6)
    assert list(scores)[0] == "f1_positive"


def test_rescore_from_predictions_alone(demo_run, tmp_path: Path) -> None:
    host, _, run = demo_run
    unchanged, new = rescore(run, host.metrics)
    assert unchanged and new["test"] == run.metrics()["test"]
    # Tamper with a stored metric: rescore notices and, with write, repairs it.
    metrics = run.metrics()
    original = json.dumps(metrics)
    metrics["test"]["official"]["value"] = 0.999
    (run.path / "metrics.json").write_text(json.dumps(metrics))
    unchanged, _ = rescore(run, host.metrics, write=True)
    assert not unchanged and json.loads(original)["test"] == run.metrics()["test"]
