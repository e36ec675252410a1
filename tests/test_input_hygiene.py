"""Smaller input checks (issue 30, item 18): --seeds is capped and takes ASCII digits only; a NUL in
a post is refused, other control characters and U+2028 in posts and spaces (NBSP too) around labels
are counted; a dev or test post with a training post's id or text is reported as a leak; a header
with an empty or repeated column name is refused."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from alexbench.cli.app import parse_seeds
from alexbench.cli.main import cli
from alexbench.config.seeds import MAX_SEEDS
from alexbench.config.tasks import load_task
from alexbench.config.variants import ComponentSpec, VariantSpec
from alexbench.data.splits import load_dataset
from alexbench.errors import DataError
from alexbench.plugin.host import PluginHost
from alexbench.run.runner import Runner
from alexbench.run.store import ResultsStore


def _lines(task_file: Path, split: str) -> tuple[Path, list[str]]:
    path = task_file.parent / "data" / f"{split}.tsv"
    return path, path.read_text(encoding="utf-8").splitlines()


def _write(path: Path, lines: list[str]) -> None:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def _validate(task_file: Path):
    return CliRunner().invoke(cli, ["validate", str(task_file)])


# --seeds ---------------------------------------------------------------------------------------

def test_a_huge_seed_range_is_refused_at_once_with_the_cap() -> None:
    """It used to expand (quadratically) and hang; now a usage error, before anything runs."""
    result = subprocess.run([sys.executable, "-m", "alexbench", "run", "-t", "demo", "-v", "majority",
                             "--seeds", "0-100000000"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert f"gives more than {MAX_SEEDS} seeds" in result.stderr and "Traceback" not in result.stderr
    with pytest.raises(click.BadParameter, match=f"more than {MAX_SEEDS}"):
        parse_seeds(None, None, f"0,1-{MAX_SEEDS}")  # 1001 in all, counted over every part
    assert parse_seeds(None, None, f"1-{MAX_SEEDS}") == list(range(1, MAX_SEEDS + 1))  # the cap itself is fine


@pytest.mark.parametrize("seeds", ["\u0661", "1-\u0663", "\u0661,2", "\uff11"])  # Arabic-Indic and fullwidth digits
def test_seeds_take_ascii_digits_only(seeds: str) -> None:
    with pytest.raises(click.BadParameter, match="ASCII digits"):
        parse_seeds(None, None, seeds)
    result = CliRunner().invoke(cli, ["run", "-t", "demo", "-v", "majority", "--seeds", seeds])
    assert result.exit_code == 2 and "is not a seed or a range of seeds" in result.output


# headers ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("header", "message"), [
    ("tweet_id\ttext\tlabel\t", "column 4 of the header ['tweet_id', 'text', 'label', ''] has no name"),
    ("tweet_id\t\ttext\tlabel", "column 2 of the header"),
    ("tweet_id\ttext\tlabel\ttext", "column name 'text' is in the header twice (columns 2 and 4)"),
])
def test_a_header_with_an_empty_or_repeated_column_name_is_refused(tiny_task_file: Path, header: str,
                                                                   message: str) -> None:
    path, lines = _lines(tiny_task_file, "dev")
    extra = header.count("\t") - 2
    _write(path, [header, *(line + "\tx" * extra for line in lines[1:])])
    with pytest.raises(DataError) as exc:
        load_dataset(load_task(tiny_task_file))
    assert str(exc.value).startswith(f"{path}:1:") and message in str(exc.value)
    result = _validate(tiny_task_file)
    assert result.exit_code == 2 and message in result.output


# characters ------------------------------------------------------------------------------------

def test_a_nul_in_a_post_is_refused_with_its_line(tiny_task_file: Path) -> None:
    path, lines = _lines(tiny_task_file, "train")
    post_id, text, label = lines[3].split("\t")
    lines[3] = f"{post_id}\t{text[:5]}\x00{text[5:]}\t{label}"
    _write(path, lines)
    with pytest.raises(DataError, match=rf"^{path}:4: text: a NUL character"):
        load_dataset(load_task(tiny_task_file))


def test_control_characters_line_separators_and_padded_labels_are_counted(tiny_task_file: Path,
                                                                          tmp_path: Path) -> None:
    path, lines = _lines(tiny_task_file, "train")
    rows = [line.split("\t") for line in lines]
    rows[1][1] += " \x1b[2J\x1b[31mred"  # ESC: a screen clear and a colour
    rows[2][1] += "\x07"                   # BEL
    rows[3][1] += "\u2028second line"       # Unicode line separator
    rows[4][2] += "\u00a0"                 # NBSP after the label
    rows[5][2] += "  "                     # trailing spaces
    _write(path, ["\t".join(r) for r in rows])
    task = load_task(tiny_task_file)
    data = load_dataset(task)
    report = data.splits["train"].report
    assert (report.control_char_posts, report.line_separator_posts, report.trimmed_labels) == (2, 1, 2)
    assert data.train[0].text.endswith("\x1b[31mred")  # kept as it is: it is the text
    assert {p.label for p in data.train} == {"0", "1"}  # trimmed
    assert [data.splits[s].report.control_char_posts for s in ("dev", "test")] == [0, 0]
    result = _validate(tiny_task_file)
    assert result.exit_code == 0, result.output
    assert ("2 posts with control characters; 1 posts with U+2028/U+2029 line separators; "
            "2 labels with spaces around them trimmed") in result.output
    outcome = Runner(PluginHost(), ResultsStore(tmp_path / "results"), show_progress=False).run(
        task, VariantSpec("majority", ComponentSpec("majority")), 1)
    recorded = outcome.run.provenance()["data"]["train"]
    assert (recorded["control_char_posts"], recorded["line_separator_posts"], recorded["trimmed_labels"]) == (2, 1, 2)


def test_an_nbsp_inside_a_label_is_an_unknown_label(tiny_task_file: Path) -> None:
    path, lines = _lines(tiny_task_file, "test")
    post_id, text, _ = lines[2].split("\t")
    lines[2] = f"{post_id}\t{text}\t\u00a01\u00a00"
    _write(path, lines)
    with pytest.raises(DataError, match=rf"^{path}:3: label"):
        load_dataset(load_task(tiny_task_file))


# leaks -----------------------------------------------------------------------------------------

def test_a_test_post_with_a_train_id_or_text_is_reported_as_a_leak(tiny_task_file: Path, tmp_path: Path) -> None:
    _, train = _lines(tiny_task_file, "train")
    test_path, test = _lines(tiny_task_file, "test")
    first, second = train[1].split("\t"), train[2].split("\t")
    test[1] = "\t".join([first[0], "a text of its own, nowhere in train", test[1].split("\t")[2]])  # the same id
    test[2] = "\t".join(["t-copy", second[1], second[2]])  # the same text
    _write(test_path, test)
    task = load_task(tiny_task_file)
    data = load_dataset(task)
    assert data.overlap == {"test": {"same_id": 1, "same_text": 1, "examples": [first[0], "t-copy"]}}
    result = _validate(tiny_task_file)
    assert result.exit_code == 0, result.output
    assert "leak:" in result.output and "test: 1 posts have the id and 1 the text of a train post" in result.output
    assert f"e.g. {first[0]}, t-copy" in result.output and "dev: 0" not in result.output
    outcome = Runner(PluginHost(), ResultsStore(tmp_path / "results"), show_progress=False).run(
        task, VariantSpec("majority", ComponentSpec("majority")), 1)
    recorded = json.loads((outcome.run.path / "provenance.json").read_text(encoding="utf-8"))["data"]
    assert recorded["test"]["train_overlap"] == {"same_id": 1, "same_text": 1, "examples": [first[0], "t-copy"]}
    assert "train_overlap" not in recorded["dev"]


def test_clean_splits_report_no_leak(tiny_task_file: Path) -> None:
    assert load_dataset(load_task(tiny_task_file)).overlap == {}
    assert "leak" not in _validate(tiny_task_file).output
