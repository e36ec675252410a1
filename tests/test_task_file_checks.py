"""Task-file fields that used to pass and then fail with a traceback, or silently read the wrong
thing (issue 30, item 12): column numbers of a header-less file and delimiters."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from alexbench.cli.main import cli
from alexbench.config.tasks import load_task
from alexbench.data.splits import load_dataset, read_split_file
from alexbench.errors import DataError, TaskFileError

from .conftest import make_tiny_task


def _headerless(task_file: Path, label: str = "2", own: str | None = None) -> Path:
    """The tiny task with header-less data files (their header lines removed) and its columns
    named by number; ``own`` gives the train split its own columns table instead."""
    for name in ("train", "dev", "test"):
        data = task_file.parent / "data" / f"{name}.tsv"
        data.write_text("".join(data.read_text(encoding="utf-8").splitlines(keepends=True)[1:]), encoding="utf-8")
    text = task_file.read_text(encoding="utf-8")
    text = text.replace('id = "tweet_id"', 'id = "0"').replace('text = "text"', 'text = "1"')
    text = text.replace('label = "label"', f'label = "{label}"').replace("[columns]", "[format]\nheader = false\n\n[columns]")
    if own is not None:
        text = text.replace('[splits.train]\nfile = "train.tsv"', f'[splits.train]\nfile = "train.tsv"\ncolumns = {own}')
    task_file.write_text(text, encoding="utf-8")
    return task_file


def test_a_headerless_file_is_read_by_column_number(tiny_task_file: Path) -> None:
    data = load_dataset(load_task(_headerless(tiny_task_file)))
    assert [len(data.train), len(data.dev), len(data.test)] == [18, 6, 6]
    assert data.train[0].id == "p1" and data.train[0].label == "1"


@pytest.mark.parametrize("number", ["-1", "\u0663", "label", "1.0", " 2"])
def test_a_column_that_is_not_a_number_from_0_is_refused_when_the_task_is_read(tiny_task_file: Path, tmp_path: Path,
                                                                               number: str) -> None:
    path = _headerless(tiny_task_file, number)
    with pytest.raises(TaskFileError) as exc:
        load_task(path)
    assert exc.value.field == "columns.label" and f"{number!r} is not a column number" in str(exc.value)
    own = _headerless(make_tiny_task(tmp_path / "own"), "2", own=f'{{ label = "{number}" }}')
    with pytest.raises(TaskFileError) as exc:  # a split's own column is named in the split's table
        load_task(own)
    assert exc.value.field == "splits.train.columns.label", str(exc.value)


def test_a_column_number_past_the_rows_width_names_file_line_and_column(tiny_task_file: Path) -> None:
    task = load_task(_headerless(tiny_task_file, "9"))
    path = task.split_path("train")
    with pytest.raises(DataError) as exc:  # was an IndexError
        read_split_file(path, task.splits["train"], task.labels)
    assert (exc.value.path, exc.value.line) == (path, 1)
    assert "columns.label = '9': there is no column 9, the row has 3 fields (columns 0 to 2; no header)" in str(exc.value)
    result = CliRunner().invoke(cli, ["validate", str(tiny_task_file)])
    assert result.exit_code == 2 and f"{path}:1: columns.label = '9'" in result.output


@pytest.mark.parametrize(("table", "value", "message"), [
    ("submission", '""', "must be one character, got ''"),
    ("submission", '"::"', "must be one character, got '::'"),
    ("submission", '"\\""', "must not be the quote character"),
    ("submission", '"\\n"', "must not be a line break"),
    ("format", '"\\r"', "must not be a line break"),
    ("format", '"||"', "must be one character"),
])
def test_a_delimiter_that_is_not_one_plain_character_is_refused(tiny_task_file: Path, table: str, value: str,
                                                                message: str) -> None:
    text = tiny_task_file.read_text(encoding="utf-8")
    if table == "submission":
        text += f"delimiter = {value}\n"  # [submission] is the file's last table
    else:
        text = text.replace("[columns]", f"[format]\ndelimiter = {value}\n\n[columns]")
    tiny_task_file.write_text(text, encoding="utf-8")
    with pytest.raises(TaskFileError) as exc:
        load_task(tiny_task_file)
    assert exc.value.field == f"{table}.delimiter" and message in str(exc.value)
    result = CliRunner().invoke(cli, ["validate", "--no-data", str(tiny_task_file)])
    assert result.exit_code == 2 and f"{table}.delimiter: {message}" in result.output


def test_a_one_character_submission_delimiter_is_written_and_read_back(tiny_task_file: Path, tmp_path: Path) -> None:
    tiny_task_file.write_text(tiny_task_file.read_text(encoding="utf-8") + 'delimiter = ";"\nzip = false\n',
                              encoding="utf-8")
    results = tmp_path / "results"
    invoke = CliRunner().invoke
    assert invoke(cli, ["--results", str(results), "run", "-t", str(tiny_task_file), "-v", "majority",
                        "--no-progress"]).exit_code == 0
    [run] = (results / "runs" / "tiny" / "majority").iterdir()
    written = invoke(cli, ["--results", str(results), "submit", "--run", str(run), "--out", str(tmp_path / "subs")])
    assert written.exit_code == 0, written.output
    [sub] = (tmp_path / "subs").rglob("prediction_tiny.tsv")
    assert sub.read_text(encoding="utf-8").splitlines()[:2] == ["tweet_id;label", "tp0;0"]
    scored = invoke(cli, ["score", "--task", str(tiny_task_file), "--gold", str(tiny_task_file.parent / "data" / "test.tsv"),
                          "--pred", str(sub)])
    assert scored.exit_code == 0 and scored.output.startswith("f1_positive:0.000000")


def test_an_empty_column_name_is_refused(tiny_task_file: Path) -> None:
    tiny_task_file.write_text(tiny_task_file.read_text(encoding="utf-8").replace('text = "text"', 'text = ""'),
                              encoding="utf-8")
    with pytest.raises(TaskFileError) as exc:  # it would read an unnamed column of the header
        load_task(tiny_task_file)
    assert exc.value.field == "columns.text" and "must name a column, got ''" in str(exc.value)
