"""Task files: every shipped definition is valid; bad files fail naming file and field."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from alexbench.config.tasks import TaskCatalog, load_task, validate_metric
from alexbench.errors import DataMissingError, TaskFileError, UnknownNameError
from alexbench.plugin.host import PluginHost

from .conftest import REPO, TINY_TASK


def test_every_shipped_task_file_is_valid(host) -> None:
    catalog = TaskCatalog(host.task_dirs())
    names = catalog.names()
    for expected in ("demo", "smm4h23_task1", "smm4h23_task2", "smm4h23_task4",
                     "smm4h22_task2_stance", "smm4h22_task2_premise", "constraint2021"):
        assert expected in names
    for name in names:
        task = catalog.load(name)
        validate_metric(task, host.metrics.names())
        assert task.path.is_relative_to(REPO / "plugins" / "alexbench_tasks" / "tasks")


def test_smm4h23_definitions_match_the_shared_tasks(host) -> None:
    catalog = TaskCatalog(host.task_dirs())
    t1, t2, t4 = (catalog.load(n) for n in ("smm4h23_task1", "smm4h23_task2", "smm4h23_task4"))
    assert (t1.official_metric, t1.positive, t1.submission.file) == ("f1_positive", "1", "prediction_task1.tsv")
    assert t1.submission.id_column == "tweet_id" and t1.submission.delimiter == "\t"
    assert set(t2.labels) == {"positive", "negative", "neutral"} and t2.official_metric == "micro_f1"
    assert t2.extra_keys == ("therapy",)
    assert t4.official_metric == "f1_positive" and t4.labels == ("0", "1")


def test_missing_data_says_where_to_put_it(host, tmp_path: Path) -> None:
    task = TaskCatalog(host.task_dirs(), data_root=tmp_path).load("smm4h23_task1")
    with pytest.raises(DataMissingError) as exc:
        task.check_data()
    message = str(exc.value)
    assert str(tmp_path / "smm4h23_task1" / "train.tsv") in message
    assert "organisers" in message and "ALEXBENCH_DATA_ROOT" in message


def test_data_root_from_environment(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ALEXBENCH_DATA_ROOT", str(tmp_path))
    task = load_task(REPO / "plugins" / "alexbench_tasks" / "tasks" / "smm4h23" / "task4.toml")
    assert task.data_dir == (tmp_path / "smm4h23_task4").resolve()


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (('positive = "1"', 'positive = "2"'), "labels.positive", "'2' is not one of the labels"),
        (('official = "f1_positive"', "official = 3"), "metric.official", "expected a string"),
        (('file = "train.tsv"', 'file = "../../etc/passwd"'), "splits.train.file", "inside the task's data folder"),
        (('file = "train.tsv"', 'file = "/etc/passwd"'), "splits.train.file", "inside the task's data folder"),
        (('id = "tweet_id"', 'idd = "tweet_id"'), "columns.idd", "Did you mean 'id'?"),
        (('values = ["0", "1"]', 'values = ["0"]'), "labels.values", "at least two distinct labels"),
        (('[splits.dev]\nfile = "dev.tsv"', '[splits.dev]\nfrom = "train"\nfraction = 1.5'), "splits.dev.fraction", "between 0 and 1"),
        (('name = "tiny"', 'name = "has space"'), "task.name", "must be a name of letters, digits"),
        (('name = "tiny"', 'name = ".."'), "task.name", "not starting with '.'"),
    ],
)
def test_bad_task_files_name_file_and_field(tmp_path: Path, change: tuple[str, str], field: str, message: str) -> None:
    assert change[0] in TINY_TASK
    path = _write(tmp_path, TINY_TASK.replace(change[0], change[1], 1))
    with pytest.raises(TaskFileError) as exc:
        load_task(path)
    assert exc.value.path == path and exc.value.field == field
    assert str(path) in str(exc.value) and message in str(exc.value)


def test_missing_split_and_toml_syntax_error(tmp_path: Path) -> None:
    path = _write(tmp_path, TINY_TASK.replace('[splits.test]\nfile = "test.tsv"\n', ""))
    with pytest.raises(TaskFileError, match=r"splits.test: is required"):
        load_task(path)
    path = _write(tmp_path, TINY_TASK.replace('title = "Tiny test task"', 'title = "unclosed'))
    with pytest.raises(TaskFileError, match=r"not valid TOML.*line 3"):
        load_task(path)


def test_unknown_official_metric_suggests_a_name(host, tmp_path: Path) -> None:
    task = load_task(_write(tmp_path, TINY_TASK.replace('"f1_positive"', '"f1_positiv"')))
    with pytest.raises(TaskFileError, match="Did you mean 'f1_positive'"):
        validate_metric(task, host.metrics.names())


def test_catalog_lookup_suggests_a_name(host) -> None:
    with pytest.raises(UnknownNameError, match="Did you mean 'demo'"):
        TaskCatalog(host.task_dirs()).load("dem")


def test_plugin_task_dirs_and_task_path_env(tiny_task_file: Path, tmp_path: Path, monkeypatch) -> None:
    """alexbench_task_dirs: a plugin's folder is scanned; ALEXBENCH_TASK_PATH comes first."""
    import types

    from alexbench import hookimpl
    from alexbench.plugin.host import PluginHost

    folder = tiny_task_file.parent.parent
    plugin = types.SimpleNamespace(alexbench_task_dirs=hookimpl(lambda: [folder]))
    host = PluginHost(plugins=[("extra-tasks", plugin)])
    assert host.task_dirs()[-1] == folder.resolve()
    assert TaskCatalog(host.task_dirs()).load("tiny").path == tiny_task_file.resolve()

    shadow = tmp_path / "mine" / "demo.toml"
    shadow.parent.mkdir()
    shadow.write_text(TINY_TASK.replace('name = "tiny"', 'name = "demo"'))
    monkeypatch.setenv("ALEXBENCH_TASK_PATH", str(shadow.parent))
    catalog = TaskCatalog(PluginHost().task_dirs())
    assert catalog.path("demo") == shadow  # the user's task of the same name wins


def test_an_unreadable_file_on_the_task_path_blocks_nothing_else(tmp_path: Path, tiny_task_file: Path,
                                                                 monkeypatch) -> None:
    """One broken TOML (or a folder named *.toml) on ALEXBENCH_TASK_PATH is skipped with a warning
    naming it; built-in tasks and tasks given by path work; a name it might have defined says so."""
    import subprocess
    import sys

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "broken.toml").write_text('[task]\nname = "mytask"\ntitle = "unclosed\n')
    (mine / "latin1.toml").write_bytes(b'[task]\nname = "caf\xe9"\n')
    (mine / "folder.toml").mkdir()
    env = {**os.environ, "ALEXBENCH_TASK_PATH": str(mine)}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "alexbench", *args], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=300)

    listing = run("tasks")
    assert listing.returncode == 0 and "demo" in listing.stdout, listing.stderr
    assert f"warning: skipped {mine / 'broken.toml'}: not valid TOML" in listing.stderr
    assert f"skipped {mine / 'latin1.toml'}: not UTF-8" in listing.stderr
    assert f"skipped {mine / 'folder.toml'}: cannot be read" in listing.stderr
    by_path = run("run", "-t", str(tiny_task_file), "-v", "majority", "--no-progress")
    assert by_path.returncode == 0, by_path.stderr
    builtin = run("grid", "demo-baselines", "--no-progress", "--bootstrap", "20")
    assert builtin.returncode == 0, builtin.stderr
    missing = run("run", "-t", "mytask", "-v", "majority")
    assert missing.returncode == 2 and "unknown task 'mytask'" in missing.stderr
    assert "3 file(s) in the task folders could not be read" in missing.stderr and "broken.toml" in missing.stderr
    monkeypatch.setenv("ALEXBENCH_TASK_PATH", str(mine))
    catalog = TaskCatalog(PluginHost().task_dirs())
    assert len(catalog.problems) == 3 and "demo" in catalog.names()


GOOD_REF = '\n[[references]]\nname = "Best 2022"\nscore = 0.661\nsource = "Team X, SMM4H 2022, Table 3"\n'


@pytest.mark.parametrize(
    ("refs", "field", "message"),
    [
        (GOOD_REF.replace("0.661", '"0.661"'), "references[0].score", "expected a number, got '0.661'"),
        (GOOD_REF.replace('source = "Team X, SMM4H 2022, Table 3"\n', ""), "references[0].source", "is required"),
        (GOOD_REF.replace('source = "Team X, SMM4H 2022, Table 3"', 'source = " "'), "references[0].source",
         "must cite where the score is published"),
        (GOOD_REF.replace("score", "scor"), "references[0].scor", "Did you mean 'score'?"),
        (GOOD_REF + 'split = "validation"\n', "references[0].split", "must be one of 'train', 'dev', 'test'"),
        (GOOD_REF + GOOD_REF, "references[1].name", "'Best 2022' is listed twice"),
        (GOOD_REF.replace("0.661", "nan"), "references[0].score", "must be a finite number"),
        ('\n[references]\nname = "x"\n', "references", "expected an array"),
        ("TOP:references = [1]\n", "references[0]", "expected a table ([[references]]"),
    ],
)
def test_bad_references_name_file_and_field(tmp_path: Path, refs: str, field: str, message: str) -> None:
    text = refs.removeprefix("TOP:") + TINY_TASK if refs.startswith("TOP:") else TINY_TASK + refs
    path = _write(tmp_path, text)
    with pytest.raises(TaskFileError) as exc:
        load_task(path)
    assert exc.value.path == path and exc.value.field == field, str(exc.value)
    assert message in str(exc.value)


def test_references_are_read_and_validate_prints_them(tmp_path: Path, tiny_task_file: Path) -> None:
    import subprocess
    import sys

    path = tiny_task_file.parent / "with_refs.toml"
    path.write_text(tiny_task_file.read_text() + GOOD_REF + 'note = "participant-reported"\n')
    (ref,) = load_task(path).references
    assert (ref.name, ref.score, ref.split, ref.note) == ("Best 2022", 0.661, "test", "participant-reported")
    done = subprocess.run([sys.executable, "-m", "alexbench", "validate", str(path)], capture_output=True, text=True)
    assert done.returncode == 0 and "published: Best 2022 f1_positive 0.661 on test (participant-reported)" in done.stdout
    bad = tiny_task_file.parent / "bad_refs.toml"
    bad.write_text(tiny_task_file.read_text() + GOOD_REF.replace("0.661", '"high"'))
    done = subprocess.run([sys.executable, "-m", "alexbench", "validate", str(bad)], capture_output=True, text=True)
    assert done.returncode == 2 and f"{bad}: references[0].score: expected a number" in done.stderr, done.stderr
