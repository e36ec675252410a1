"""``submit`` writes nothing unless every test post has exactly one prediction, a label of the
task; ``rescore`` names a duplicated, missing or edited prediction row instead of scoring it or
raising a traceback (issue 30, items 11 and 12)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from alexbench.cli.main import cli
from alexbench.config.tasks import load_task
from alexbench.config.variants import ComponentSpec, VariantSpec
from alexbench.errors import FailureError
from alexbench.plugin.host import PluginHost
from alexbench.run.rescoring import rescore, write_submission
from alexbench.run.runner import Runner
from alexbench.run.store import DamagedRunError, ResultsStore, StoredRun

from .conftest import make_tiny_task


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the tiny task and a real tfidf run of it (6 dev and 6 test posts)."""
    root = tmp_path_factory.mktemp("submit")
    task = load_task(make_tiny_task(root / "tasks"))
    variant = VariantSpec("tfidf", ComponentSpec("tfidf_logreg", {"class_weight": "balanced"}))
    Runner(PluginHost(), ResultsStore(root / "results"), show_progress=False).run(task, variant, 1)
    return root


@pytest.fixture
def work(finished: Path, tmp_path: Path) -> Path:
    shutil.copytree(finished, tmp_path / "w")
    return tmp_path / "w"


def _run(work: Path) -> StoredRun:
    [path] = (work / "results" / "runs" / "tiny" / "tfidf").iterdir()
    return StoredRun(path)


def _pred(line: str, label: str) -> str:
    row = json.loads(line)
    row["pred"] = label
    return json.dumps(row)


#: Edits of predictions.jsonl (its 12 lines: 6 dev, then 6 test) and what each must be called.
EDITS: dict[str, tuple[Callable[[list[str]], list[str]], str, str]] = {
    "empty": (lambda lines: [], "0 dev predictions, but the run had 6 dev posts", ""),
    "dropped test row": (lambda lines: lines[:-1], "5 test predictions, but the run had 6 test posts", ""),
    "label 7": (lambda lines: [*lines[:-1], _pred(lines[-1], "7")], ":12: pred: '7' is not one of ['0', '1']", ""),
    "duplicated id": (lambda lines: [*lines[:-1], lines[-2]], ":12: id: test post", "is predicted twice (first on line 11)"),
    "not an object": (lambda lines: [*lines[:-1], "[1, 2]"], ":12: expected a JSON object (a prediction), got [1, 2]", ""),
    "no gold": (lambda lines: [*lines[:-1], json.dumps({k: v for k, v in json.loads(lines[-1]).items() if k != "gold"})],
                ":12: gold: missing", ""),
}


def _edit(run: StoredRun, how: str, sealed: bool) -> Path:
    path = run.path / "predictions.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 12
    edited = EDITS[how][0](lines)
    path.write_text("".join(line + "\n" for line in edited), encoding="utf-8")
    if not sealed:  # a run stored before checksums existed: the rows themselves are checked
        (run.path / "checksums.json").unlink()
    return path


@pytest.mark.parametrize("sealed", [True, False], ids=["with checksums", "stored before checksums"])
@pytest.mark.parametrize("how", list(EDITS))
def test_submit_writes_nothing_from_bad_predictions(work: Path, how: str, sealed: bool) -> None:
    run = _run(work)
    task = load_task(work / "tasks" / "tiny" / "task.toml")
    path = _edit(run, how, sealed)
    out = work / "subs"
    with pytest.raises(DamagedRunError) as exc:
        write_submission(run, task, out)
    message = str(exc.value)
    if sealed:
        assert f"{path}: edited since the run was stored" in message
    else:
        assert str(path) in message and EDITS[how][1] in message and EDITS[how][2] in message
    assert "delete the folder" in message and not out.exists()
    result = CliRunner().invoke(cli, ["--results", str(work / "results"), "submit", "--run", str(run.path),
                                      "--out", str(out)])
    assert result.exit_code == 1 and str(path) in result.output and "Traceback" not in result.output
    assert not out.exists()


@pytest.mark.parametrize("how", list(EDITS))
def test_rescore_names_bad_prediction_rows_instead_of_scoring_them(work: Path, how: str) -> None:
    run = _run(work)
    path = _edit(run, how, sealed=False)
    with pytest.raises(DamagedRunError, match=str(path)):
        rescore(run, PluginHost().metrics)
    result = CliRunner().invoke(cli, ["--results", str(work / "results"), "rescore"])
    assert result.exit_code == 1, result.output  # "label 7" was a ValueError traceback, "duplicated id" 0 differ
    assert f"cannot rescore {run.path}: {path}" in result.output and EDITS[how][1] in result.output
    assert "1 runs rescored, 0 differ from their stored metrics, 1 cannot be rescored" in result.output


def test_submit_checks_the_run_against_the_tasks_test_split(work: Path) -> None:
    """A run made on other test data (the file changed since) would give a submission that
    misses posts and names posts the organisers do not have: refused, naming both."""
    run = _run(work)
    task_file = work / "tasks" / "tiny" / "task.toml"
    test = task_file.parent / "data" / "test.tsv"
    lines = test.read_text(encoding="utf-8").splitlines()
    test.write_text("\n".join([lines[0], *lines[2:], "t-new\tsomething else entirely\t0"]) + "\n", encoding="utf-8")
    with pytest.raises(FailureError) as exc:
        write_submission(run, load_task(task_file), work / "subs")
    dropped = lines[1].split("\t")[0]
    assert "does not match the test split of task 'tiny' (test.tsv): 1 of its 6 posts have no prediction ('t-new')" \
           in str(exc.value)
    assert f"1 predictions are for posts it does not have ('{dropped}')" in str(exc.value)
    assert not (work / "subs").exists()
    test.unlink()  # the data is not here: the run's own record is what is checked
    written = write_submission(run, load_task(task_file), work / "subs")
    assert written.is_file()


def test_a_whole_run_still_gives_its_submission(work: Path) -> None:
    run = _run(work)
    result = CliRunner().invoke(cli, ["--results", str(work / "results"), "submit", "--run", str(run.path),
                                      "--out", str(work / "subs")])
    assert result.exit_code == 0, result.output
    assert (work / "subs" / "tiny" / run.path.name / "prediction_tiny.zip").is_file()
