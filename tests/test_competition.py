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
from alexbench.run.rescoring import rescore, write_submission
from alexbench.run.runner import Runner
from alexbench.scoring.submission import SubmissionError, score_files

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
    assert unchanged and new.test == run.scores().test and new.to_dict()["test"] == run.metrics()["test"]
    # Tamper with a stored metric: rescore notices and, with write, repairs it.
    metrics = run.metrics()
    original = json.dumps(metrics)
    metrics["test"]["official"]["value"] = 0.999
    (run.path / "metrics.json").write_text(json.dumps(metrics))
    unchanged, _ = rescore(run, host.metrics, write=True)
    assert not unchanged and json.loads(original)["test"] == run.metrics()["test"]


# -- multi-label: cells in the task's own spelling ----------------------------------------------


@pytest.fixture(scope="module")
def ml_run(tmp_path_factory):
    """A real tfidf_logreg run of a tiny multi-label task whose cells are written ``self ; other``,
    ``none`` for no label, with a plain (not zipped) submission format."""
    from alexbench.kit.tasks import TASK_KINDS, split_of, write_task
    from alexbench.plugin.host import PluginHost
    from alexbench.run.store import ResultsStore

    root = tmp_path_factory.mktemp("ml")
    splits: dict[str, list[tuple[str, str, str]]] = {"train": [], "dev": [], "test": []}
    for cell, texts in TASK_KINDS["multilabel"]["rows"].items():
        for i, text in enumerate(texts):
            splits[split_of(i)].append((f"{split_of(i)}-{cell.replace(',', '+')}-{i}", text, cell.replace(",", " ; ")))
    path = write_task(root / "ml_sub", splits, name="ml_sub", labels=["self", "other"], metric="macro_f1",
                      multi_label=True, separator=" ; ", empty="none", submission="prediction_ml.tsv")
    path.write_text(path.read_text() + "zip = false\n", encoding="utf-8")  # [submission] is the last table
    from alexbench.config.tasks import load_task

    host, task = PluginHost(), load_task(path)
    variant = VariantSpec("tfidf", ComponentSpec("tfidf_logreg", {"class_weight": "balanced"}))
    run = Runner(host, ResultsStore(root / "results"), show_progress=False).run(task, variant, 1).run
    return host, task, run


def test_a_multi_label_submission_is_written_in_the_tasks_spelling_and_scores_as_the_run(ml_run, tmp_path) -> None:
    host, task, run = ml_run
    path = write_submission(run, task, tmp_path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert path.name == "prediction_ml.tsv" and lines[0] == "tweet_id\tlabel"
    stored = {r["id"]: r["pred"] for r in run.predictions() if r["split"] == "test"}
    cells = dict(line.split("\t") for line in lines[1:])
    assert cells.keys() == stored.keys()
    assert {c for c in cells.values()} <= {"none", "self", "other", "self ; other"}
    for post_id, pred in stored.items():  # the canonical "self|other" is written as the task writes it
        assert cells[post_id] == (pred.replace("|", " ; ") or "none")
    assert len({c for c in cells.values()}) > 1  # the run predicts more than one set: the check means something
    result = score_files(task, task.split_path("test"), path, host.metrics)
    assert result == run.metrics()["test"]
    assert result["official"]["name"] == "macro_f1" and "hamming_loss" in result["scalars"]
    # Cells may list a set's labels in any order and with spaces around the separator: the same set.
    shuffled = ["tweet_id\tlabel"] + [f"{i}\t{' ;  '.join(reversed(c.split(' ; ')))}" for i, c in cells.items()]
    again = tmp_path / "again" / "prediction_ml.tsv"
    again.parent.mkdir()
    again.write_text("\n".join(shuffled) + "\n", encoding="utf-8")
    assert score_files(task, task.split_path("test"), again, host.metrics) == result


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("self ; maybe", r":2: unknown label 'maybe' in 'self ; maybe'; expected some of \['self', 'other'\] or 'none'"),
        ("self ; self", r":2: label 'self' given twice in 'self ; self'"),
        ("self ;  ; other", r":2: empty label in 'self ;  ; other'"),
        ("", r":2: empty label in ''"),
        ("none ; self", r":2: 'none' \(no label\) together with labels"),
        ("self|other", r":2: unknown label 'self\|other'"),  # the canonical form is not the task's spelling
    ],
)
def test_malformed_multi_label_cells_name_file_and_line(ml_run, tmp_path: Path, cell: str, message: str) -> None:
    host, task, run = ml_run
    lines = write_submission(run, task, tmp_path).read_text(encoding="utf-8").splitlines()
    bad = tmp_path / "bad.tsv"
    bad.write_text("\n".join([lines[0], lines[1].split("\t")[0] + "\t" + cell, *lines[2:]]) + "\n", encoding="utf-8")
    with pytest.raises(SubmissionError, match=f"{bad}{message}"):
        score_files(task, task.split_path("test"), bad, host.metrics)
    bad.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")  # a missing row
    with pytest.raises(SubmissionError, match=rf"{bad}: 1 of {len(lines) - 1} gold ids have no prediction"):
        score_files(task, task.split_path("test"), bad, host.metrics)


def test_submit_and_score_commands_on_a_multi_label_task(ml_run, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from alexbench.cli.main import cli

    _, task, run = ml_run
    results = run.path.parents[3]  # results/runs/<task>/<variant>/<run>
    invoke = CliRunner().invoke
    written = invoke(cli, ["--results", str(results), "submit", "--run", str(run.path), "--task", str(task.path),
                           "--out", str(tmp_path)])
    assert written.exit_code == 0, written.output
    [sub] = (tmp_path / "ml_sub").rglob("prediction_ml.tsv")
    scored = invoke(cli, ["score", "--task", str(task.path), "--gold", str(task.split_path("test")),
                          "--pred", str(sub), "--json"])
    assert scored.exit_code == 0, scored.output
    assert json.loads(scored.output) == json.loads(json.dumps(run.metrics()["test"]))
