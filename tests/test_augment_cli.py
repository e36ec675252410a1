"""`alexbench setup-data` and `alexbench augment` through click's CliRunner, on real files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from alexbench_augment import nltkdata
from alexbench_augment.commands import setup_data
from click.testing import CliRunner

from alexbench.cli.augment import augment, parse_param


def test_setup_data_builds_then_reports_nothing_to_do(tmp_path: Path) -> None:
    if not (nltkdata.DEBIAN_WORDNET / "data.noun").is_file():
        pytest.skip("Debian wordnet-base not installed")
    target = tmp_path / "nltk"
    first = CliRunner().invoke(setup_data, ["--dir", str(target)])
    assert first.exit_code == 0, first.output
    assert "copied 14 WordNet files" in first.output and "wrote corpora/wordnet/lexnames" in first.output
    second = CliRunner().invoke(setup_data, ["--dir", str(target)])
    assert second.exit_code == 0 and "already set up: nothing to do" in second.output


def test_setup_data_error_names_the_package(tmp_path: Path) -> None:
    result = CliRunner().invoke(setup_data, ["--dir", str(tmp_path / "n"), "--wordnet-dir", str(tmp_path / "none")])
    assert result.exit_code == 1 and "apt-get install wordnet-base" in result.output


def test_augment_preview_shows_counts_examples_and_drops(tiny_task_file: Path) -> None:
    result = CliRunner().invoke(augment, ["-t", str(tiny_task_file), "-a", "nlpaug_keyboard", "-p", "n=3",
                                          "-p", "balance=ratio", "-p", "grow=1", "--seed", "2", "--examples", "3"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "train class counts" in out and "before" in out and "after" in out
    assert "examples (3)" in out and "original" in out and "augmented" in out
    assert "dropped by the host:" in out and "augmentation errors: 0" in out
    # 6 positives ×3 = 18 possible copies; 1:1 with 12 negatives keeps 6: only those are made, nothing is cut
    assert "copies: 18 could be made (source posts × n), 6 were needed" in out and "undersampled" not in out


def test_augment_preview_json(tiny_task_file: Path) -> None:
    result = CliRunner().invoke(augment, ["-t", str(tiny_task_file), "-a", "resample", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["host"]["before"] == {"0": 12, "1": 6} and data["host"]["after"] == {"0": 12, "1": 12}
    assert data["copies"] == 6 and data["examples"] == []


def test_augment_preview_rejects_unknown_names(tiny_task_file: Path) -> None:
    result = CliRunner().invoke(augment, ["-t", str(tiny_task_file), "-a", "nlpaug_keybord"])
    assert result.exit_code == 2 and "Did you mean 'nlpaug_keyboard'" in result.output


def test_parse_param() -> None:
    assert parse_param("n=10") == ("n", 10)
    assert parse_param("ratio=1.5") == ("ratio", 1.5)
    assert parse_param("normalise=false") == ("normalise", False)
    assert parse_param("preset=smm4h23_task1") == ("preset", "smm4h23_task1")
